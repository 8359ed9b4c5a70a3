extension Store {
  func makeAlarm(_ row: Row) -> Alarm {
    Alarm(
      id: row.int("id")!, stationID: row.int("station_id"), identity: row.string("identity") ?? "",
      kind: row.string("kind") ?? "", connectorID: row.int("connector_id"), code: row.string("code"),
      detail: row.string("detail"), raisedAt: row.date("raised_at") ?? Timestamp(milliseconds: 0),
      clearedAt: row.date("cleared_at"), acknowledgedAt: row.date("acknowledged_at"),
      acknowledgedBy: row.string("acknowledged_by"))
  }

  /// Raises an alarm unless the same one (station or identity, kind, connector) is active.
  ///
  /// - Returns: the new alarm, or `nil` when it was already raised.
  @discardableResult
  public func raiseAlarm(
    stationID: Int?, identity: String, kind: AlarmKind, connectorID: Int? = nil, code: String? = nil,
    detail: String?, at time: Timestamp
  ) throws -> Alarm? {
    let existing = try db.queryOne(
      """
      SELECT id FROM alarms WHERE coalesce(station_id, -1) = coalesce(?, -1) AND identity = ? AND kind = ?
        AND coalesce(connector_id, -1) = coalesce(?, -1) AND cleared_at IS NULL
        AND (? IS NULL OR coalesce(code, '') = ? OR kind <> 'stuck_transaction')
      """, [stationID, identity, kind.rawValue, connectorID, code, code ?? ""])
    if existing != nil { return nil }
    try db.run(
      """
      INSERT INTO alarms (station_id, identity, kind, connector_id, code, detail, raised_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      """, [stationID, identity, kind.rawValue, connectorID, code, detail, time.iso8601])
    return makeAlarm(try db.queryOne("SELECT * FROM alarms WHERE id = ?", [db.lastInsertRowID])!)
  }

  /// Clears the active alarms of a kind for a station (and connector, when given).
  @discardableResult
  public func clearAlarms(stationID: Int, kind: AlarmKind, connectorID: Int? = nil, code: String? = nil,
                          at time: Timestamp) throws -> Int {
    try db.run(
      """
      UPDATE alarms SET cleared_at = ? WHERE station_id = ? AND kind = ? AND cleared_at IS NULL
        AND (? IS NULL OR connector_id = ?) AND (? IS NULL OR code = ?)
      """, [time.iso8601, stationID, kind.rawValue, connectorID, connectorID, code, code])
  }

  /// Clears the `not_registered` alarms raised for an identity (before the station existed, so
  /// without a station id) and ties them to the station: called when the station is created and
  /// when it boots successfully.
  @discardableResult
  public func clearNotRegistered(identity: String, stationID: Int, at time: Timestamp) throws -> Int {
    try db.run(
      """
      UPDATE alarms SET cleared_at = coalesce(cleared_at, ?1), station_id = ?2
      WHERE kind = 'not_registered' AND (station_id = ?2 OR (station_id IS NULL
        AND identity = ?3 COLLATE NOCASE)) AND (cleared_at IS NULL OR station_id IS NULL)
      """, [time.iso8601, stationID, identity])
  }

  /// Alarms the actor may see: active ones, the history, or both; newest first.
  ///
  /// `station` names a station, or an identity that is not (yet) a station but has alarms (an
  /// unregistered station that tried to connect); the station's alarms include those raised for
  /// its identity before it was created.
  public func alarms(active: Bool?, station: String? = nil, limit: Int = 1000) throws -> [Alarm] {
    let tree = try groupTree()
    var stationID: Int?
    if let station {
      do {
        stationID = try self.station(station).id
      } catch let error as StoreError {
        let known = try db.queryOne(
          "SELECT 1 FROM alarms WHERE station_id IS NULL AND identity = ? COLLATE NOCASE LIMIT 1",
          [station])
        guard known != nil else { throw error }
      }
    }
    return try db.query(
      """
      SELECT a.*, s.group_id FROM alarms a LEFT JOIN stations s ON s.id = a.station_id
      WHERE (?1 IS NULL OR (a.cleared_at IS NULL) = ?1)
        AND (?4 IS NULL OR a.station_id = ?2 OR (a.station_id IS NULL AND a.identity = ?4 COLLATE NOCASE))
      ORDER BY a.id DESC LIMIT ?3
      """, [active.map { $0 ? 1 : 0 }, stationID, limit, station]
    ).filter { row in
      guard let base = actor.baseGroupID else { return true }
      return row.int("station_id") != nil && tree.contains(row.int("group_id"), under: base)
    }.map(makeAlarm)
  }

  /// Acknowledges an alarm: someone has seen it (it stays active until its cause clears).
  @discardableResult
  public func acknowledgeAlarm(_ id: Int) throws -> Alarm {
    guard let alarm = try alarms(active: nil).first(where: { $0.id == id }) else {
      throw StoreError.notFound(kind: "alarm", name: String(id))
    }
    if alarm.acknowledgedAt == nil {
      try db.run(
        "UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?",
        [now().iso8601, actor.displayName, id])
    }
    return makeAlarm(try db.queryOne("SELECT * FROM alarms WHERE id = ?", [id])!)
  }
}
