/// The SQL dialect a backend speaks.
public enum SQLDialect: String, Sendable {
  case sqlite
  case postgresql
}

/// The seam between the store types and a database: what a store needs to run its SQL.
///
/// ``Connection`` (SQLite) and ``PostgresConnection`` (libpq) both provide it. Statements use `?`
/// placeholders on both (the PostgreSQL connection numbers them `$1…`), and rows come back as
/// ``Row``s of ``SQLiteValue``s on both: PostgreSQL booleans as integers 0/1 and `timestamptz` as
/// the stored ISO 8601 text (``Timestamp/iso8601``), so one decoding serves both. What differs
/// (upserts, date arithmetic, `json_extract` against `->>`, `COLLATE NOCASE` against the
/// `evctl_nocase` collation, `BEGIN IMMEDIATE` against row locks) is chosen by ``dialect``.
public protocol StoreBackend: AnyObject {
  /// The dialect of this database.
  var dialect: SQLDialect { get }
  /// Runs one or more statements without arguments or rows.
  func execute(_ sql: String) throws
  /// Runs `sql` with `arguments` and returns every row.
  @discardableResult
  func query(_ sql: String, _ arguments: [any SQLiteBindable]) throws -> [Row]
  /// Runs `sql` and calls `body` for each row as it arrives, for large results.
  func forEachRow(_ sql: String, _ arguments: [any SQLiteBindable], _ body: (Row) throws -> Void) throws
  /// Runs a statement that returns no rows, returning how many rows it changed.
  @discardableResult
  func run(_ sql: String, _ arguments: [any SQLiteBindable]) throws -> Int
  /// Whether a transaction is open.
  var isInTransaction: Bool { get }
  /// Runs `body` in a write transaction, rolling back if it throws; nested calls join the outer one.
  func transaction<T>(_ body: () throws -> T) throws -> T
}

extension Connection: StoreBackend {
  public var dialect: SQLDialect { .sqlite }
}
