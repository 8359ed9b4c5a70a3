/// Station-sent numbers that name rows: connector ids, and the transaction and reservation ids a
/// station echoes back. They are 32-bit on both backends (PostgreSQL `integer` columns; serve
/// hands out transaction and reservation ids from positive 32-bit sequences), so a wider number
/// is answered here, the same on SQLite and PostgreSQL, before it reaches a statement that
/// PostgreSQL would fail with "out of range for type integer".
enum StationNumbers {
  /// The largest connector, transaction or reservation id: 2147483647.
  static let largest = Int(Int32.max)

  /// Whether `id` can be a transaction or reservation id at all: within 32 bits. Outside, no
  /// such row can exist, and the id is unknown.
  static func fits(_ id: Int) -> Bool { id >= Int(Int32.min) && id <= largest }
}

extension PayloadReader {
  /// The required `connectorId`, at least `minimum` and at most 2147483647 (no station has more
  /// connectors); outside that a CALLERROR PropertyConstraintViolation.
  mutating func connectorID(atLeast minimum: Int) throws(CallError) -> Int {
    guard let connector = try int("connectorId", required: true), connector >= minimum else {
      throw CallError.value("connectorId", "must be \(minimum) or more")
    }
    guard connector <= StationNumbers.largest else {
      throw CallError.value("connectorId", "must be at most \(StationNumbers.largest)")
    }
    return connector
  }
}
