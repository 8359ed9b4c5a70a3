/// One parsed CSV record with the line it started on.
public struct CSVRecord: Sendable, Equatable {
  /// The 1-based line number in the file where the record starts.
  public let line: Int
  /// The fields.
  public let fields: [String]
}

/// Why a CSV text could not be read.
public struct CSVError: Error, Equatable, Sendable {
  /// The 1-based line where the problem is.
  public let line: Int
  /// What is wrong.
  public let reason: String
}

/// Reads RFC 4180 CSV: quoted fields, doubled quotes, embedded line breaks, CRLF or LF.
///
/// A NUL byte anywhere is an error with its line: nothing downstream can store it faithfully.
public enum CSVReader {
  /// Parses `text` into records, skipping blank lines.
  public static func parse(_ text: String) throws(CSVError) -> [CSVRecord] {
    var records: [CSVRecord] = []
    var fields: [String] = []
    var field: [UInt8] = []
    var inQuotes = false
    var afterQuote = false
    var line = 1
    var recordLine = 1
    var bytes = Array(text.utf8)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    var index = 0
    func endRecord() {
      fields.append(String(decoding: field, as: UTF8.self))
      field = []
      if !(fields.count == 1 && fields[0].isEmpty) {
        records.append(CSVRecord(line: recordLine, fields: fields))
      }
      fields = []
    }
    while index < bytes.count {
      let c = bytes[index]
      index += 1
      if c == 0 {
        // SQLite and C strings would cut the value at the NUL; refuse it instead.
        throw CSVError(line: line, reason: "NUL byte in a field (byte \(index) of the file)")
      }
      if inQuotes {
        if c == 0x22 {
          if index < bytes.count, bytes[index] == 0x22 {
            field.append(0x22)
            index += 1
          } else {
            inQuotes = false
            afterQuote = true
          }
        } else {
          if c == 0x0A { line += 1 }
          field.append(c)
        }
        continue
      }
      switch c {
      case 0x2C:
        fields.append(String(decoding: field, as: UTF8.self))
        field = []
        afterQuote = false
      case 0x0D:
        continue
      case 0x0A:
        endRecord()
        afterQuote = false
        line += 1
        recordLine = line
      case 0x22:
        guard field.isEmpty, !afterQuote else {
          throw CSVError(line: line, reason: "unexpected quote inside an unquoted field")
        }
        inQuotes = true
      default:
        if afterQuote {
          throw CSVError(line: line, reason: "unexpected text after a closing quote")
        }
        field.append(c)
      }
    }
    if inQuotes { throw CSVError(line: recordLine, reason: "unterminated quoted field") }
    if !field.isEmpty || !fields.isEmpty || afterQuote { endRecord() }
    return records
  }
}
