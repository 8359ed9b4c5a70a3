import EvctlCore

/// Turns values into table, wide, TSV, CSV or JSON text.
public struct Renderer: Sendable {
  public let format: OutputFormat
  public let showHeaders: Bool
  public let color: Bool
  /// The terminal width plain `table` output fits into by shortening long cells (`…`); `nil`:
  /// no limit. `wide` never shortens.
  public var width: Int? = nil
  /// How plain tables show times and durations.
  public var people: PeopleTime = PeopleTime(now: .now(), zone: try! LocalTime(identifier: nil))

  /// The cell as `table` or `wide` shows it: the people's form in `table`, control characters
  /// escaped, on one line.
  func cell<T>(_ column: Column<T>, _ item: T) -> String {
    let text = (format == .table ? column.human.map { $0(item, people) } ?? column.value(item) : column.value(item))
    guard let text else { return "<none>" }
    let line = Renderer.oneLine(text)
    return column.painted ? line : PrintableText.escaped(line)
  }

  /// Renders a list: a table, lines, or a JSON array.
  public func list<T>(_ items: [T], columns: [Column<T>], json: (T) -> JSONValue) -> String {
    switch format {
    case .json: return JSONValue.array(items.map(json)).pretty + "\n"
    case .csv:
      var lines: [String] = []
      if showHeaders { lines.append(CSVWriter.line(columns.map(\.key))) }
      for item in items { lines.append(CSVWriter.line(columns.map { $0.value(item) ?? "" })) }
      return lines.map { $0 + "\r\n" }.joined()
    case .tsv:
      let body = items.map { item in
        columns.map { Renderer.escapeTSV($0.value(item) ?? "") }.joined(separator: "\t") + "\n"
      }.joined()
      return (showHeaders ? columns.map(\.key).joined(separator: "\t") + "\n" : "") + body
    case .table, .wide:
      let shown = format == .wide ? columns : columns.filter(\.brief)
      var rows: [[String]] = []
      if showHeaders {
        rows.append(shown.map { $0.key.replacingOccurrences(of: "_", with: " ").uppercased() })
      }
      for item in items {
        rows.append(shown.map { cell($0, item) })
      }
      if format == .table, let width {
        return Renderer.align(Renderer.fit(rows, into: width, fixed: shown.map { !$0.flexible }))
      }
      return Renderer.align(rows)
    }
  }

  /// Renders one object: `KEY: value` lines in tables, an object in JSON, one row otherwise.
  public func one<T>(_ item: T, columns: [Column<T>], json: (T) -> JSONValue) -> String {
    switch format {
    case .json: return json(item).pretty + "\n"
    case .csv, .tsv: return list([item], columns: columns, json: json)
    case .table, .wide:
      let width = columns.map(\.key.count).max() ?? 0
      return columns.map { column in
        let label = column.key.replacingOccurrences(of: "_", with: " ").capitalizedFirst + ":"
        let padding = String(repeating: " ", count: width + 2 - label.count + 1)
        return label + padding + cell(column, item) + "\n"
      }.joined()
    }
  }

  /// Aligns rows into columns separated by two spaces.
  static func align(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    var widths = [Int](repeating: 0, count: first.count)
    for row in rows {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], visibleWidth(cell)) }
    }
    return rows.map { row in
      var line = ""
      for (index, cell) in row.enumerated() {
        if index == row.count - 1 {
          line += cell
        } else {
          line += cell + String(repeating: " ", count: widths[index] - visibleWidth(cell) + 2)
        }
      }
      return line + "\n"
    }.joined()
  }

  /// Shortens the widest columns (never below 8 characters, never `fixed` ones: only free text
  /// such as names is ``Column/flexible``) until the rows fit
  /// `width` characters with two spaces between columns.
  static func fit(_ rows: [[String]], into width: Int, fixed: [Bool]) -> [[String]] {
    guard let first = rows.first, !first.isEmpty else { return rows }
    var widths = [Int](repeating: 0, count: first.count)
    for row in rows {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], visibleWidth(cell)) }
    }
    var total = widths.reduce(0, +) + 2 * (widths.count - 1)
    let floor = 8
    while total > width {
      guard let widest = widths.indices.filter({ !fixed[$0] && widths[$0] > floor })
        .max(by: { widths[$0] < widths[$1] })
      else { break }
      let others = widths.indices.filter { $0 != widest && !fixed[$0] }.map { widths[$0] }.max() ?? floor
      let cut = min(total - width, max(1, widths[widest] - max(floor, others)))
      widths[widest] -= cut
      total -= cut
    }
    return rows.map { row in
      row.enumerated().map { index, cell in
        guard !fixed[index], cell.count > widths[index] else { return cell }
        return String(cell.prefix(widths[index] - 1)) + "…"
      }
    }
  }

  /// The number of characters a terminal shows, not counting colour escape sequences.
  static func visibleWidth(_ text: String) -> Int {
    var width = 0
    var inEscape = false
    for scalar in text.unicodeScalars {
      if inEscape {
        if scalar == "m" { inEscape = false }
      } else if scalar == "\u{1B}" {
        inEscape = true
      } else {
        width += 1
      }
    }
    return width
  }

  /// A TSV field: tab, line breaks and backslash as `\t`, `\n`, `\r`, `\\`; other control
  /// characters as `\x1b`.
  static func escapeTSV(_ value: String) -> String {
    guard value.utf8.contains(where: { $0 < 0x20 || $0 == 0x5C || $0 == 0x7F || $0 == 0xC2 }) else {
      return value
    }
    var out = String.UnicodeScalarView()
    for c in value.unicodeScalars {
      switch c {
      case "\t": out += "\\t".unicodeScalars
      case "\n": out += "\\n".unicodeScalars
      case "\r": out += "\\r".unicodeScalars
      case "\\": out += "\\\\".unicodeScalars
      default:
        if PrintableText.isControl(c) {
          out += PrintableText.escaped(String(c)).unicodeScalars
        } else {
          out.append(c)
        }
      }
    }
    return String(out)
  }

  static func oneLine(_ value: String) -> String {
    value.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ")
  }

  /// Wraps a state word in colour when colour is on; control characters in it are escaped.
  public func paint(_ raw: String) -> String {
    let state = PrintableText.escaped(raw)
    guard color else { return state }
    let code: String
    switch state {
    case "online", "Available", "valid", "active", "available": code = "32"
    case "charging", "Charging", "Preparing", "in_use": code = "36"
    case "faulted", "Faulted", "blocked", "expired", "offline", "fault": code = "31"
    case "never_connected", "Unavailable", "not_yet_valid": code = "2"
    default: return state
    }
    return "\u{1B}[\(code)m\(state)\u{1B}[0m"
  }
}

/// Writes RFC 4180 CSV fields.
public enum CSVWriter {
  /// One CSV line (without the line break), quoting fields that need it.
  public static func line(_ fields: [String]) -> String {
    var out = ""
    append(fields, to: &out)
    return out
  }

  /// Appends one CSV line (without the line break) to `out`.
  public static func append(_ fields: [String], to out: inout String) {
    for (index, value) in fields.enumerated() {
      if index > 0 { out += "," }
      out += field(value)
    }
  }

  /// Appends ``field(_:)`` of the UTF-8 text `bytes` (`nil`: an empty field) to `out`: plain
  /// fields are copied as they are, the others go through ``field(_:)``.
  public static func appendField(_ bytes: UnsafeBufferPointer<UInt8>?, to out: inout [UInt8]) {
    guard let bytes, let first = bytes.first else { return }
    var plain = !(first == 0x3D || first == 0x2B || first == 0x40 || first == 0x2D)
    if plain {
      for byte in bytes where byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D {
        plain = false
        break
      }
    }
    if plain {
      out.append(contentsOf: bytes)
    } else {
      out.append(contentsOf: field(String(decoding: bytes, as: UTF8.self)).utf8)
    }
  }

  /// Appends ``field(_:)`` of `value` to `out`.
  public static func appendField(_ value: String?, to out: inout [UInt8]) {
    guard var value else { return }
    value.withUTF8 { appendField($0, to: &out) }
  }

  /// Appends the decimal digits of `value` (what `String(value)` gives; a number is never
  /// quoted by ``field(_:)``) to `out`.
  public static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
    if value < 0 {
      out.append(0x2D)
      if value == .min {
        out.append(contentsOf: "9223372036854775808".utf8)
        return
      }
    }
    var magnitude = value.magnitude
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 20 digits, filled from the end
    var count = 0
    withUnsafeMutableBytes(of: &digits) { raw in
      repeat {
        raw[23 - count] = UInt8(48 + magnitude % 10)
        magnitude /= 10
        count += 1
      } while magnitude > 0
      out.append(contentsOf: raw[(24 - count)...])
    }
  }

  /// One CSV field, quoted when it holds a comma, quote or line break.
  ///
  /// Fields that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) are prefixed with
  /// a single quote, so a hostile value cannot execute on opening.
  public static func field(_ value: String) -> String {
    var text = value
    let (needsQuotes, isFormula) = text.withUTF8 { bytes -> (Bool, Bool) in
      guard let first = bytes.first else { return (false, false) }
      let formula = first == 0x3D || first == 0x2B || first == 0x40 || first == 0x2D
      let quotes = bytes.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
      return (quotes, formula)
    }
    if !needsQuotes, !isFormula { return value }
    if isFormula, !(text.hasPrefix("-") && Double(text) != nil) { text = "'" + text }
    guard needsQuotes else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}

extension String {
  var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
