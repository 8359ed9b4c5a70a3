/// Rewrites SQLite-style `?` and `?NNN` placeholders into PostgreSQL's `$1, $2, …`, so that most store
/// statements can be written once for both backends.
///
/// A `?` inside a string literal (`'…'`), a quoted identifier (`"…"`), a dollar-quoted body
/// (`$$…$$`, `$tag$…$tag$`) or a comment (`--…`, `/*…*/`) is left alone. Statements that use
/// jsonb's `?` operators must be written with `$n` and no `?` placeholders.
public enum PostgresPlaceholders {
  /// `sql` with each free-standing `?` replaced by the next `$n`.
  public static func numbered(_ sql: String) -> String {
    let bytes = Array(sql.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count + 16)
    var index = 0
    var next = 1
    func copy(until end: Int) {
      out.append(contentsOf: bytes[index..<min(end, bytes.count)])
      index = min(end, bytes.count)
    }
    while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: "'"), UInt8(ascii: "\""):
        var end = index + 1
        while end < bytes.count {
          if bytes[end] == byte {
            if end + 1 < bytes.count, bytes[end + 1] == byte { end += 2; continue }
            break
          }
          end += 1
        }
        copy(until: end + 1)
      case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-"):
        var end = index
        while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
        copy(until: end)
      case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
        var end = index + 2
        while end + 1 < bytes.count, !(bytes[end] == UInt8(ascii: "*") && bytes[end + 1] == UInt8(ascii: "/")) {
          end += 1
        }
        copy(until: end + 2)
      case UInt8(ascii: "$"):
        // A dollar quote: $$ or $tag$ (tag: letters, digits, underscores, not starting with a digit).
        var tagEnd = index + 1
        while tagEnd < bytes.count, isTagByte(bytes[tagEnd]) { tagEnd += 1 }
        let startsWithDigit = tagEnd > index + 1 && (48...57).contains(bytes[index + 1])
        guard tagEnd < bytes.count, bytes[tagEnd] == UInt8(ascii: "$"), !startsWithDigit else {
          copy(until: index + 1)
          continue
        }
        let tag = Array(bytes[index...tagEnd])
        var end = tagEnd + 1
        while end + tag.count <= bytes.count, Array(bytes[end..<end + tag.count]) != tag { end += 1 }
        copy(until: end + tag.count)
      case UInt8(ascii: "?"):
        // `?NNN` keeps its number; a bare `?` takes the largest so far plus one (SQLite's rule).
        var end = index + 1
        while end < bytes.count, (48...57).contains(bytes[end]) { end += 1 }
        if end > index + 1, let number = Int(String(decoding: bytes[(index + 1)..<end], as: UTF8.self)) {
          out.append(contentsOf: Array("$\(number)".utf8))
          next = max(next, number + 1)
          index = end
        } else {
          out.append(contentsOf: Array("$\(next)".utf8))
          next += 1
          index += 1
        }
      default:
        out.append(byte)
        index += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  private static func isTagByte(_ byte: UInt8) -> Bool {
    (65...90).contains(byte) || (97...122).contains(byte) || (48...57).contains(byte) || byte == 95
      || byte >= 128
  }
}
