internal import CLibPQ

extension PostgresConnection {
  /// Opens savepoint `name` in the open transaction. Nothing is sent until a statement runs (see
  /// ``PostgresSavepoints``); outside a transaction, or in a failed one, it fails as `SAVEPOINT`
  /// does.
  public func openSavepoint(_ name: String) throws {
    guard PQtransactionStatus(handle) == PQTRANS_INTRANS else {
      if PQtransactionStatus(handle) == PQTRANS_IDLE { savepoints.removeAll() }
      try execute("SAVEPOINT \(name)")
      return
    }
    savepoints.open(name)
  }

  /// Keeps the work done since savepoint `name` and ends it (and every later one).
  public func releaseSavepoint(_ name: String) throws {
    if savepoints.release(name) { return }
    try execute("RELEASE \(name)")
  }

  /// Undoes the work done since savepoint `name`, which stays open.
  public func rollbackToSavepoint(_ name: String) throws {
    let (open, sql) = savepoints.rollback(to: name)
    guard open else { return try execute("ROLLBACK TO \(name)") }
    if let sql { try execute(sql) }
  }
}
