internal import CSQLite

/// One SQLite connection.
///
/// A `Connection` is not thread-safe. Give it exactly one owner (``Store`` wraps it in a
/// `Mutex`) and never share it across threads directly.
public final class Connection {
  /// Where the database lives.
  public enum Location: Sendable, Equatable {
    case path(String)
    case memory
  }

  let handle: OpaquePointer
  private var statementCache: [String: Statement] = [:]
  /// How long a statement waits for another connection's lock (see Connection+Busy.swift).
  let busyWait: BusyWait

  /// Opens (creating if needed) a database, with foreign keys on and WAL for files.
  ///
  /// - Throws: ``SQLiteError`` when the file cannot be opened.
  public init(_ location: Location, busyTimeout milliseconds: Int32 = 5_000) throws {
    var db: OpaquePointer?
    let path: String
    switch location {
    case .path(let value): path = value
    case .memory: path = ":memory:"
    }
    let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
    let rc = sqlite3_open_v2(path, &db, flags, nil)
    guard let db else { throw SQLiteError(code: rc, message: "cannot open database", sql: nil) }
    guard rc == SQLITE_OK else {
      let message = String(cString: sqlite3_errmsg(db))
      sqlite3_close_v2(db)
      throw SQLiteError(code: rc, message: message, sql: nil)
    }
    handle = db
    busyWait = BusyWait(milliseconds: Int(milliseconds))
    sqlite3_extended_result_codes(db, 1)
    installBusyHandler()
    try execute("PRAGMA foreign_keys = ON")
    if case .path = location {
      // Readers (the CLI) and a writer (`evctl serve`) can then work side by side.
      try execute("PRAGMA journal_mode = WAL")
      try execute("PRAGMA synchronous = NORMAL")
    }
  }

  deinit {
    statementCache.removeAll()
    sqlite3_close_v2(handle)
  }

  /// The SQLite library version, such as "3.40.1".
  public static var libraryVersion: String { String(cString: sqlite3_libversion()) }

  /// Runs one or more statements that return no rows.
  ///
  /// A single statement (no `;`, such as serve's `SAVEPOINT`/`RELEASE`/`COMMIT` around every
  /// unit of work) runs as a cached prepared statement instead of being parsed again each time.
  public func execute(_ sql: String) throws {
    if !sql.utf8.contains(UInt8(ascii: ";")) {
      let statement = try prepare(sql)
      defer { statement.reset() }
      while try statement.step() != nil {}
      return
    }
    var error: UnsafeMutablePointer<CChar>?
    let rc = sqlite3_exec(handle, sql, nil, nil, &error)
    if rc != SQLITE_OK {
      let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
      sqlite3_free(error)
      throw SQLiteError(code: sqlite3_extended_errcode(handle), message: message, sql: sql)
    }
  }

  /// How many prepared statements the connection keeps for reuse.
  var cachedStatementCount: Int { statementCache.count }

  /// How many statements ran through the statement cache (queries, runs, single statements):
  /// what tests and profiles count per CALL.
  public private(set) var statementsRun = 0

  /// Returns a prepared statement for `sql`, cached for reuse.
  public func prepare(_ sql: String) throws -> Statement {
    statementsRun &+= 1
    if let cached = statementCache[sql] {
      cached.reset()
      return cached
    }
    let statement = try Statement(connection: self, sql: sql)
    statementCache[sql] = statement
    return statement
  }

  /// Runs `sql` with `arguments` and returns every row.
  @discardableResult
  public func query(_ sql: String, _ arguments: [any SQLiteBindable] = []) throws -> [Row] {
    let statement = try prepare(sql)
    defer { statement.reset() }
    try statement.bind(arguments)
    var rows: [Row] = []
    while let row = try statement.step() { rows.append(row) }
    return rows
  }

  /// Runs `sql` and calls `body` for each row without collecting them, for large results.
  public func forEachRow(
    _ sql: String, _ arguments: [any SQLiteBindable] = [], _ body: (Row) throws -> Void
  ) throws {
    let statement = try Statement(connection: self, sql: sql)
    try statement.bind(arguments)
    while let row = try statement.step() { try body(row) }
  }

  /// Runs `sql` and calls `body` for each row read in place (``ColumnReader``), for large results
  /// where a ``Row`` per row costs more than the query.
  public func forEachRawRow(
    _ sql: String, _ arguments: [any SQLiteBindable], _ body: (ColumnReader) throws -> Void
  ) throws {
    let statement = try Statement(connection: self, sql: sql)
    try statement.bind(arguments)
    try statement.forEachRaw(body)
  }

  /// Runs `sql` and returns its first row, if any.
  public func queryOne(_ sql: String, _ arguments: [any SQLiteBindable] = []) throws -> Row? {
    try query(sql, arguments).first
  }

  /// Runs a statement that returns no rows, returning the number of rows it changed.
  @discardableResult
  public func run(_ sql: String, _ arguments: [any SQLiteBindable] = []) throws -> Int {
    let statement = try prepare(sql)
    defer { statement.reset() }
    try statement.bind(arguments)
    while try statement.step() != nil {}
    return Int(sqlite3_changes(handle))
  }

  /// The rowid of the last successful INSERT.
  public var lastInsertRowID: Int { Int(sqlite3_last_insert_rowid(handle)) }

  /// Whether a transaction is open.
  public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

  /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
  ///
  /// Nested calls join the outer transaction.
  public func transaction<T>(_ body: () throws -> T) throws -> T {
    if isInTransaction { return try body() }
    try execute("BEGIN IMMEDIATE")
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }

  /// Copies the whole database into the file at `path` with SQLite's online backup API.
  ///
  /// Safe while other connections (such as `evctl serve`) write: the copy is consistent.
  public func backup(to path: String) throws {
    var target: OpaquePointer?
    let rc = sqlite3_open_v2(path, &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil)
    guard rc == SQLITE_OK, let target else {
      sqlite3_close_v2(target)
      throw SQLiteError(code: rc, message: "cannot create backup file '\(path)'", sql: nil)
    }
    defer { sqlite3_close_v2(target) }
    guard let backup = sqlite3_backup_init(target, "main", handle, "main") else {
      throw SQLiteError(
        code: sqlite3_extended_errcode(target), message: String(cString: sqlite3_errmsg(target)),
        sql: nil)
    }
    var step: Int32
    repeat {
      step = sqlite3_backup_step(backup, 256)
      if step == SQLITE_BUSY || step == SQLITE_LOCKED { sqlite3_sleep(20) }
    } while step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED
    let finish = sqlite3_backup_finish(backup)
    guard step == SQLITE_DONE, finish == SQLITE_OK else {
      throw SQLiteError(
        code: finish, message: String(cString: sqlite3_errmsg(target)), sql: nil)
    }
  }

  func check(_ rc: Int32, sql: String?) throws {
    guard rc != SQLITE_OK, rc != SQLITE_ROW, rc != SQLITE_DONE else { return }
    throw SQLiteError(
      code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)),
      sql: sql)
  }
}
