internal import CLibPQ

extension PostgresConnection {
  /// Whether the connection to the server is still up (after a failed statement, libpq knows).
  public var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

  /// Connects again with the same parameters (libpq's `PQreset`) and restores the session
  /// settings; `false` while the server cannot be reached. Any transaction that was open is gone.
  public func reconnect() -> Bool {
    PQreset(handle)
    // A new session: the old one's prepared statements are gone with it.
    statements.removeAll()
    savepoints.removeAll()
    guard PQstatus(handle) == CONNECTION_OK else { return false }
    do {
      try execute(sessionSettings)
      return true
    } catch {
      return false
    }
  }
}

