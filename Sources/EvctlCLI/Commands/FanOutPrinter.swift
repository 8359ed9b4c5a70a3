import EvctlCore
import Glibc

/// Prints a fan-out's results as they arrive (issue 10 item 14): one row per station as it
/// finishes, the same columns for success and failure; a progress line on stderr when stderr is
/// a terminal; a summary line at the end; the failed stations named on stderr.
final class FanOutPrinter {
  private let inv: Invocation
  private let renderer: Renderer
  private let total: Int
  private let action: String
  private let widths: [Int]
  private let progress: Bool
  private var done = 0
  private var failed: [String] = []
  private var progressShown = false

  init(_ inv: Invocation, stations: [Station], action: String) {
    self.inv = inv
    renderer = inv.context.renderer()
    total = stations.count
    self.action = action
    let wide = renderer.format == .wide
    let identity = max(7, stations.map(\.identity.count).max() ?? 0)
    widths = [identity, max(6, action.count), 9, 12, 10] + (wide ? [10] : [])
    progress = !inv.context.isQuiet && isatty(STDERR_FILENO) == 1
      && inv.context.console.environment["TERM"] != "dumb"
    guard !inv.context.isQuiet, renderer.showHeaders else { return }
    let keys = ["station", "action", "state", "status", "latency_ms", "detail"]
      + (wide ? ["command_id"] : [])
    switch renderer.format {
    case .csv: write(CSVWriter.line(keys) + "\r\n")
    case .table, .wide: write(line(keys.map { $0.replacingOccurrences(of: "_", with: " ").uppercased() }))
    default: break
    }
  }

  /// A station that could not be sent to (offline without --queue).
  func offline(_ station: Station, message: String, queued: Bool) {
    row([station.identity, action, "offline", "", "", message, ""], ok: false, station: station.identity)
  }

  /// A command that reached its end (or stays queued with --queue).
  func finished(_ command: RemoteCommand, queued: Bool) {
    let ok = command.state == .accepted || (queued && command.state == .queued)
    row(
      [command.stationIdentity, command.action,
       command.state == .sent ? "unknown" : command.state.rawValue, command.status ?? "",
       command.latencyMilliseconds.map(String.init) ?? "", Remote.detail(command) ?? "",
       String(command.id)],
      ok: ok, station: command.stationIdentity)
  }

  /// The summary line, and the failed stations by name.
  func summary() {
    clearProgress()
    let console = inv.context.console
    if !inv.context.isQuiet {
      console.diagnose("\(action): \(total) station\(total == 1 ? "" : "s"), \(total - failed.count) ok, \(failed.count) failed")
    }
    if !failed.isEmpty {
      console.diagnose("error: \(action) failed on \(failed.count) of \(total) stations: \(failed.joined(separator: ", "))")
    }
  }

  private func row(_ cells: [String], ok: Bool, station: String) {
    done += 1
    if !ok { failed.append(station) }
    guard !inv.context.isQuiet else { return }
    clearProgress()
    let shown = renderer.format == .wide || renderer.format == .tsv || renderer.format == .csv
      ? cells : Array(cells.dropLast())
    switch renderer.format {
    case .csv: write(CSVWriter.line(shown) + "\r\n")
    case .tsv: write(shown.map(Renderer.escapeTSV).joined(separator: "\t") + "\n")
    default: write(line(shown.map { $0.isEmpty ? "<none>" : Renderer.oneLine($0) }))
    }
    if progress, done < total {
      inv.context.console.writeError("\(done)/\(total) done, \(failed.count) failed")
      progressShown = true
    }
  }

  private func line(_ cells: [String]) -> String {
    var out = ""
    for (index, cell) in cells.enumerated() {
      if index == cells.count - 1 || index >= widths.count {
        out += cell + (index == cells.count - 1 ? "" : "  ")
      } else {
        out += cell + String(repeating: " ", count: max(widths[index] - cell.count, 0) + 2)
      }
    }
    return out + "\n"
  }

  private func clearProgress() {
    guard progressShown else { return }
    inv.context.console.writeError("\r\u{1b}[K")
    progressShown = false
  }

  private func write(_ text: String) { inv.context.console.writeOut(text) }
}
