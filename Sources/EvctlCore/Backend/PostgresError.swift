/// An error reported by PostgreSQL or libpq, with its SQLSTATE when the server sent one.
public struct PostgresError: Error, Equatable, CustomStringConvertible, Sendable {
  /// The SQLSTATE code (such as `23505`), or `nil` when libpq failed before the server answered.
  public let sqlState: String?
  /// The server's or libpq's message, on one line.
  public let message: String
  /// The statement that failed, without its arguments.
  public let sql: String?
  /// Whether connecting failed (no server, refused, authentication).
  public let isConnectionFailure: Bool

  /// Creates an error.
  public init(sqlState: String?, message: String, sql: String?, isConnectionFailure: Bool = false) {
    self.sqlState = sqlState
    self.message = message
    self.sql = sql
    self.isConnectionFailure = isConnectionFailure
  }

  /// Whether a UNIQUE or PRIMARY KEY constraint failed (`23505`).
  public var isUniqueViolation: Bool { sqlState == "23505" }
  /// Whether a FOREIGN KEY constraint failed (`23503`).
  public var isForeignKeyViolation: Bool { sqlState == "23503" }
  /// Whether another session's lock or a serialization conflict stopped the statement; a retry may work.
  public var isBusy: Bool { ["40001", "40P01", "55P03"].contains(sqlState ?? "") }
  /// Whether the server refused who we are (wrong password, no such role, pg_hba).
  public var isAuthenticationFailure: Bool {
    if sqlState?.hasPrefix("28") == true { return true }
    let text = message.lowercased()
    return isConnectionFailure
      && (text.contains("password authentication failed") || text.contains("no password supplied")
        || text.contains("pg_hba.conf") || text.contains("role") && text.contains("does not exist"))
  }

  /// The error as one a caller can act on, when it is one: constraints are conflicts or invalid
  /// values, a missing database is not found, refused credentials are forbidden, locks and lost
  /// connections are unavailable. `nil` for the rest (a bug in our SQL, for instance).
  public var storeError: StoreError? {
    if isAuthenticationFailure { return .forbidden("PostgreSQL refused the connection: \(message)") }
    if isConnectionFailure {
      if let name = PostgresError.missingDatabase(in: message) {
        return .notFound(kind: "PostgreSQL database", name: name)
      }
      return .unavailable("cannot connect to PostgreSQL: \(message)")
    }
    guard let state = sqlState else { return nil }
    switch state {
    case "23505", "23503", "23P01": return .conflict(message)
    case "0A000": return .notSupported(message)
    case "42501": return .forbidden("PostgreSQL: \(message)")
    case "3D000": return .notFound(kind: "database", name: message)
    case _ where state.hasPrefix("22") || state == "23502" || state == "23514": return .invalid(message)
    case _ where state.hasPrefix("08") || state.hasPrefix("57") || state.hasPrefix("53"):
      return .unavailable("PostgreSQL: \(message)")
    case _ where isBusy: return .unavailable("PostgreSQL: \(message)")
    default: return nil
    }
  }

  /// The name in libpq's `database "NAME" does not exist`.
  static func missingDatabase(in message: String) -> String? {
    guard let start = message.range(of: "database \""),
      let end = message[start.upperBound...].range(of: "\" does not exist")
    else { return nil }
    return String(message[start.upperBound..<end.lowerBound])
  }

  public var description: String {
    "postgresql error\(sqlState.map { " \($0)" } ?? ""): \(message)"
  }
}
