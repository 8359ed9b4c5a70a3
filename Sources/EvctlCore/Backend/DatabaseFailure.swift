/// What the store asks of an error from either backend, so that one `catch` serves both.
public protocol DatabaseFailure: Error {
  /// Whether a UNIQUE or PRIMARY KEY constraint failed.
  var isUniqueViolation: Bool { get }
  /// Whether a FOREIGN KEY constraint failed.
  var isForeignKeyViolation: Bool { get }
  /// Whether another connection's lock stopped the statement; a retry may work.
  var isBusy: Bool { get }
}

extension SQLiteError: DatabaseFailure {}
extension PostgresError: DatabaseFailure {}
