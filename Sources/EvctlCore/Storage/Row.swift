/// One result row, addressable by column name.
public struct Row: Sendable {
  /// The values in column order.
  public let values: [SQLiteValue]
  let columns: [String: Int]

  /// The value in the named column; `.null` when the column does not exist.
  public subscript(_ name: String) -> SQLiteValue {
    guard let index = columns[name] else { return .null }
    return values[index]
  }

  /// The position of a column, to read many rows by index instead of by name.
  public func index(of name: String) -> Int? { columns[name] }

  /// The value at a position ``index(of:)`` returned; `.null` for `nil` (no such column).
  public subscript(position position: Int?) -> SQLiteValue {
    guard let position else { return .null }
    return values[position]
  }

  /// The named column as a string.
  public func string(_ name: String) -> String? { self[name].string }
  /// The named column as an integer.
  public func int(_ name: String) -> Int? { self[name].int }
  /// The named column as a double.
  public func double(_ name: String) -> Double? { self[name].double }
  /// The named column as a boolean.
  public func bool(_ name: String) -> Bool { self[name].bool }
  /// The named column, parsed as a stored UTC timestamp.
  public func date(_ name: String) -> Timestamp? { string(name).flatMap(Timestamp.init(parsing:)) }
}
