import EvctlCore

/// One line of a full-screen view: text segments, each with an optional SGR colour, cut to the
/// window's width by what shows (escape codes take no column).
struct ScreenLine {
  var segments: [(text: String, style: String?)] = []
  /// An SGR code for the whole line (`7`: reverse video for the selected row and headers).
  var lineStyle: String?

  init(_ text: String = "", style: String? = nil) {
    if !text.isEmpty { segments.append((text, style)) }
  }

  /// Appends `text`; control characters from the store are shown escaped.
  mutating func add(_ text: String, style: String? = nil) {
    segments.append((PrintableText.escaped(text), style))
  }

  /// Appends `text` padded or cut to `width` columns.
  mutating func add(_ text: String, width: Int, style: String? = nil, right: Bool = false) {
    add(ScreenLine.fit(text, width, right: right), style: style)
  }

  /// `text` padded with spaces or cut (ending in `…`) to exactly `width` characters.
  static func fit(_ text: String, _ width: Int, right: Bool = false) -> String {
    let text = PrintableText.escaped(text)
    guard width > 0 else { return "" }
    if text.count > width { return String(text.prefix(max(0, width - 1))) + "…" }
    let pad = String(repeating: " ", count: width - text.count)
    return right ? pad + text : text + pad
  }

  /// The line as terminal output for `width` columns, with colour or without.
  func rendered(width: Int, color: Bool) -> String {
    var out = ""
    var left = width
    if color, let lineStyle { out += "\u{1B}[\(lineStyle)m" }
    for segment in segments where left > 0 {
      let piece = segment.text.count > left ? String(segment.text.prefix(left)) : segment.text
      left -= piece.count
      if color, let style = segment.style {
        out += "\u{1B}[\(style)m" + piece + "\u{1B}[0m"
        if let lineStyle { out += "\u{1B}[\(lineStyle)m" }
      } else {
        out += piece
      }
    }
    // The selected row and headers are shown across the whole width.
    if lineStyle != nil, left > 0 { out += String(repeating: " ", count: left) }
    if color, lineStyle != nil { out += "\u{1B}[0m" }
    return out
  }

  /// The plain text (tests, and terminals without colour).
  var plain: String { segments.map(\.text).joined() }
}
