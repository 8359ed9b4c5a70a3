import EvctlCore

/// Writes rows as they come for `tsv`, `csv` and `json`, so a report over millions of sessions
/// runs in flat memory; `table` and `wide` collect rows to align them.
final class StreamingWriter<T> {
  let renderer: Renderer
  let columns: [Column<T>]
  let json: (T) -> JSONValue
  /// Writes one item's JSON object straight into the buffer, nested one level (instead of
  /// building a ``JSONValue`` and printing it): the same text, faster for many rows.
  let jsonBytes: ((T, inout [UInt8]) -> Void)?
  let console: Console
  // One thread writes a report; skip the runtime's exclusivity checks on the hot path.
  @exclusivity(unchecked) private var buffer: [UInt8] = []
  private var collected: [T] = []
  @exclusivity(unchecked) private var count = 0

  init(
    renderer: Renderer, columns: [Column<T>], json: @escaping (T) -> JSONValue,
    jsonBytes: ((T, inout [UInt8]) -> Void)? = nil, console: Console
  ) {
    self.renderer = renderer
    self.columns = columns
    self.json = json
    self.jsonBytes = jsonBytes
    self.console = console
    buffer.reserveCapacity(1 << 19)
    switch renderer.format {
    case .csv where renderer.showHeaders:
      buffer += Array((CSVWriter.line(columns.map(\.key)) + "\r\n").utf8)
    case .tsv where renderer.showHeaders:
      buffer += Array((columns.map(\.key).joined(separator: "\t") + "\n").utf8)
    case .json:
      buffer += [0x5B]
    default: break
    }
  }

  /// Adds one row.
  /// Throws once stdout has failed (a closed pipe, a full disk), so the report stops.
  func write(_ item: T) throws {
    switch renderer.format {
    case .table, .wide:
      collected.append(item)
    case .csv:
      for (index, column) in columns.enumerated() {
        if index > 0 { buffer.append(0x2C) }
        buffer.append(contentsOf: CSVWriter.field(column.value(item) ?? "").utf8)
      }
      buffer += [0x0D, 0x0A]
    case .tsv:
      for (index, column) in columns.enumerated() {
        if index > 0 { buffer.append(0x09) }
        buffer.append(contentsOf: Renderer.escapeTSV(column.value(item) ?? "").utf8)
      }
      buffer.append(0x0A)
    case .json:
      if let jsonBytes {
        buffer.append(contentsOf: (count == 0 ? "\n  " : ",\n  ").utf8)
        jsonBytes(item, &buffer)
      } else {
        buffer.append(contentsOf: ((count == 0 ? "\n" : ",\n") + indent(json(item).pretty)).utf8)
      }
    }
    count += 1
    if buffer.count >= 1 << 16 {
      console.writeOut(bytes: buffer)
      buffer.removeAll(keepingCapacity: true)
      if console.outputFailed { throw CLI.OutputClosed() }
    }
  }

  /// Adds one row that `body` writes as bytes (for CSV written straight from a row, without
  /// the per-column strings of ``write(_:)``). Throws once stdout has failed.
  func writeBytes(_ body: (inout [UInt8]) -> Void) throws {
    body(&buffer)
    count += 1
    if buffer.count >= 1 << 18 {
      console.writeOut(bytes: buffer)
      buffer.removeAll(keepingCapacity: true)
      if console.outputFailed { throw CLI.OutputClosed() }
    }
  }

  /// Writes what is left.
  func finish() {
    switch renderer.format {
    case .table, .wide: buffer += Array(renderer.list(collected, columns: columns, json: json).utf8)
    case .json: buffer += Array((count == 0 ? "]\n" : "\n]\n").utf8)
    default: break
    }
    console.writeOut(bytes: buffer)
    buffer.removeAll()
  }

  private func indent(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
  }
}
