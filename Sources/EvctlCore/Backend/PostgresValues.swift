/// PostgreSQL's text output turned into the values SQLite rows hold, so one decoding serves both
/// backends.
enum PostgresValues {
  // Type OIDs from pg_type.h; they are fixed for the built-in types.
  static let bool: UInt32 = 16
  static let bytea: UInt32 = 17
  static let int8: UInt32 = 20
  static let int2: UInt32 = 21
  static let int4: UInt32 = 23
  static let oid: UInt32 = 26
  static let float4: UInt32 = 700
  static let float8: UInt32 = 701
  static let numeric: UInt32 = 1700
  static let timestamp: UInt32 = 1114
  static let timestamptz: UInt32 = 1184

  /// The value of one field in text format.
  static func value(_ text: String, type: UInt32) -> SQLiteValue {
    switch type {
    case bool: return .integer(text == "t" ? 1 : 0)
    case int8, int2, int4, oid: return Int64(text).map(SQLiteValue.integer) ?? .text(text)
    case float4, float8, numeric: return Double(text).map(SQLiteValue.real) ?? .text(text)
    case timestamptz, timestamp: return .text(storedTimestamp(text))
    case bytea: return .blob(hexBytes(text) ?? Array(text.utf8))
    default: return .text(text)
    }
  }

  /// `2026-11-21 08:02:45.123+00` (ISO DateStyle, UTC) as the stored `2026-11-21T08:02:45.123Z`.
  static func storedTimestamp(_ text: String) -> String {
    var iso = text
    if iso.count > 10, let space = iso.firstIndex(of: " ") { iso.replaceSubrange(space...space, with: "T") }
    if iso.hasSuffix("+00") { iso += ":00" }
    return Timestamp(parsing: iso)?.iso8601 ?? text
  }

  /// bytea's `\x0a1b…` hex output.
  static func hexBytes(_ text: String) -> [UInt8]? {
    guard text.hasPrefix("\\x") else { return nil }
    return Crypto.unhex(String(text.dropFirst(2)))
  }
}
