/// The allocator's working state in the store: active sessions with their last allocation, and
/// what each plan wrote and sent.
extension Store {
  /// The active transactions with their station, connector and last allocation. Columns: id,
  /// station_id, connector_id, started_at, identity, group_id, max_current, status, limit_amps,
  /// phases, charging_since, paused_since, needs_higher_minimum, sent_limit, purpose,
  /// underdraw_since, hand_on_cap, authorization_status.
  public func activeChargeRows() throws -> [Row] {
    try db.query(
      """
      SELECT t.id, t.station_id, t.connector_id, t.started_at, s.identity, s.group_id, c.max_current, c.status,
        a.limit_amps, a.phases, a.charging_since, a.paused_since, a.needs_higher_minimum, a.sent_limit, a.purpose,
        a.underdraw_since, a.hand_on_cap, t.authorization_status
      FROM transactions t JOIN stations s ON s.id = t.station_id
      LEFT JOIN connectors c ON c.station_id = t.station_id AND c.connector_id = t.connector_id
      LEFT JOIN allocations a ON a.transaction_id = t.id
      WHERE t.state = 'active'
      """)
  }

  /// Notes that a transaction's car needs more than the usual minimum current.
  public func markNeedsHigherMinimum(transactionID: Int) throws {
    try db.run("UPDATE allocations SET needs_higher_minimum = TRUE WHERE transaction_id = ?", [transactionID])
  }

  /// A transaction's planned allocation.
  public struct AllocationRecord: Sendable {
    public var transactionID: Int
    public var stationID: Int
    public var connectorID: Int
    public var limit: Double
    /// Grid phases, such as "1,2,3".
    public var phases: String
    public var chargingSince: Timestamp?
    public var pausedSince: Timestamp?
    public var note: String
    /// TxProfile or TxDefaultProfile (kept on update).
    public var purpose: String
    public var underdrawSince: Timestamp?
    public var handOnCap: Double?

    public init(transactionID: Int, stationID: Int, connectorID: Int, limit: Double, phases: String,
                chargingSince: Timestamp?, pausedSince: Timestamp?, note: String, purpose: String,
                underdrawSince: Timestamp?, handOnCap: Double?) {
      self.transactionID = transactionID
      self.stationID = stationID
      self.connectorID = connectorID
      self.limit = limit
      self.phases = phases
      self.chargingSince = chargingSince
      self.pausedSince = pausedSince
      self.note = note
      self.purpose = purpose
      self.underdrawSince = underdrawSince
      self.handOnCap = handOnCap
    }
  }

  /// Writes a transaction's allocation (its purpose and sent limit stay as they were).
  public func saveAllocation(_ record: AllocationRecord, at now: Timestamp) throws {
    try db.run(
      """
      INSERT INTO allocations (transaction_id, station_id, connector_id, limit_amps, phases, charging_since,
        paused_since, note, purpose, updated_at, underdraw_since, hand_on_cap)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (transaction_id) DO UPDATE SET limit_amps = excluded.limit_amps, phases = excluded.phases,
        charging_since = excluded.charging_since, paused_since = excluded.paused_since,
        note = excluded.note, updated_at = excluded.updated_at,
        underdraw_since = excluded.underdraw_since, hand_on_cap = excluded.hand_on_cap
      """,
      [record.transactionID, record.stationID, record.connectorID, record.limit, record.phases,
       record.chargingSince?.iso8601, record.pausedSince?.iso8601, record.note, record.purpose,
       now.iso8601, record.underdrawSince?.iso8601, record.handOnCap])
  }

  /// Records the limit last sent for a transaction.
  public func noteLimitSent(_ limit: Double, transactionID: Int) throws {
    try db.run("UPDATE allocations SET sent_limit = ? WHERE transaction_id = ?", [limit, transactionID])
  }

  /// A station refused the TxProfile: its limit goes out as a TxDefaultProfile, sent anew.
  public func fallBackToDefaultProfile(transactionID: Int) throws {
    try db.run(
      "UPDATE allocations SET purpose = 'TxDefaultProfile', sent_limit = NULL WHERE transaction_id = ?",
      [transactionID])
  }
}

/// What the periodic alarm scan reads.
extension Store {
  /// Stations not connected, silent for three heartbeat intervals before `now`, without an
  /// active offline alarm.
  public func silentStationsWithoutOfflineAlarm(at now: Timestamp) throws
    -> [(stationID: Int?, identity: String, lastSeenAt: String?)]
  {
    let silentSince = dialect == .sqlite
      ? "strftime('%Y-%m-%dT%H:%M:%fZ', ?, '-' || (3 * s.heartbeat_interval) || ' seconds')"
      : "CAST(? AS timestamptz) - 3 * s.heartbeat_interval * interval '1 second'"
    return try db.query(
      """
      SELECT s.id, s.identity, s.last_seen_at FROM stations s
      WHERE s.connected = FALSE AND s.last_seen_at IS NOT NULL
        AND s.last_seen_at < \(silentSince)
        AND NOT EXISTS (SELECT 1 FROM alarms a WHERE a.station_id = s.id AND a.kind = 'offline'
          AND a.cleared_at IS NULL)
      """, [now.iso8601]
    ).map { ($0.int("id"), $0.string("identity") ?? "", $0.string("last_seen_at")) }
  }

  /// Where a transaction runs: its station and connector, or `nil` for an unknown id.
  public func transactionPlace(_ id: Int) throws
    -> (stationID: Int?, connectorID: Int?, identity: String)?
  {
    guard let row = try db.queryOne(
      "SELECT t.station_id, t.connector_id, s.identity FROM transactions t JOIN stations s ON s.id = t.station_id WHERE t.id = ?",
      [id])
    else { return nil }
    return (row.int("station_id"), row.int("connector_id"), row.string("identity") ?? "")
  }
}
