import EvctlCore

/// Writes rows as they come for `tsv`, `csv` and `json`, so a report over millions of sessions
/// runs in flat memory; `table` and `wide` collect rows to align them.
final class StreamingWriter<T> {
  let renderer: Renderer
  let columns: [Column<T>]
  let json: (T) -> JSONValue
  let console: Console
  private var buffer = ""
  private var collected: [T] = []
  private var count = 0

  init(renderer: Renderer, columns: [Column<T>], json: @escaping (T) -> JSONValue, console: Console) {
    self.renderer = renderer
    self.columns = columns
    self.json = json
    self.console = console
    switch renderer.format {
    case .csv where renderer.showHeaders:
      buffer = CSVWriter.line(columns.map(\.key)) + "\r\n"
    case .json:
      buffer = "["
    default: break
    }
  }

  /// Adds one row.
  func write(_ item: T) {
    switch renderer.format {
    case .table, .wide:
      collected.append(item)
    case .csv:
      buffer += CSVWriter.line(columns.map { $0.value(item) ?? "" }) + "\r\n"
    case .tsv:
      buffer += columns.map { Renderer.escapeTSV($0.value(item) ?? "") }.joined(separator: "\t") + "\n"
    case .json:
      buffer += (count == 0 ? "\n" : ",\n") + indent(json(item).pretty)
    }
    count += 1
    if buffer.utf8.count >= 1 << 16 {
      console.writeOut(buffer)
      buffer = ""
    }
  }

  /// Writes what is left.
  func finish() {
    switch renderer.format {
    case .table, .wide: buffer += renderer.list(collected, columns: columns, json: json)
    case .json: buffer += count == 0 ? "]\n" : "\n]\n"
    default: break
    }
    console.writeOut(buffer)
    buffer = ""
  }

  private func indent(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
  }
}
