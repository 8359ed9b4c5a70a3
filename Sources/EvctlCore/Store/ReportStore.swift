extension Store {
  static func sessionSelect(_ dialect: SQLDialect) -> String {
    """
    SELECT t.id, t.started_at, t.stopped_at, t.station_id, s.identity, s.name AS station_name,
      t.connector_id, s.group_id, c.mode AS connector_mode, t.id_tag, t.token_id, coalesce(t.user_email, u.email) AS user_email,
      t.meter_start, t.meter_stop, t.stop_reason, t.state, t.received_at, t.closed_by,
      CASE WHEN t.meter_stop IS NULL THEN
        (SELECT max(energy_wh) FROM meter_values mv WHERE mv.transaction_id = t.id) END AS max_energy,
      EXISTS (SELECT 1 FROM commands k WHERE k.station_id = t.station_id
        AND k.action = 'RemoteStartTransaction' AND k.state = 'accepted'
        AND \(dialect.jsonText("k.payload", key: "idTag")) = t.id_tag
        AND k.created_at BETWEEN \(dialect.time("t.received_at", minusSeconds: "300")) AND t.received_at
      ) AS remote
    FROM transactions t
    JOIN stations s ON s.id = t.station_id
    LEFT JOIN connectors c ON c.station_id = t.station_id AND c.connector_id = t.connector_id
    LEFT JOIN tokens tk ON tk.id = t.token_id
    LEFT JOIN charging_users u ON u.id = tk.user_id
    WHERE (t.started_at >= ?1 OR ?1 IS NULL) AND (t.started_at < ?2 OR ?2 IS NULL)
      AND (t.station_id = ?3 OR ?3 IS NULL) AND (t.id_tag = ?4 OR ?4 IS NULL)
      AND (coalesce(t.user_email, u.email) = ?5 OR ?5 IS NULL)
      AND (CASE WHEN t.state = 'active' THEN 1 ELSE 0 END = ?6 OR ?6 IS NULL)
    ORDER BY t.started_at, t.id
    """
  }

  /// Calls `body` for every session the actor may see that matches `filter`, oldest first,
  /// without holding them all in memory.
  public func forEachSession(_ filter: SessionFilter, _ body: (SessionRecord) throws -> Void) throws {
    let tree = try groupTree()
    let stationIDs = Set(try filter.stations.map { try station($0).id })
    let subtrees = try filter.groups.map { tree.subtree(of: try resolveGroup($0, in: tree).id) }
    let idTags = Set(try filter.idTags.map { try IdTagCanonicalizer.canonical($0) })
    let emails = Set(filter.userEmails.map { $0.lowercased() })
    let connectors = Set(filter.connectors)
    let authorizations = Set(filter.authorizations)
    let now = now()
    // One value goes to SQL (and its indexes); several are matched below.
    let stationID = stationIDs.count == 1 ? stationIDs.first : nil
    let idTag = idTags.count == 1 ? idTags.first : nil
    let email = filter.userEmails.count == 1 ? filter.userEmails.first : nil
    let base = actor.baseGroupID
    var paths: [Int: String] = [:]
    for (id, group) in tree.byID { paths[id] = group.path }
    // Columns by position, in the order of `sessionSelect`'s select list.
    let names = ["id", "started_at", "stopped_at", "station_id", "identity", "station_name",
                 "connector_id", "group_id", "connector_mode", "id_tag", "token_id", "user_email",
                 "meter_start", "meter_stop", "stop_reason", "state", "received_at", "closed_by",
                 "max_energy", "remote"]
    try db.forEachRow(
      Store.sessionSelect(dialect),
      [filter.from?.iso8601, filter.to?.iso8601, stationID, idTag, email,
       filter.active.map { $0 ? 1 : 0 }]
    ) { row in
      assert(row.values.count == names.count)
      let groupID = row.values[7].int
      if base != nil, !tree.contains(groupID, under: base) { return }
      if !subtrees.isEmpty, !subtrees.contains(where: { $0.contains(groupID ?? -1) }) { return }
      if !stationIDs.isEmpty, !stationIDs.contains(row.values[3].int ?? -1) { return }
      if !idTags.isEmpty, !idTags.contains(row.values[9].string ?? "") { return }
      if !emails.isEmpty, !emails.contains(row.values[11].string?.lowercased() ?? "") { return }
      if !connectors.isEmpty, !connectors.contains(row.values[6].int ?? -1) { return }
      let meterStart = row.values[12].int ?? 0
      let meterStop = row.values[13].int
      var energy: Double?
      var implausible: String?
      switch MeterPlausibility.energy(meterStart: meterStart, meterStop: meterStop, maxEnergyWh: row.values[18].double) {
      case .success(let value): energy = value
      case .failure(let problem): implausible = problem.reason
      }
      let authorization: String
      if row.values[19].bool {
        authorization = "remote"
      } else if row.values[8].string == "open" || (row.values[10].int == nil && row.values[11].string == nil) {
        // A deleted token leaves token_id NULL; the user recorded on the session says it was rfid.
        authorization = "anonymous"
      } else {
        authorization = "rfid"
      }
      if !authorizations.isEmpty, !authorizations.contains(authorization) { return }
      let record = SessionRecord(
        id: row.values[0].int!, startedAt: row.values[1].string.flatMap(Timestamp.init(parsing:)) ?? Timestamp(milliseconds: 0),
        stoppedAt: row.values[2].string.flatMap(Timestamp.init(parsing:)), stationID: row.values[3].int!,
        stationIdentity: row.values[4].string ?? "", stationName: row.values[5].string ?? "",
        connectorID: row.values[6].int ?? 0, groupID: groupID,
        groupPath: groupID.flatMap { paths[$0] }, authorization: authorization,
        idTag: row.values[9].string ?? "", userEmail: row.values[11].string,
        meterStart: meterStart, meterStop: meterStop, energyWh: energy,
        stopReason: row.values[14].string, state: row.values[15].string ?? "",
        receivedAt: row.values[16].string.flatMap(Timestamp.init(parsing:)) ?? Timestamp(milliseconds: 0),
        closedBy: row.values[17].string, implausible: implausible)
      if let minimum = filter.minimumEnergyWh, (record.energyWh ?? 0) < minimum { return }
      if let minimum = filter.minimumDurationSeconds, record.durationSeconds(now: now) < minimum {
        return
      }
      try body(record)
    }
  }
}
