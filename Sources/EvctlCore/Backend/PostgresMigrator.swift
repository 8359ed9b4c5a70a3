/// Applies ``PostgresSchema``'s numbered migrations, recording the version in the one-row table
/// `evctl_schema_version` (PostgreSQL's counterpart of SQLite's `PRAGMA user_version`).
///
/// Migrating runs in one transaction under an advisory lock, so two `serve` nodes starting at once
/// on an old database migrate it once, and a failing migration leaves the database as it was.
public struct PostgresMigrator: Sendable {
  /// The SQL of each migration, in order.
  public let migrations: [String]
  /// The advisory lock key migrations hold (an arbitrary constant: "evctl" in ASCII).
  static let lockKey = 0x65_76_63_74_6C

  /// Creates a migrator for the given migrations.
  public init(migrations: [String]) { self.migrations = migrations }

  /// The schema version this migrator brings a database to.
  public var latestVersion: Int { migrations.count }

  /// The version recorded in the database; 0 for a database evctl never touched.
  public func currentVersion(of db: PostgresConnection) throws -> Int {
    let present = try db.query("SELECT to_regclass('evctl_schema_version') IS NOT NULL AS present")
    guard present.first?.bool("present") == true else { return 0 }
    return try db.query("SELECT max(version) AS version FROM evctl_schema_version").first?.int("version") ?? 0
  }

  /// The versions `migrate` would apply.
  public func pending(in db: PostgresConnection) throws -> [Int] {
    try checkParity()
    let current = try currentVersion(of: db)
    guard current <= latestVersion else {
      throw StoreError.schemaTooNew(found: current, supported: latestVersion)
    }
    return current < latestVersion ? Array((current + 1)...latestVersion) : []
  }

  /// Applies every migration the database has not seen, returning how many ran.
  ///
  /// Inside a caller's transaction it joins that transaction (`db copy` builds the schema and
  /// the rows in one).
  ///
  /// - Throws: ``StoreError/schemaTooNew(found:supported:)`` for a database from a newer evctl,
  ///   ``StoreError/notSupported(_:)`` when the SQLite schema has migrations this dialect lacks.
  @discardableResult
  public func migrate(_ db: PostgresConnection) throws -> Int {
    try checkParity()
    return try db.transaction {
      try db.execute("SELECT pg_advisory_xact_lock(\(PostgresMigrator.lockKey))")
      try db.execute("CREATE TABLE IF NOT EXISTS evctl_schema_version (version integer NOT NULL)")
      let current = try currentVersion(of: db)
      guard current <= latestVersion else {
        throw StoreError.schemaTooNew(found: current, supported: latestVersion)
      }
      guard current < latestVersion else { return 0 }
      for version in (current + 1)...latestVersion {
        do {
          try db.execute(migrations[version - 1])
        } catch let error as PostgresError {
          throw PostgresError(
            sqlState: error.sqlState, message: "migration \(version): \(error.message)", sql: error.sql)
        }
      }
      try db.run("DELETE FROM evctl_schema_version", [])
      try db.run("INSERT INTO evctl_schema_version (version) VALUES (?)", [latestVersion])
      return latestVersion - current
    }
  }

  /// What ``apply(to:dryRun:)`` found and did.
  public struct Outcome: Sendable {
    /// The version the database had.
    public let before: Int
    /// The versions that were (or, for a dry run, would be) applied.
    public let pending: [Int]
    /// How many migrations were applied and kept (0 for a dry run).
    public let applied: Int
  }

  /// `db migrate` on PostgreSQL: applies the pending migrations, or with `dryRun` applies them
  /// in a transaction and rolls it back, so a migration that would fail fails here first.
  ///
  /// - Throws: as ``migrate(_:)``.
  public func apply(to db: PostgresConnection, dryRun: Bool) throws -> Outcome {
    let before = try currentVersion(of: db)
    let pending = try pending(in: db)
    guard dryRun else { return Outcome(before: before, pending: pending, applied: try migrate(db)) }
    try db.execute("BEGIN")
    defer { try? db.execute("ROLLBACK") }
    try migrate(db)
    return Outcome(before: before, pending: pending, applied: 0)
  }

  /// Throws when ``Schema/migrations`` has migrations without a PostgreSQL twin: a store on
  /// PostgreSQL would then lack tables or columns the SQLite one has.
  func checkParity() throws {
    let sqlite = Schema.migrator.latestVersion
    guard latestVersion < sqlite else { return }
    throw StoreError.notSupported(
      "PostgreSQL with this evctl build (the SQLite schema has \(sqlite) migrations, the PostgreSQL schema \(latestVersion): migration \(latestVersion + 1) has no PostgreSQL twin yet)")
  }
}

/// A one-line account of what a migration does, for `db migrate --dry-run`.
public enum MigrationSummary {
  /// The statements of `sql`, each as its first few words: `CREATE TABLE groups`,
  /// `ALTER TABLE transactions ADD COLUMN closed_by`, `CREATE INDEX events_at ON events`.
  /// A semicolon inside a `$$`-quoted function body does not end a statement.
  public static func statements(_ sql: String) -> [String] {
    splitOutsideDollarQuotes(sql).compactMap { statement -> String? in
      let words = statement.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
      var kept: [Substring] = []
      for word in words {
        if word.contains("(") || kept.count == 6 { break }
        kept.append(word)
      }
      return kept.isEmpty ? nil : kept.joined(separator: " ")
    }
  }

  /// `sql` cut at each `;` that is not between a pair of `$$`.
  static func splitOutsideDollarQuotes(_ sql: String) -> [Substring] {
    var parts: [Substring] = []
    var start = sql.startIndex, index = sql.startIndex, quoted = false
    while index < sql.endIndex {
      let next = sql.index(after: index)
      if sql[index] == "$", next < sql.endIndex, sql[next] == "$" {
        quoted.toggle()
        index = sql.index(after: next)
        continue
      }
      if sql[index] == ";", !quoted {
        parts.append(sql[start..<index])
        start = next
      }
      index = next
    }
    parts.append(sql[start...])
    return parts
  }
}
