import EvctlCore

/// A horizontal bar chart for people: one line per bucket, label, bar, value, fitted to the
/// terminal width. Charts never go to stdout with a machine format (see ``ChartOutput``).
struct BarChart {
  /// One bar: what it is, how long it is, and the value in words.
  struct Bar {
    var label: String
    var value: Double
    var text: String
  }

  var title: String
  var bars: [Bar]

  /// Eighths of a block, for bars that show small differences.
  static let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]

  /// The chart in `width` columns: labels up to 30 characters, the longest bar filling what the
  /// labels and values leave (at least 10 columns).
  func render(width: Int) -> String {
    let labels = bars.map { String(PrintableText.escaped($0.label).prefix(30)) }
    let labelWidth = labels.map(\.count).max() ?? 0
    let textWidth = bars.map(\.text.count).max() ?? 0
    let barWidth = max(10, width - labelWidth - 2 - 1 - textWidth - 1)
    let finite = bars.map(\.value).filter { $0.isFinite && $0 > 0 }
    let peak = finite.max() ?? 0
    var out = title.isEmpty ? "" : title + "\n"
    for (index, bar) in bars.enumerated() {
      let share = peak > 0 && bar.value.isFinite ? max(0, min(1, bar.value / peak)) : 0
      let eighths = Int((share * Double(barWidth * 8)).rounded())
      var drawn = String(repeating: "█", count: eighths / 8) + BarChart.partials[eighths % 8]
      if drawn.isEmpty, bar.value > 0 { drawn = "▏" }  // something, however small, is not nothing
      let label = labels[index] + String(repeating: " ", count: labelWidth - labels[index].count)
      out += label + "  " + drawn + (drawn.isEmpty ? "" : " ") + bar.text + "\n"
    }
    return out
  }
}

/// Where a chart goes: after a table on stdout, else on stderr so machine output stays clean.
enum ChartOutput {
  /// Appends `chart` to `out` for table and wide formats; writes it to stderr otherwise.
  static func place(_ chart: String, after out: inout String, renderer: Renderer, console: Console) {
    if renderer.format == .table || renderer.format == .wide {
      out += (out.isEmpty || out.hasSuffix("\n\n") ? "" : "\n") + chart
    } else {
      console.writeError(chart)
    }
  }
}
