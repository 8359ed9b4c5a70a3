/// Units of work on the store: transactions, savepoints and the connection settings of a
/// long-running server, so that callers outside Core never issue SQL themselves.
extension Store {
  /// Runs `body` inside one write transaction (`BEGIN IMMEDIATE … COMMIT`), rolling back if it
  /// throws. Nested calls join the outer transaction.
  public func atomically<T>(_ body: () throws -> T) throws -> T {
    try db.transaction(body)
  }

  /// Whether a transaction is open.
  public var isInTransaction: Bool { db.isInTransaction }

  /// How many statements the store has run on its connection so far.
  public var statementsRun: Int { db.statementsRun }

  /// Opens a write transaction, waiting for other writers at most the busy timeout.
  public func beginWrite() throws { try db.execute(sqlite != nil ? "BEGIN IMMEDIATE" : "BEGIN") }

  /// Opens a write transaction unless another process holds the lock for longer than
  /// `milliseconds`; `false` then.
  public func tryBeginWrite(waitingAtMost milliseconds: Int) throws -> Bool {
    guard let sqlite else {
      // PostgreSQL has no database-wide write lock: rows are locked as they are written.
      try db.execute("BEGIN")
      return true
    }
    return try sqlite.tryBeginImmediate(waitingAtMost: milliseconds)
  }

  /// Commits the open transaction.
  public func commit() throws { try db.execute("COMMIT") }

  /// Rolls the open transaction back.
  public func rollback() throws { try db.execute("ROLLBACK") }

  // Savepoints run as cached prepared statements on SQLite: serve opens one per call on its hot
  // path. PostgreSQL sends one only when a statement runs inside it (PostgresSavepoints).

  /// Opens a savepoint named `name` inside the current transaction.
  public func beginSavepoint(_ name: String) throws {
    guard sqlite != nil else { return try postgres.openSavepoint(name) }
    try db.run("SAVEPOINT \(name)")
  }

  /// Keeps the work done since savepoint `name` and ends it.
  public func releaseSavepoint(_ name: String) throws {
    guard sqlite != nil else { return try postgres.releaseSavepoint(name) }
    try db.run("RELEASE \(name)")
  }

  /// Undoes the work done since savepoint `name` (the transaction around it stays open; release
  /// the savepoint afterwards).
  public func rollbackToSavepoint(_ name: String) throws {
    guard sqlite != nil else { return try postgres.rollbackToSavepoint(name) }
    try db.run("ROLLBACK TO \(name)")
  }

  /// Applies the migrations the file lacks; returns how many were applied.
  @discardableResult
  public func migrate() throws -> Int {
    if let sqlite { return try Schema.migrator.migrate(sqlite) }
    return try PostgresSchema.migrator.migrate(postgres)
  }

  /// The storage engine's version, such as "3.40.1".
  public static var engineVersion: String { Connection.libraryVersion }

  /// This store's engine and version, such as "SQLite 3.40.1" or "PostgreSQL 15.18".
  public var engineDescription: String {
    if sqlite != nil { return "SQLite \(Connection.libraryVersion)" }
    let version = postgres.serverVersion
    return "PostgreSQL \(version / 10_000).\(version % 10_000)"
  }

  /// Tunes the connection for a long-running server: a larger page cache, temporary tables in
  /// memory.
  public func tuneForServing() throws {
    guard let sqlite else { return }
    try sqlite.execute("PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY")
  }

  /// Makes every commit wait until it is on disk (fsync of the WAL), so that acknowledged means
  /// durable even across power loss.
  public func makeCommitsDurable() throws {
    // PostgreSQL commits are durable unless the server is configured otherwise.
    try sqlite?.execute("PRAGMA synchronous = FULL")
  }

  /// Turns automatic WAL checkpoints off on this connection (a ``WALCheckpointer`` runs them).
  public func disableAutomaticCheckpoints() throws { try sqlite?.execute("PRAGMA wal_autocheckpoint = 0") }
}

/// A connection of its own that copies the write-ahead log back into the database file, for a
/// thread other than the one that writes.
public final class WALCheckpointer {
  private let connection: Connection

  /// Opens the database at `path`; `nil` when it cannot be opened.
  public init?(path: String) {
    guard let connection = try? Connection(.path(path)) else { return nil }
    self.connection = connection
  }

  /// Runs one checkpoint: passive (never blocks writers), or truncating (also shrinks the WAL
  /// once readers allow it). Errors are ignored: the next round tries again.
  public func checkpoint(truncating: Bool) {
    try? connection.execute("PRAGMA wal_checkpoint(\(truncating ? "TRUNCATE" : "PASSIVE"))")
  }
}

extension Store {
  /// Whether the store's connection was lost (PostgreSQL only; a SQLite file is never lost).
  public var hasLostConnection: Bool {
    guard sqlite == nil else { return false }
    return !postgres.isConnected
  }

  /// Connects to the PostgreSQL server again after a lost connection; `false` while it cannot be
  /// reached (try again later). Work not committed before the loss is gone.
  public func reconnect() -> Bool {
    guard sqlite == nil else { return true }
    return postgres.reconnect()
  }
}
