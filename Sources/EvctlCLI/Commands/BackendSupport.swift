import EvctlCore

/// A command named a PostgreSQL store, and it cannot run there yet (issue 14: the store types
/// still speak SQLite only). Reported as exit 1 with what works instead; never a silent fallback.
struct BackendNotSupported: Error {
  /// The command, such as `station list`.
  let command: String
  /// The database, password hidden.
  let database: String

  /// The commands that run on PostgreSQL today.
  static let supported: Set<String> = ["db path", "db migrate", "db copy", "db check", "version"]

  var message: String {
    "'evctl \(command)' on PostgreSQL (\(database)) is not supported yet"
  }
  var hint: String {
    "on PostgreSQL only 'evctl db migrate', 'db check' and 'db copy' run so far; work on a SQLite store (--db FILE) and move it with 'evctl db copy --from sqlite:FILE --to postgresql://…'"
  }
}

extension Context {
  /// The store named by `--db` / `EVCTL_DB`: a SQLite file or a PostgreSQL URL.
  public var databaseLocation: DatabaseLocation { DatabaseLocation(databasePath) }

  /// `databasePath` for messages and output: a URL's password hidden.
  public var databaseDisplayName: String { databaseLocation.description }

  /// Throws ``BackendNotSupported`` when the store is on PostgreSQL and the command cannot run
  /// there yet.
  func requireSupportedBackend(_ path: [String]) throws {
    guard databaseLocation.isPostgreSQL else { return }
    let command = path.dropFirst().joined(separator: " ")
    guard effect != .none, !BackendNotSupported.supported.contains(command) else { return }
    throw BackendNotSupported(command: command, database: databaseDisplayName)
  }

  /// Opens the PostgreSQL database `--db` names.
  func openPostgres() throws -> PostgresConnection {
    guard case .postgresql(let url) = databaseLocation else {
      throw BackendNotSupported(command: arguments.path.dropFirst().joined(separator: " "), database: databaseDisplayName)
    }
    return try PostgresConnection(url: url)
  }
}
