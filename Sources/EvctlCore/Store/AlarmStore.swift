extension Store {
  func makeAlarm(_ row: Row) -> Alarm {
    Alarm(
      id: row.int("id")!, stationID: row.int("station_id"), identity: row.string("identity") ?? "",
      kind: row.string("kind") ?? "", connectorID: row.int("connector_id"), code: row.string("code"),
      detail: row.string("detail"), raisedAt: row.date("raised_at") ?? Timestamp(milliseconds: 0),
      clearedAt: row.date("cleared_at"), acknowledgedAt: row.date("acknowledged_at"),
      acknowledgedBy: row.string("acknowledged_by"), occurrences: row.int("occurrences") ?? 1,
      lastSeenAt: row.date("last_seen_at"))
  }

  /// Raises an alarm unless the same one (station or identity, kind, connector) is active; then
  /// the active one counts `occurrences` more and notes when it was last seen.
  ///
  /// - Returns: the new alarm, or `nil` when it was already raised.
  @discardableResult
  public func raiseAlarm(
    stationID: Int?, identity: String, kind: AlarmKind, connectorID: Int? = nil, code: String? = nil,
    detail: String?, occurrences: Int = 1, at time: Timestamp
  ) throws -> Alarm? {
    let match = """
      kind = ? AND coalesce(connector_id, -1) = coalesce(?, -1) AND cleared_at IS NULL
        AND (CAST(? AS TEXT) IS NULL OR coalesce(code, '') = ? OR kind <> 'stuck_transaction')
      """
    let existing: Row?
    if let stationID {
      existing = try db.queryOne(
        "SELECT id FROM alarms WHERE station_id = ? AND identity = ? AND " + match,
        [stationID, identity, kind.rawValue, connectorID, code, code ?? ""])
    } else {
      existing = try db.queryOne(
        "SELECT id FROM alarms WHERE station_id IS NULL AND identity = ? AND " + match,
        [identity, kind.rawValue, connectorID, code, code ?? ""])
    }
    if let id = existing?.int("id") {
      try db.run(
        "UPDATE alarms SET occurrences = occurrences + ?, last_seen_at = ? WHERE id = ?",
        [occurrences, time.iso8601, id])
      return nil
    }
    let newID = try db.insertReturningID(
      """
      INSERT INTO alarms (station_id, identity, kind, connector_id, code, detail, raised_at, occurrences, last_seen_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      """, [stationID, identity, kind.rawValue, connectorID, code, detail, time.iso8601, occurrences, time.iso8601])
    return makeAlarm(try db.queryOne("SELECT * FROM alarms WHERE id = ?", [newID])!)
  }

  /// How many alarms about unknown identities are active (each identity has at most one).
  public func activeUnknownIdentityAlarms() throws -> Int {
    try db.queryOne(
      "SELECT count(*) AS n FROM alarms WHERE station_id IS NULL AND kind = 'not_registered' AND cleared_at IS NULL"
    )?.int("n") ?? 0
  }

  /// Clears the `not_registered` alarms of identities not seen since `before`.
  @discardableResult
  public func clearQuietUnknownIdentities(before: Timestamp, at time: Timestamp) throws -> Int {
    try db.run(
      """
      UPDATE alarms SET cleared_at = ? WHERE station_id IS NULL AND kind = 'not_registered'
        AND cleared_at IS NULL AND coalesce(last_seen_at, raised_at) < ?
      """, [time.iso8601, before.iso8601])
  }

  /// Deletes up to `limit` events and up to `limit` cleared alarms older than `before`.
  ///
  /// - Returns: how many rows went; the caller repeats while it is `limit` or more.
  @discardableResult
  public func pruneEventsAndClearedAlarms(before: Timestamp, limit: Int) throws -> Int {
    let cutoff = before.iso8601
    let events = try db.run(
      "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)",
      [cutoff, limit])
    let alarms = try db.run(
      """
      DELETE FROM alarms WHERE id IN (SELECT id FROM alarms WHERE cleared_at IS NOT NULL
        AND cleared_at < ? ORDER BY cleared_at LIMIT ?)
      """, [cutoff, limit])
    return max(events, alarms)
  }

  /// Clears the active alarms of a kind for a station (and connector, when given).
  @discardableResult
  public func clearAlarms(stationID: Int, kind: AlarmKind, connectorID: Int? = nil, code: String? = nil,
                          at time: Timestamp) throws -> Int {
    try db.run(
      """
      UPDATE alarms SET cleared_at = ? WHERE station_id = ? AND kind = ? AND cleared_at IS NULL
        AND (CAST(? AS BIGINT) IS NULL OR connector_id = ?) AND (CAST(? AS TEXT) IS NULL OR code = ?)
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
        AND identity = ?3 \(dialect.nocase))) AND (cleared_at IS NULL OR station_id IS NULL)
      """, [time.iso8601, stationID, identity])
  }

  /// Clears the active alarms of a kind that belong to no station (raised about serve itself or
  /// an unknown identity).
  @discardableResult
  public func clearUnattachedAlarms(identity: String, kind: AlarmKind, at time: Timestamp) throws -> Int {
    try db.run(
      "UPDATE alarms SET cleared_at = ? WHERE station_id IS NULL AND identity = ? AND kind = ? AND cleared_at IS NULL",
      [time.iso8601, identity, kind.rawValue])
  }

  /// Alarms the actor may see, newest first: every active one (never cut off), and with
  /// `active: nil` also the newest `limit` cleared ones.
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
          "SELECT 1 FROM alarms WHERE station_id IS NULL AND identity = ? \(dialect.nocase) LIMIT 1",
          [station])
        guard known != nil else { throw error }
      }
    }
    func visible(_ row: Row) -> Bool {
      guard let base = actor.baseGroupID else { return true }
      return row.int("station_id") != nil && tree.contains(row.int("group_id"), under: base)
    }
    var rows: [Row] = []
    if active != false {
      rows += try db.query(
        """
        SELECT a.*, s.group_id FROM alarms a LEFT JOIN stations s ON s.id = a.station_id
        WHERE a.cleared_at IS NULL
          AND (CAST(?2 AS TEXT) IS NULL OR a.station_id = ?1 OR (a.station_id IS NULL AND a.identity = ?2 \(dialect.nocase)))
        ORDER BY a.id DESC
        """, [stationID, station]
      ).filter(visible)
    }
    if active != true {
      // Cleared alarms page by id; the actor's filter applies before the limit.
      var before = Int.max
      var cleared: [Row] = []
      while cleared.count < limit {
        let page = try db.query(
          """
          SELECT a.*, s.group_id FROM alarms a LEFT JOIN stations s ON s.id = a.station_id
          WHERE a.cleared_at IS NOT NULL AND a.id < ?1
            AND (CAST(?4 AS TEXT) IS NULL OR a.station_id = ?2 OR (a.station_id IS NULL AND a.identity = ?4 \(dialect.nocase)))
          ORDER BY a.id DESC LIMIT ?3
          """, [before, stationID, limit, station])
        guard let last = page.last?.int("id") else { break }
        before = last
        cleared += page.filter(visible)
      }
      rows += cleared.prefix(limit)
    }
    return rows.map(makeAlarm).sorted { $0.id > $1.id }
  }

  /// One alarm by id, if the actor may see it.
  public func alarm(_ id: Int) throws -> Alarm? {
    guard let row = try db.queryOne(
      "SELECT a.*, s.group_id FROM alarms a LEFT JOIN stations s ON s.id = a.station_id WHERE a.id = ?", [id])
    else { return nil }
    if let base = actor.baseGroupID {
      guard row.int("station_id") != nil, try groupTree().contains(row.int("group_id"), under: base) else { return nil }
    }
    return makeAlarm(row)
  }

  /// Acknowledges an alarm: someone has seen it (it stays active until its cause clears).
  @discardableResult
  public func acknowledgeAlarm(_ id: Int) throws -> Alarm {
    guard let alarm = try alarm(id) else {
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
