/// What `serve` stores from a station's sessions: connector statuses, transactions, meter values
/// and orphan stops.
extension Store {
  /// A StatusNotification as read from the wire.
  public struct ConnectorStatusReport: Sendable {
    public var stationID: Int
    public var connectorID: Int
    public var status: String
    public var errorCode: String?
    public var info: String?
    public var vendorID: String?
    public var vendorErrorCode: String?
    /// The station's own time, when it sent one.
    public var reportedAt: Timestamp?

    public init(stationID: Int, connectorID: Int, status: String, errorCode: String?, info: String?,
                vendorID: String?, vendorErrorCode: String?, reportedAt: Timestamp?) {
      self.stationID = stationID
      self.connectorID = connectorID
      self.status = status
      self.errorCode = errorCode
      self.info = info
      self.vendorID = vendorID
      self.vendorErrorCode = vendorErrorCode
      self.reportedAt = reportedAt
    }
  }

  /// Appends a status change to the history and makes it the connector's current state (as of
  /// the station's time, else `now`).
  public func recordConnectorStatus(_ report: ConnectorStatusReport, at now: Timestamp) throws {
    try db.run(
      """
      INSERT INTO status_events (station_id, connector_id, status, error_code, info, vendor_id,
        vendor_error_code, reported_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [report.stationID, report.connectorID, report.status, report.errorCode, report.info,
       report.vendorID, report.vendorErrorCode, report.reportedAt?.iso8601, now.iso8601])
    try db.run(
      """
      INSERT INTO connectors (station_id, connector_id, status, error_code, info, vendor_error_code,
        status_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (station_id, connector_id) DO UPDATE SET status = excluded.status,
        error_code = excluded.error_code, info = excluded.info,
        vendor_error_code = excluded.vendor_error_code, status_at = excluded.status_at
      """,
      [report.stationID, report.connectorID, report.status, report.errorCode, report.info,
       report.vendorErrorCode, (report.reportedAt ?? now).iso8601])
  }

  /// A station's active transactions, lowest id first.
  public func activeTransactionIDs(stationID: Int) throws -> [Int] {
    try db.query(
      "SELECT id FROM transactions WHERE station_id = ? AND state = 'active' ORDER BY id", [stationID]
    ).compactMap { $0.int("id") }
  }

  /// The transaction a repeated StartTransaction already created (same station, connector, tag,
  /// raw timestamp and meter start), or `nil`.
  public func repeatedStartTransactionID(
    stationID: Int, connectorID: Int, idTag: String, rawTimestamp: String, meterStart: Int
  ) throws -> Int? {
    try db.queryOne(
      """
      SELECT id FROM transactions WHERE station_id = ?
        AND connector_id = ? AND id_tag = ? AND start_timestamp_raw = ? AND meter_start = ?
      """, [stationID, connectorID, idTag, rawTimestamp, meterStart])?.int("id")
  }

  /// Closes a connector's active transactions as superseded by one that started at `started`
  /// (their stop time is that start, never before their own). The session itself, should
  /// another node have stored it meanwhile (same idTag, raw timestamp and meterStart: the
  /// station resent its StartTransaction), stays open.
  public func supersedeActiveTransactions(
    stationID: Int, connectorID: Int, startedAt started: Timestamp, at now: Timestamp,
    sparing idTag: String, rawTimestamp: String, meterStart: Int
  ) throws {
    try db.run(
      """
      UPDATE transactions SET state = 'superseded', stop_reason = 'superseded',
        stopped_at = CASE WHEN started_at <= ?1 THEN ?1 ELSE started_at END, stop_received_at = ?2
      WHERE station_id = ?3 AND connector_id = ?4 AND state = 'active'
        AND NOT (id_tag = ?5 AND start_timestamp_raw = ?6 AND meter_start = ?7)
      """, [started.iso8601, now.iso8601, stationID, connectorID, idTag, rawTimestamp, meterStart])
  }

  /// A transaction as StartTransaction begins it.
  public struct TransactionStart: Sendable {
    public var id: Int
    public var stationID: Int
    public var connectorID: Int
    public var idTag: String
    public var tokenID: Int?
    public var parentIDTag: String?
    public var authorizationStatus: String
    public var meterStart: Int
    public var startedAt: Timestamp
    /// The timestamp exactly as the station sent it (repeats are recognised by it).
    public var rawTimestamp: String
    public var reservationID: Int?
    /// An open connector's session: no token, no user.
    public var anonymous: Bool

    public init(id: Int, stationID: Int, connectorID: Int, idTag: String, tokenID: Int?,
                parentIDTag: String?, authorizationStatus: String, meterStart: Int,
                startedAt: Timestamp, rawTimestamp: String, reservationID: Int?, anonymous: Bool) {
      self.id = id
      self.stationID = stationID
      self.connectorID = connectorID
      self.idTag = idTag
      self.tokenID = tokenID
      self.parentIDTag = parentIDTag
      self.authorizationStatus = authorizationStatus
      self.meterStart = meterStart
      self.startedAt = startedAt
      self.rawTimestamp = rawTimestamp
      self.reservationID = reservationID
      self.anonymous = anonymous
    }
  }

  /// Stores a new active transaction (its id from ``nextTransactionID()``), with the e-mail of
  /// the token's user, which stays with the session when the token or user is deleted later.
  ///
  /// A repeat of a StartTransaction another node stored meanwhile (same station, connector,
  /// idTag, raw timestamp and meterStart; the first node's answer was lost) makes no second
  /// transaction: on PostgreSQL the insert waits for that node's commit and then yields.
  ///
  /// - Returns: the id of the stored transaction: `start.id`, or the repeat's original one.
  @discardableResult
  public func insertTransaction(_ start: TransactionStart, at now: Timestamp) throws -> Int {
    let inserted = try db.run(
      """
      INSERT INTO transactions (id, station_id, connector_id, id_tag, token_id, parent_id_tag,
        authorization_status, meter_start, started_at, start_timestamp_raw, reservation_id,
        received_at, anonymous, user_email) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
        (SELECT u.email FROM tokens tk JOIN charging_users u ON u.id = tk.user_id WHERE tk.id = ?))
      ON CONFLICT (station_id, connector_id, id_tag, start_timestamp_raw, meter_start) DO NOTHING
      """,
      [start.id, start.stationID, start.connectorID, start.idTag, start.tokenID, start.parentIDTag,
       start.authorizationStatus, start.meterStart, start.startedAt.iso8601, start.rawTimestamp,
       start.reservationID, now.iso8601, start.anonymous, start.tokenID])
    if inserted > 0 { return start.id }
    guard let existing = try repeatedStartTransactionID(
      stationID: start.stationID, connectorID: start.connectorID, idTag: start.idTag,
      rawTimestamp: start.rawTimestamp, meterStart: start.meterStart)
    else { throw StoreError.conflict("transaction \(start.id) was not stored, and no repeat of it was found") }
    return existing
  }

  /// The connector of one of this station's transactions, or `nil` when the station has no
  /// transaction with that id (an orphan stop).
  public func transactionConnector(_ id: Int, stationID: Int) throws -> Int? {
    guard let row = try db.queryOne(
      "SELECT connector_id FROM transactions WHERE id = ? AND station_id = ?", [id, stationID])
    else { return nil }
    return row.int("connector_id") ?? 0
  }

  /// Whether `id` is one of this station's transactions.
  public func hasTransaction(_ id: Int, stationID: Int) throws -> Bool {
    try db.queryOne("SELECT 1 FROM transactions WHERE id = ? AND station_id = ?", [id, stationID]) != nil
  }

  /// Completes a station's transaction as StopTransaction reports it.
  public func completeTransaction(
    _ id: Int, stationID: Int, meterStop: Int, stoppedAt: Timestamp, reason: String,
    stopIDTag: String?, at now: Timestamp
  ) throws {
    try db.run(
      """
      UPDATE transactions SET meter_stop = ?, stopped_at = ?, stop_reason = ?, stop_id_tag = ?,
        state = 'completed', stop_received_at = ? WHERE id = ? AND station_id = ?
      """,
      [meterStop, stoppedAt.iso8601, reason, stopIDTag, now.iso8601, id, stationID])
  }

  /// Keeps a StopTransaction for a transaction the store does not know.
  public func recordOrphanStop(
    stationID: Int, transactionID: Int, idTag: String?, meterStop: Int, stoppedAt: Timestamp,
    reason: String, at now: Timestamp
  ) throws {
    try db.run(
      """
      INSERT INTO orphan_stops (station_id, transaction_id, id_tag, meter_stop, stopped_at, reason,
        received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      """, [stationID, transactionID, idTag, meterStop, stoppedAt.iso8601, reason, now.iso8601])
  }

  /// One sampled value of a MeterValues message (or a StopTransaction's transactionData).
  public struct MeterSample: Sendable {
    public var stationID: Int
    public var connectorID: Int
    public var transactionID: Int?
    public var sampledAt: Timestamp
    public var measurand: String
    /// The value exactly as sent.
    public var value: String
    /// The value as a number, when it reads as one.
    public var numericValue: Double?
    public var unit: String?
    public var phase: String?
    public var context: String
    public var location: String
    public var format: String
    /// An energy register normalised to Wh.
    public var energyWh: Double?

    public init(stationID: Int, connectorID: Int, transactionID: Int?, sampledAt: Timestamp,
                measurand: String, value: String, numericValue: Double?, unit: String?,
                phase: String?, context: String, location: String, format: String,
                energyWh: Double?) {
      self.stationID = stationID
      self.connectorID = connectorID
      self.transactionID = transactionID
      self.sampledAt = sampledAt
      self.measurand = measurand
      self.value = value
      self.numericValue = numericValue
      self.unit = unit
      self.phase = phase
      self.context = context
      self.location = location
      self.format = format
      self.energyWh = energyWh
    }
  }

  /// Stores one sampled value.
  public func insertMeterSample(_ sample: MeterSample) throws {
    try db.run(
      """
      INSERT INTO meter_values (station_id, connector_id, transaction_id, sampled_at, measurand,
        value, numeric_value, unit, phase, context, location, format, energy_wh)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [sample.stationID, sample.connectorID, sample.transactionID, sample.sampledAt.iso8601,
       sample.measurand, sample.value, sample.numericValue, sample.unit, sample.phase,
       sample.context, sample.location, sample.format, sample.energyWh])
  }
}
