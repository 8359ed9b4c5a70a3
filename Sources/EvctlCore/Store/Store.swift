/// The application's data, behind one SQLite connection.
///
/// A `Store` has one owner: the CLI process, or one thread of `evctl serve`. Every operation
/// checks the acting operator's role and domain here, once (DESIGN §5).
public final class Store {
  /// The connection; public for tests only. Code outside Core calls the store's typed
  /// operations and never issues SQL (`StoreBoundaryTests` checks).
  public let db: Connection
  /// Who is acting; `.local` until a login session or API token says otherwise.
  public var actor: Actor = .local
  /// The file behind the store; `nil` for an in-memory store.
  public let databasePath: String?
  /// The clock; tests replace it.
  public var clock: () -> Timestamp = { Timestamp.now() }

  /// Opens the store at `location`, creating the file and applying migrations.
  public init(_ location: Connection.Location, busyTimeout: Int32 = 5_000, migrate: Bool = true)
    throws
  {
    if case .path(let path) = location { databasePath = path } else { databasePath = nil }
    db = try Connection(location, busyTimeout: busyTimeout)
    if migrate { try Schema.migrator.migrate(db) }
  }

  /// The schema version recorded in the file.
  public func schemaVersion() throws -> Int { try Schema.migrator.currentVersion(of: db) }

  /// The default store path: `$XDG_DATA_HOME/evctl/evctl.db`, else `~/.local/share/evctl/evctl.db`.
  public static func defaultPath(environment: [String: String]) -> String {
    if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/evctl/evctl.db" }
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "."
    return home + "/.local/share/evctl/evctl.db"
  }

  /// Runs SQLite's integrity and foreign-key checks, returning the problems found.
  public func check() throws -> [String] {
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
    try db.backup(to: path)
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
