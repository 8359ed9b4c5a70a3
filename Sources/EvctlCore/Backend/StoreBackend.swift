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
  /// Runs `sql` and calls `body` for each row read by position (``ColumnReader``): in place on
  /// SQLite, over each ``Row`` elsewhere.
  func forEachRawRow(_ sql: String, _ arguments: [any SQLiteBindable], _ body: (ColumnReader) throws -> Void) throws
  /// Runs a statement that returns no rows, returning how many rows it changed.
  @discardableResult
  func run(_ sql: String, _ arguments: [any SQLiteBindable]) throws -> Int
  /// Whether a transaction is open.
  var isInTransaction: Bool { get }
  /// How many statements with arguments this connection has run so far (a counter for tests
  /// and profiles of statements per unit of work).
  var statementsRun: Int { get }
  /// Runs `body` in a write transaction, rolling back if it throws; nested calls join the outer one.
  func transaction<T>(_ body: () throws -> T) throws -> T
}

extension Connection: StoreBackend {
  public var dialect: SQLDialect { .sqlite }
}

extension StoreBackend {
  /// Runs `sql` without arguments and returns every row.
  @discardableResult
  public func query(_ sql: String) throws -> [Row] { try query(sql, []) }

  /// Runs `sql` and returns its first row, if any.
  public func queryOne(_ sql: String, _ arguments: [any SQLiteBindable] = []) throws -> Row? {
    try query(sql, arguments).first
  }

  /// Runs a statement without arguments that returns no rows.
  @discardableResult
  public func run(_ sql: String) throws -> Int { try run(sql, []) }

  public func forEachRawRow(
    _ sql: String, _ arguments: [any SQLiteBindable], _ body: (ColumnReader) throws -> Void
  ) throws {
    try forEachRow(sql, arguments) { try body(ColumnReader(row: $0)) }
  }

  /// Runs `sql` and calls `body` for each row, without arguments.
  public func forEachRow(_ sql: String, _ body: (Row) throws -> Void) throws {
    try forEachRow(sql, [], body)
  }

  /// Runs an `INSERT` and returns the `id` of the row it made (`RETURNING id`, which both
  /// SQLite ≥ 3.35 and PostgreSQL understand).
  public func insertReturningID(_ sql: String, _ arguments: [any SQLiteBindable]) throws -> Int {
    guard let id = try query(sql + " RETURNING id", arguments).first?.values.first?.int else {
      throw StoreBackendError("an INSERT returned no id: \(sql)")
    }
    return id
  }
}

/// A backend answered in a way the store cannot use.
public struct StoreBackendError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}

extension StoreBackend {
  /// Runs `body`, one statement whose failure the caller answers and then carries on (such as a
  /// unique violation turned into a precise conflict that names the holder). On PostgreSQL a
  /// failed statement aborts the whole transaction, so there it runs under a savepoint inside a
  /// transaction; SQLite undoes just the failed statement by itself.
  @discardableResult
  public func recoverable<T>(_ body: () throws -> T) throws -> T {
    guard dialect == .postgresql, isInTransaction else { return try body() }
    try execute("SAVEPOINT evctl_statement")
    do {
      let result = try body()
      try execute("RELEASE evctl_statement")
      return result
    } catch {
      try? execute("ROLLBACK TO evctl_statement; RELEASE evctl_statement")
      throw error
    }
  }
}
