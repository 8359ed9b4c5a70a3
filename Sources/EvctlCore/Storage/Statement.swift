internal import CSQLite

/// A prepared statement, finalized when released.
public final class Statement {
  private let connection: Connection
  private let handle: OpaquePointer
  private let sql: String
  private let columns: [String: Int]
  private let parameterCount: Int

  init(connection: Connection, sql: String) throws {
    self.connection = connection
    self.sql = sql
    var statement: OpaquePointer?
    let rc = sqlite3_prepare_v2(connection.handle, sql, -1, &statement, nil)
    try connection.check(rc, sql: sql)
    guard let statement else {
      throw SQLiteError(code: 21, message: "empty statement", sql: sql)
    }
    handle = statement
    var names: [String: Int] = [:]
    for index in 0..<sqlite3_column_count(statement) {
      names[String(cString: sqlite3_column_name(statement, index))] = Int(index)
    }
    columns = names
    parameterCount = Int(sqlite3_bind_parameter_count(statement))
  }

  deinit { sqlite3_finalize(handle) }

  /// Binds positional arguments (`?`), replacing earlier bindings.
  public func bind(_ arguments: [any SQLiteBindable]) throws {
    // Every parameter is bound again below when all are given: clearing first is only needed
    // when fewer arguments than parameters come.
    if arguments.count < parameterCount { sqlite3_clear_bindings(handle) }
    for (offset, argument) in arguments.enumerated() {
      let index = Int32(offset + 1)
      let rc: Int32
      switch argument.sqliteValue {
      case .null: rc = sqlite3_bind_null(handle, index)
      case .integer(let value): rc = sqlite3_bind_int64(handle, index, value)
      case .real(let value): rc = sqlite3_bind_double(handle, index, value)
      case .text(let value): rc = Self.bindText(handle, index, value)
      case .blob(let bytes):
        rc = bytes.withUnsafeBytes {
          sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), csqlite_transient())
        }
      }
      try connection.check(rc, sql: sql)
    }
  }

  /// Binds the UTF-8 of `value` in place (up to a NUL, as a C string would end), without the
  /// NUL-terminated copy that passing a `String` as `char *` makes; SQLite copies it once.
  private static func bindText(_ handle: OpaquePointer, _ index: Int32, _ value: String) -> Int32 {
    var text = value
    return text.withUTF8 { bytes in
      guard let base = bytes.baseAddress else { return sqlite3_bind_text(handle, index, "", 0, csqlite_transient()) }
      let length = bytes.firstIndex(of: 0) ?? bytes.count
      return base.withMemoryRebound(to: CChar.self, capacity: length) {
        sqlite3_bind_text(handle, index, $0, Int32(length), csqlite_transient())
      }
    }
  }

  /// Advances to the next row, returning it, or `nil` when the statement is done.
  public func step() throws -> Row? {
    let rc = sqlite3_step(handle)
    if rc == SQLITE_DONE { return nil }
    guard rc == SQLITE_ROW else {
      try connection.check(rc, sql: sql)
      return nil
    }
    let reader = ColumnReader(statement: handle)
    let count = Int(sqlite3_column_count(handle))
    var values: [SQLiteValue] = []
    values.reserveCapacity(count)
    for index in 0..<count { values.append(reader.value(index)) }
    return Row(values: values, columns: columns)
  }

  /// Steps through every row, passing each to `body` read in place (no ``Row`` per row).
  func forEachRaw(_ body: (ColumnReader) throws -> Void) throws {
    while true {
      let rc = sqlite3_step(handle)
      if rc == SQLITE_DONE { return }
      guard rc == SQLITE_ROW else {
        try connection.check(rc, sql: sql)
        return
      }
      try body(ColumnReader(statement: handle))
    }
  }

  /// Resets the statement so it can run again.
  public func reset() { sqlite3_reset(handle) }
}
