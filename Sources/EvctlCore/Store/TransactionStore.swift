extension Store {
  /// How long a station may be offline with an open transaction before it counts as stuck.
  public static let stuckOfflineSeconds: Int64 = 3_600

  /// Active transactions that look like ghosts: their connector reports Available (or nothing
  /// is charging there), or their station has been offline longer than ``stuckOfflineSeconds``.
  public func stuckTransactionIDs() throws -> Set<Int> {
    let cutoff = now().adding(seconds: -Store.stuckOfflineSeconds).iso8601
    return Set(try db.query(
      """
      SELECT t.id FROM transactions t JOIN stations s ON s.id = t.station_id
      LEFT JOIN connectors c ON c.station_id = t.station_id AND c.connector_id = t.connector_id
      WHERE t.state = 'active' AND (
        (c.status IN ('Available', 'Unavailable', 'Faulted') AND c.status_at > t.started_at)
        OR (s.connected = FALSE AND (s.last_seen_at IS NULL OR s.last_seen_at < ?)))
      """, [cutoff]).compactMap { $0.int("id") })
  }

  /// Closes a ghost transaction in the store without inventing meter data.
  public func closeTransaction(_ id: Int, reason: String) throws {
    try require(.remoteCommand)
    try db.transaction {
      guard let row = try db.queryOne(
        "SELECT t.state, s.identity FROM transactions t JOIN stations s ON s.id = t.station_id WHERE t.id = ?", [id])
      else { throw StoreError.notFound(kind: "transaction", name: String(id)) }
      _ = try station(row.string("identity") ?? "")
      guard row.string("state") == "active" else {
        throw StoreError.conflict("transaction \(id) is \(row.string("state") ?? "closed"), not active")
      }
      guard !reason.trimmingSpaces.isEmpty else { throw StoreError.invalid("give a --reason") }
      try db.run(
        """
        UPDATE transactions SET state = 'closed_by_operator', stopped_at = ?, stop_reason = ?,
          closed_by = ? WHERE id = ?
        """, [now().iso8601, reason, actor.displayName, id])
      try db.run(
        "UPDATE alarms SET cleared_at = ? WHERE kind = 'stuck_transaction' AND code = ? AND cleared_at IS NULL",
        [now().iso8601, String(id)])
    }
  }

  /// The meter values of a transaction, oldest first.
  public func meterValues(transaction id: Int) throws -> [Row] {
    try db.query(
      """
      SELECT sampled_at, measurand, value, unit, phase, context, location, energy_wh
      FROM meter_values WHERE transaction_id = ? ORDER BY sampled_at, id
      """, [id])
  }
}

extension Store {
  /// The next transaction id, from a sequence that never goes back, whatever is deleted (so a
  /// station never gets an id another station had). Must run inside the write transaction that
  /// inserts the row.
  ///
  /// - Returns: `nil` when the positive 32-bit id space is used up.
  public func nextTransactionID() throws -> Int? {
    if let next = try ServeSQL.nextSequenceValue(db, name: "transactions", table: "transactions") {
      return next <= Int(Int32.max) ? next : nil
    }
    let row = try db.queryOne(
      """
      SELECT max(coalesce((SELECT value FROM id_sequences WHERE name = 'transactions'), 0),
        coalesce((SELECT max(id) FROM transactions), 0)) + 1 AS next
      """)
    let next = row?.int("next") ?? 1
    guard next <= Int(Int32.max) else { return nil }
    try db.run(
      "INSERT OR REPLACE INTO id_sequences (name, value) VALUES ('transactions', ?)", [next])
    return next
  }
}
