import EvctlCore

/// A command named a PostgreSQL store, and it works on a SQLite store only (a file beside the
/// store, or SQLite's own backup). Reported as exit 1 with what to do instead; never a silent
/// fallback to some SQLite file.
struct BackendNotSupported: Error {
  /// The command, such as `db backup`.
  let command: String
  /// The database, password hidden.
  let database: String

  /// The commands that need a SQLite store, and what to use on PostgreSQL instead. Every other
  /// command runs on both backends.
  static let sqliteOnly: [String: String] = [
    "db backup": "use pg_dump, or 'evctl db copy --from postgresql://… --to sqlite:FILE'",
    "ca init": "the certificate authority's key lives in a folder beside a SQLite store file (STORE.ca/); run 'evctl ca' on a SQLite store",
    "ca import": "the certificate authority's key lives in a folder beside a SQLite store file (STORE.ca/); run 'evctl ca' on a SQLite store",
    "ca show": "the certificate authority's key lives in a folder beside a SQLite store file (STORE.ca/); run 'evctl ca' on a SQLite store",
    "station certificate issue": "issuing needs the certificate authority beside a SQLite store file (STORE.ca/); issue with your own CA and 'station certificate install'",
    "station certificate renew": "renewing needs the certificate authority beside a SQLite store file (STORE.ca/)",
  ]

  /// Options of commands that work on both backends, but need a SQLite store themselves.
  static let sqliteOnlyOptions: [String: String] = [
    "serve --smtp": "serve's mailer sends from a SQLite store only (several nodes on one PostgreSQL database would each send the same mail); run serve without --smtp",
  ]

  var message: String {
    "'evctl \(command)' is not supported on PostgreSQL (\(database))"
  }
  var hint: String {
    BackendNotSupported.sqliteOnly[command] ?? BackendNotSupported.sqliteOnlyOptions[command]
      ?? "work on a SQLite store (--db FILE)"
  }
}

extension Context {
  /// The store named by `--db` / `EVCTL_DB`: a SQLite file or a PostgreSQL URL.
  public var databaseLocation: DatabaseLocation { DatabaseLocation(databasePath) }

  /// `databasePath` for messages and output: a URL's password hidden.
  public var databaseDisplayName: String { databaseLocation.description }

  /// Throws ``BackendNotSupported`` when the store is on PostgreSQL and the command works on a
  /// SQLite store only.
  func requireSupportedBackend(_ path: [String]) throws {
    guard databaseLocation.isPostgreSQL else { return }
    let command = path.dropFirst().joined(separator: " ")
    guard BackendNotSupported.sqliteOnly[command] != nil else { return }
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
