/// Applies numbered, forward-only schema migrations, recording progress in `PRAGMA user_version`.
///
/// Migration *n* (1-based) is `migrations[n - 1]`; each runs in its own transaction.
public struct Migrator: Sendable {
  /// The SQL of each migration, in order.
  public let migrations: [String]

  /// Creates a migrator for the given migrations.
  public init(migrations: [String]) { self.migrations = migrations }

  /// The schema version this migrator brings a database to.
  public var latestVersion: Int { migrations.count }

  /// Returns the version recorded in the database.
  public func currentVersion(of db: Connection) throws -> Int {
    try db.queryOne("PRAGMA user_version")?.values.first?.int ?? 0
  }

  /// Applies every migration the database has not seen, returning how many ran.
  ///
  /// - Throws: ``StoreError/schemaTooNew(found:supported:)`` when the file comes from a newer evctl.
  @discardableResult
  public func migrate(_ db: Connection) throws -> Int {
    let current = try currentVersion(of: db)
    guard current <= latestVersion else {
      throw StoreError.schemaTooNew(found: current, supported: latestVersion)
    }
    guard current < latestVersion else { return 0 }
    for version in (current + 1)...latestVersion {
      try db.transaction {
        try db.execute(migrations[version - 1])
        try db.execute("PRAGMA user_version = \(version)")
      }
    }
    return latestVersion - current
  }
}
