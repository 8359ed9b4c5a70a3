/// What stations did, as the CLI reads it: events, status changes, logged frames and reported
/// notifications. Results are rows named by column, in the order the views show them.
extension Store {
  /// Status changes and events across stations, oldest first, the newest `limit` of them.
  /// Columns: at, received_at, station_id, identity, connector_id, kind, status, error_code,
  /// info, vendor_error_code.
  public func networkEventRows(stationID: Int?, kind: String?, since: String, limit: Int) throws -> [Row] {
    try db.query(
      """
      SELECT * FROM (SELECT * FROM (
        SELECT coalesce(reported_at, received_at) AS at, received_at, station_id, NULL AS identity,
          connector_id, 'status' AS kind, status, error_code, info, vendor_error_code FROM status_events
          WHERE received_at > ?1 AND (CAST(?2 AS BIGINT) IS NULL OR station_id = ?2) AND (CAST(?3 AS TEXT) IS NULL OR ?3 = 'status')
        UNION ALL
        SELECT coalesce(reported_at, at), at, station_id, identity, NULL, kind, NULL, NULL, detail, NULL
          FROM events WHERE at > ?1 AND (CAST(?2 AS BIGINT) IS NULL OR station_id = ?2) AND (CAST(?3 AS TEXT) IS NULL OR kind = ?3)
        ) AS happened ORDER BY received_at DESC, coalesce(station_id, 0) DESC, kind DESC, coalesce(connector_id, -1) DESC,
          coalesce(info, '') DESC LIMIT ?4) AS newest
      ORDER BY received_at, coalesce(station_id, 0), kind, coalesce(connector_id, -1), coalesce(info, '')
      """, [Store.timeOrEarliest(since), stationID, kind, limit])
  }

  /// One station's status changes and events, oldest first, the newest `limit` of them; with a
  /// connector, only its status changes. Columns: at, received_at, connector, event, error_code,
  /// info, vendor_error_code.
  public func stationEventRows(stationID: Int, connector: Int?, since: String, limit: Int) throws -> [Row] {
    try db.query(
      """
      SELECT * FROM (SELECT * FROM (
        SELECT coalesce(reported_at, received_at) AS at, received_at, connector_id AS connector,
          status AS event, error_code, info, vendor_error_code FROM status_events
          WHERE station_id = ?1 AND received_at > ?2 AND (CAST(?3 AS BIGINT) IS NULL OR connector_id = ?3)
        UNION ALL
        SELECT coalesce(reported_at, at), at, NULL, kind, NULL, detail, NULL FROM events
          WHERE station_id = ?1 AND at > ?2 AND CAST(?3 AS BIGINT) IS NULL
        ) AS happened ORDER BY received_at DESC, event DESC, coalesce(connector, -1) DESC, coalesce(info, '') DESC LIMIT ?4) AS newest
      ORDER BY received_at, event, coalesce(connector, -1), coalesce(info, '')
      """, [stationID, Store.timeOrEarliest(since), connector, limit])
  }

  /// A station's newest `limit` logged frames, oldest first. Columns: id, station_id,
  /// direction, at, frame.
  public func messageLogRows(stationID: Int, newest limit: Int) throws -> [Row] {
    try db.query(
      "SELECT * FROM (SELECT * FROM message_log WHERE station_id = ? ORDER BY id DESC LIMIT ?) AS newest ORDER BY id",
      [stationID, limit])
  }

  /// `since` (ISO 8601 text), or a time before every stored one when it is empty: "from the
  /// beginning" in a form both backends compare as a time.
  static func timeOrEarliest(_ since: String) -> String {
    since.isEmpty ? "0001-01-01T00:00:00.000Z" : since
  }

  /// A station's logged frames after frame `id`, oldest first (for `--follow`).
  public func messageLogRows(stationID: Int, after id: Int) throws -> [Row] {
    try db.query(
      "SELECT * FROM message_log WHERE station_id = ? AND id > ? ORDER BY id", [stationID, id])
  }

  /// The reported status of every connector (not connector 0), with its station id.
  public func connectorStatuses() throws -> [(stationID: Int, status: String?)] {
    try db.query("SELECT station_id, status FROM connectors WHERE connector_id > 0").compactMap { row in
      row.int("station_id").map { ($0, row.string("status")) }
    }
  }

  /// The identity of the station a transaction belongs to, or `nil` for an unknown id.
  public func transactionStationIdentity(_ id: Int) throws -> String? {
    try db.queryOne(
      "SELECT s.identity FROM transactions t JOIN stations s ON s.id = t.station_id WHERE t.id = ?", [id]
    )?.string("identity")
  }

  /// The newest active transaction on a station's connector, or `nil`.
  public func activeTransactionID(stationID: Int, connectorID: Int) throws -> Int? {
    try db.queryOne(
      "SELECT id FROM transactions WHERE station_id = ? AND connector_id = ? AND state = 'active' ORDER BY id DESC",
      [stationID, connectorID])?.int("id")
  }

  /// The newest 50 notifications of the given actions a station sent, newest first. Columns:
  /// action, payload, received_at.
  public func reportedNotificationRows(stationID: Int, actions: [String]) throws -> [Row] {
    let placeholders = Array(repeating: "?", count: actions.count).joined(separator: ", ")
    return try db.query(
      "SELECT action, payload, received_at FROM station_data WHERE station_id = ? AND action IN (\(placeholders)) ORDER BY id DESC LIMIT 50",
      [stationID as any SQLiteBindable] + actions.map { $0 as any SQLiteBindable })
  }

  /// A station's newest 50 events of `kind`, newest first. Columns: at, detail.
  public func stationEventDetails(stationID: Int, kind: String) throws -> [Row] {
    try db.query(
      "SELECT at, detail FROM events WHERE station_id = ? AND kind = ? ORDER BY id DESC LIMIT 50",
      [stationID, kind])
  }
}
