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

  /// Clears the active alarms of a kind that belong to no station (raised about serve itself or
  /// an unknown identity).
  @discardableResult
  public func clearUnattachedAlarms(identity: String, kind: AlarmKind, at time: Timestamp) throws -> Int {
    try db.run(
      "UPDATE alarms SET cleared_at = ? WHERE station_id IS NULL AND identity = ? AND kind = ? AND cleared_at IS NULL",
      [time.iso8601, identity, kind.rawValue])
  }

  /// Alarms the actor may see: active ones, the history, or both; newest first.
  public func alarms(active: Bool?, station: String? = nil, limit: Int = 1000) throws -> [Alarm] {
    let tree = try groupTree()
    let stationID = try station.map { try self.station($0).id }
    return try db.query(
      """
      SELECT a.*, s.group_id FROM alarms a LEFT JOIN stations s ON s.id = a.station_id
      WHERE (?1 IS NULL OR (a.cleared_at IS NULL) = ?1) AND (?2 IS NULL OR a.station_id = ?2)
      ORDER BY a.id DESC LIMIT ?3
      """, [active.map { $0 ? 1 : 0 }, stationID, limit]
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
