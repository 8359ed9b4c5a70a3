/// An error reported by SQLite, together with the statement that caused it.
///
/// `code` is the *extended* result code (for example 2067, `SQLITE_CONSTRAINT_UNIQUE`);
/// ``primaryCode`` strips it to the primary code (19, `SQLITE_CONSTRAINT`).
public struct SQLiteError: Error, Equatable, CustomStringConvertible, Sendable {
  /// The extended result code.
  public let code: Int32
  /// SQLite's own message.
  public let message: String
  /// The statement that failed, without its arguments.
  public let sql: String?

  /// Creates an error from a result code and message.
  public init(code: Int32, message: String, sql: String?) {
    self.code = code
    self.message = message
    self.sql = sql
  }

  /// The primary result code.
  public var primaryCode: Int32 { code & 0xFF }
  /// Whether the database was locked by another connection past the busy timeout.
  public var isBusy: Bool { primaryCode == 5 || primaryCode == 6 }
  /// Whether a UNIQUE or PRIMARY KEY constraint failed.
  public var isUniqueViolation: Bool { code == 2067 || code == 1555 }
  /// Whether a FOREIGN KEY constraint failed.
  public var isForeignKeyViolation: Bool { code == 787 }

  public var description: String { "sqlite error \(code): \(message)" }
}
