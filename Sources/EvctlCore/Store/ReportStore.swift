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
    try forEachSessionRow(filter) { try body($0.record) }
  }

  /// ``forEachSession(_:_:)`` without a ``SessionRecord`` per session: each matching row is
  /// passed read in place, its text columns by position (``SessionRow``), for reports that
  /// write millions of rows.
  public func forEachSessionRow(_ filter: SessionFilter, _ body: (SessionRow) throws -> Void) throws {
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
    try db.forEachRawRow(
      Store.sessionSelect(dialect),
      [filter.from?.iso8601, filter.to?.iso8601, stationID, idTag, email,
       filter.active.map { $0 ? 1 : 0 }]
    ) { row in
      typealias C = SessionRow.Column
      let groupID = row.int(C.groupID)
      if base != nil, !tree.contains(groupID, under: base) { return }
      if !subtrees.isEmpty, !subtrees.contains(where: { $0.contains(groupID ?? -1) }) { return }
      let stationID = row.int(C.stationID)
      if !stationIDs.isEmpty, !stationIDs.contains(stationID ?? -1) { return }
      if !idTags.isEmpty, !idTags.contains(row.string(C.idTag) ?? "") { return }
      if !emails.isEmpty, !emails.contains(row.string(C.userEmail)?.lowercased() ?? "") { return }
      let connectorID = row.int(C.connectorID)
      if !connectors.isEmpty, !connectors.contains(connectorID ?? -1) { return }
      let meterStart = row.int(C.meterStart) ?? 0
      let meterStop = row.int(C.meterStop)
      var energy: Double?
      var implausible: String?
      switch MeterPlausibility.energy(meterStart: meterStart, meterStop: meterStop, maxEnergyWh: row.double(C.maxEnergy)) {
      case .success(let value): energy = value
      case .failure(let problem): implausible = problem.reason
      }
      let authorization: String
      if row.bool(C.remote) {
        authorization = "remote"
      } else if row.equals(C.connectorMode, "open") || (row.isNull(C.tokenID) && row.isNull(C.userEmail)) {
        // A deleted token leaves token_id NULL; the user recorded on the session says it was rfid.
        authorization = "anonymous"
      } else {
        authorization = "rfid"
      }
      if !authorizations.isEmpty, !authorizations.contains(authorization) { return }
      func time(_ index: Int) -> Timestamp? {
        row.withUTF8(index) { $0.flatMap(Timestamp.init(parsingUTF8:)) }
      }
      let session = SessionRow(
        columns: row, id: row.int(C.id)!, startedAt: time(C.startedAt) ?? Timestamp(milliseconds: 0),
        stoppedAt: time(C.stoppedAt), stationID: stationID!, connectorID: connectorID ?? 0,
        groupID: groupID, groupPath: groupID.flatMap { paths[$0] }, authorization: authorization,
        meterStart: meterStart, meterStop: meterStop, energyWh: energy,
        receivedAt: time(C.receivedAt) ?? Timestamp(milliseconds: 0), implausible: implausible)
      if let minimum = filter.minimumEnergyWh, (session.energyWh ?? 0) < minimum { return }
      if let minimum = filter.minimumDurationSeconds, session.durationSeconds(now: now) < minimum {
        return
      }
      try body(session)
    }
  }
}

/// One session of ``Store/forEachSessionRow(_:_:)``: what filtering decoded, and the row itself
/// for the text columns (read in place). Valid only inside the call that passed it.
public struct SessionRow: SessionTimes {
  /// Positions in ``Store/sessionSelect(_:)``'s select list.
  public enum Column {
    public static let id = 0, startedAt = 1, stoppedAt = 2, stationID = 3, identity = 4, stationName = 5
    public static let connectorID = 6, groupID = 7, connectorMode = 8, idTag = 9, tokenID = 10, userEmail = 11
    public static let meterStart = 12, meterStop = 13, stopReason = 14, state = 15, receivedAt = 16
    public static let closedBy = 17, maxEnergy = 18, remote = 19
  }

  /// The row, for the text columns (``Column``).
  public let columns: ColumnReader
  public let id: Int
  public let startedAt: Timestamp
  public let stoppedAt: Timestamp?
  public let stationID: Int
  public let connectorID: Int
  public let groupID: Int?
  public let groupPath: String?
  /// As in ``SessionRecord/authorization``.
  public let authorization: String
  public let meterStart: Int
  public let meterStop: Int?
  /// As in ``SessionRecord/energyWh``.
  public let energyWh: Double?
  public let receivedAt: Timestamp
  public let implausible: String?

  /// The session as a ``SessionRecord`` (allocates its strings).
  public var record: SessionRecord {
    typealias C = Column
    return SessionRecord(
      id: id, startedAt: startedAt, stoppedAt: stoppedAt, stationID: stationID,
      stationIdentity: columns.string(C.identity) ?? "", stationName: columns.string(C.stationName) ?? "",
      connectorID: connectorID, groupID: groupID, groupPath: groupPath, authorization: authorization,
      idTag: columns.string(C.idTag) ?? "", userEmail: columns.string(C.userEmail),
      meterStart: meterStart, meterStop: meterStop, energyWh: energyWh,
      stopReason: columns.string(C.stopReason), state: columns.string(C.state) ?? "",
      receivedAt: receivedAt, closedBy: columns.string(C.closedBy), implausible: implausible)
  }
}
