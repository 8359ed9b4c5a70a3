/// Makes text from stations and users safe to show on a terminal or in a TSV line.
///
/// Control characters (C0, DEL, C1) would otherwise reach the terminal raw: an escape sequence in a
/// station's vendor name could clear the screen or set the window title. They are written as
/// `\x1b` (C0 and DEL) or `\u009b` (C1); JSON output, which has its own escaping, stays exact.
public enum PrintableText {
  /// Whether `text` holds no control character (tab and newline count as control characters).
  public static func isPrintable(_ text: String) -> Bool {
    !text.unicodeScalars.contains { isControl($0) }
  }

  /// `text` with every control character escaped; `keep` names scalars to leave alone
  /// (for example the newlines of a multi-line view).
  public static func escaped(_ text: String, keeping keep: Set<Unicode.Scalar> = []) -> String {
    guard text.unicodeScalars.contains(where: { isControl($0) && !keep.contains($0) }) else { return text }
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      guard isControl(scalar), !keep.contains(scalar) else {
        out.append(scalar)
        continue
      }
      let hex = String(scalar.value, radix: 16)
      let escape = scalar.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" : "") + hex : "\\u00" + hex
      out.append(contentsOf: escape.unicodeScalars)
    }
    return String(out)
  }

  /// Whether `scalar` is a C0 or C1 control character or DEL.
  public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value <= 0x9F)
  }
}
