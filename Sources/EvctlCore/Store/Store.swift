/// The application's data, behind one database connection: a SQLite file (the default) or a
/// PostgreSQL database.
///
/// A `Store` has one owner: the CLI process, or one thread of `evctl serve`. Every operation
/// checks the acting operator's role and domain here, once (DESIGN §5).
public final class Store {
  /// The connection; public for tests only. Code outside Core calls the store's typed
  /// operations and never issues SQL (`StoreBoundaryTests` checks).
  public let db: any StoreBackend
  /// The SQLite connection when the store is a SQLite file or in memory; `nil` on PostgreSQL.
  /// For what only SQLite has (the online backup, cached statements, WAL settings).
  public let sqlite: Connection?
  /// Who is acting; `.local` until a login session or API token says otherwise.
  public var actor: Actor = .local
  /// The file behind the store; `nil` for an in-memory store or PostgreSQL.
  public let databasePath: String?
  /// The clock; tests replace it.
  public var clock: () -> Timestamp = { Timestamp.now() }

  /// The SQL dialect of the backend.
  public var dialect: SQLDialect { db.dialect }

  /// Opens the SQLite store at `location`, creating the file and applying migrations.
  public init(_ location: Connection.Location, busyTimeout: Int32 = 5_000, migrate: Bool = true)
    throws
  {
    if case .path(let path) = location { databasePath = path } else { databasePath = nil }
    let connection = try Connection(location, busyTimeout: busyTimeout)
    db = connection
    sqlite = connection
    if migrate { try Schema.migrator.migrate(connection) }
  }

  /// Opens the PostgreSQL store at `url` (libpq's rules: `PG*` variables, `~/.pgpass`), applying
  /// migrations unless `migrate` is false.
  public init(postgresURL url: String, migrate: Bool = true) throws {
    let connection = try PostgresConnection(url: url)
    db = connection
    sqlite = nil
    databasePath = nil
    if migrate { try PostgresSchema.migrator.migrate(connection) }
  }

  /// Opens the store at `location`: a SQLite file or a PostgreSQL URL.
  public convenience init(_ location: DatabaseLocation, migrate: Bool = true) throws {
    switch location {
    case .sqlite(let path): try self.init(.path(path), migrate: migrate)
    case .postgresql(let url): try self.init(postgresURL: url, migrate: migrate)
    }
  }

  /// The schema version recorded in the store.
  public func schemaVersion() throws -> Int {
    if let sqlite { return try Schema.migrator.currentVersion(of: sqlite) }
    return try PostgresSchema.migrator.currentVersion(of: postgres)
  }

  /// The newest schema version this evctl knows (the same number on both backends).
  public static var latestSchemaVersion: Int { Schema.migrator.latestVersion }

  /// The PostgreSQL connection; only called when ``sqlite`` is `nil`.
  var postgres: PostgresConnection { db as! PostgresConnection }

  /// The default store path: `$XDG_DATA_HOME/evctl/evctl.db`, else `~/.local/share/evctl/evctl.db`.
  public static func defaultPath(environment: [String: String]) -> String {
    if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/evctl/evctl.db" }
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "."
    return home + "/.local/share/evctl/evctl.db"
  }

  /// Runs the backend's integrity and foreign-key checks, returning the problems found.
  public func check() throws -> [String] {
    guard sqlite != nil else { return try PostgresSchema.check(postgres) }
    var problems: [String] = []
    for row in try db.query("PRAGMA integrity_check") {
      if let text = row.values.first?.string, text != "ok" { problems.append(text) }
    }
    for row in try db.query("PRAGMA foreign_key_check") {
      let table = row.values.first?.string ?? "?"
      let rowid = row.values.count > 1 ? (row.values[1].string ?? "?") : "?"
      problems.append("foreign key violation in \(table) row \(rowid)")
    }
    return problems
  }

  /// Copies the store to `path` with SQLite's online backup API; administrators of the whole
  /// network only, since the copy holds every domain and every password hash.
  public func backup(to path: String) throws {
    try requireStoreAdministrator(to: "copy the whole store")
    guard let sqlite else {
      throw StoreError.notSupported(
        "db backup copies a SQLite file; on PostgreSQL use pg_dump, or 'evctl db copy --to sqlite:FILE'")
    }
    try sqlite.backup(to: path)
  }

  /// Throws unless the actor administers the whole network (an admin without a base group, or
  /// the local actor): backups, copies and migrations touch every domain at once.
  public func requireStoreAdministrator(to what: String) throws {
    guard actor.role == .admin, actor.baseGroupID == nil else {
      throw StoreError.forbidden(
        "operator access forbidden: only an administrator of the whole network may \(what)")
    }
  }

  // MARK: Permissions, in one place

  /// Throws unless the actor's role allows `operation`.
  public func require(_ operation: Operation) throws {
    guard operation.isAllowed(for: actor.role) else {
      throw StoreError.forbidden(
        "operator access forbidden: a \(actor.role.rawValue) operator may not \(operation.rawValue)")
    }
  }

  /// Throws unless `groupID` lies in the actor's domain (`nil`: ungrouped, whole-network only).
  public func requireDomain(_ groupID: Int?, what: String) throws {
    guard try isInDomain(groupID) else {
      throw StoreError.forbidden("operator access forbidden: \(what) is outside your base group")
    }
  }

  /// Whether `groupID` lies in the actor's domain.
  public func isInDomain(_ groupID: Int?) throws -> Bool {
    guard let base = actor.baseGroupID else { return true }
    return try groupTree().contains(groupID, under: base)
  }

  func now() -> Timestamp { clock() }
}
