internal import CSQLite

/// The columns of the row a statement stands on, read in place by position: no ``Row``, no
/// array of values and no `String` per column. Valid only inside the
/// ``StoreBackend/forEachRawRow(_:_:_:)`` call that passed it.
///
/// Every accessor answers exactly what the same accessor of ``SQLiteValue`` answers for the value
/// ``Statement/step()`` would have made (the common types directly, the rest through that value).
public struct ColumnReader {
  let statement: OpaquePointer?
  let row: Row?

  init(statement: OpaquePointer) {
    self.statement = statement
    row = nil
  }

  init(row: Row) {
    statement = nil
    self.row = row
  }

  /// The value at `index`, as ``Statement/step()`` makes it (it makes its values here;
  /// allocates for text and blobs).
  public func value(_ index: Int) -> SQLiteValue {
    guard let statement else { return row!.values[index] }
    let column = Int32(index)
    switch sqlite3_column_type(statement, column) {
    case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
    case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
    case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, column)))
    case SQLITE_BLOB:
      let length = Int(sqlite3_column_bytes(statement, column))
      guard let pointer = sqlite3_column_blob(statement, column) else { return .blob([]) }
      return .blob(Array(UnsafeRawBufferPointer(start: pointer, count: length)))
    default: return .null
    }
  }

  /// Whether the value at `index` is NULL.
  public func isNull(_ index: Int) -> Bool {
    guard let statement else { return row!.values[index] == .null }
    return sqlite3_column_type(statement, Int32(index)) == SQLITE_NULL
  }

  /// ``SQLiteValue/int`` of the value at `index`.
  public func int(_ index: Int) -> Int? {
    if let statement {
      switch sqlite3_column_type(statement, Int32(index)) {
      case SQLITE_INTEGER: return Int(sqlite3_column_int64(statement, Int32(index)))
      case SQLITE_NULL: return nil
      default: break
      }
    }
    return value(index).int
  }

  /// ``SQLiteValue/double`` of the value at `index`.
  public func double(_ index: Int) -> Double? {
    if let statement {
      switch sqlite3_column_type(statement, Int32(index)) {
      case SQLITE_INTEGER: return Double(sqlite3_column_int64(statement, Int32(index)))
      case SQLITE_FLOAT: return sqlite3_column_double(statement, Int32(index))
      case SQLITE_NULL: return nil
      default: break
      }
    }
    return value(index).double
  }

  /// ``SQLiteValue/bool`` of the value at `index`.
  public func bool(_ index: Int) -> Bool { (int(index) ?? 0) != 0 }

  /// ``SQLiteValue/string`` of the value at `index`, allocated.
  public func string(_ index: Int) -> String? { value(index).string }

  /// Calls `body` with the UTF-8 of ``SQLiteValue/string`` of the value at `index` (`nil` for
  /// NULL). ASCII text without NUL is passed in place from SQLite's buffer; anything else goes
  /// through the `String` that ``Statement/step()`` would make, so the bytes are the same.
  public func withUTF8<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
    if let statement, sqlite3_column_type(statement, Int32(index)) == SQLITE_TEXT,
      let text = sqlite3_column_text(statement, Int32(index))
    {
      let bytes = UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, Int32(index))))
      var plain = true
      for byte in bytes where byte == 0 || byte >= 0x80 {
        plain = false
        break
      }
      if plain { return try body(bytes) }
    }
    guard var string = value(index).string else { return try body(nil) }
    return try string.withUTF8 { try body($0) }
  }

  /// Whether the value at `index` is text equal to `ascii`.
  public func equals(_ index: Int, _ ascii: StaticString) -> Bool {
    withUTF8(index) { bytes in
      guard let bytes, bytes.count == ascii.utf8CodeUnitCount else { return false }
      let expected = UnsafeBufferPointer(start: ascii.utf8Start, count: ascii.utf8CodeUnitCount)
      return bytes.elementsEqual(expected)
    }
  }
}
