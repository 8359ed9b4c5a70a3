/// How `evctl top` orders its station rows.
public enum LiveSort: String, CaseIterable, Sendable {
  /// By identity (the store's unique index).
  case identity
  /// Faulted first, then charging, online, unknown, offline, never connected.
  case state
  /// The most power drawn first.
  case power
  /// The longest silent first.
  case lastSeen = "last-seen"
}

/// What one refresh of the live view asks for: a page of stations, not all of them.
public struct LiveQuery: Sendable {
  /// Only this group's subtree (within the actor's base group).
  public var group: String?
  /// Only stations in this state (`online`, `charging`, `faulted`, `offline`, `never_connected`, `unknown`).
  public var state: String?
  public var sort: LiveSort = .identity
  /// The first row of the page (scrolling).
  public var offset = 0
  /// How many rows fit on the screen.
  public var limit = 20
  /// How many active alarms to list (all are counted).
  public var alarmLimit = 5

  /// Creates a query for the first page, sorted by identity.
  public init(group: String? = nil, state: String? = nil) {
    self.group = group
    self.state = state
  }
}

/// One connector on a live row.
public struct LiveConnector: Sendable, Equatable {
  public var id: Int
  public var status: String?
  /// The latest `Power.Active.Import` of its active transaction, in W.
  public var powerW: Double?
  /// Energy of its active transaction so far, in Wh.
  public var energyWh: Double?
  /// Its active transaction, if any.
  public var transactionID: Int?
}

/// One station on the live view's page.
public struct LiveStation: Sendable, Equatable {
  public var id: Int
  public var identity: String
  public var name: String
  public var state: String
  public var lastSeenAt: Timestamp?
  public var connectors: [LiveConnector]
  /// The sum of its connectors' power, when any is known, in W.
  public var powerW: Double? {
    let known = connectors.compactMap(\.powerW)
    return known.isEmpty ? nil : known.reduce(0, +)
  }
}

/// A capacity group on the live view: its limit, what the plan hands out, what cars draw.
public struct LiveCapacity: Sendable, Equatable {
  public var path: String
  /// Amperes per phase the connection carries.
  public var maxCurrent: Double
  /// The sum of the limits of its active sessions, A.
  public var allocated: Double
  /// The highest phase's sum of the latest measured currents, A; `nil` when nothing was measured.
  public var measured: Double?
  /// Active sessions in its subtree.
  public var sessions: Int
  /// The highest phase of the other load on its connection (`group load report`) while the
  /// reading is valid; `nil` without one.
  public var otherLoad: Double? = nil
}

/// One refresh of the live view: counts over the whole selection, one page of rows.
public struct LiveSnapshot: Sendable {
  public var at: Timestamp
  /// Stations per state over the whole selection (not just the page).
  public var states: [String: Int]
  /// Stations in the selection.
  public var total: Int
  /// Stations matching the state filter (the rows one can scroll through).
  public var matching: Int
  public var stations: [LiveStation]
  public var capacities: [LiveCapacity]
  /// Active alarms in the selection.
  public var alarmCount: Int
  /// The newest active alarms, up to the query's `alarmLimit`.
  public var alarms: [Alarm]
  public var serve: ServeStatus?
  /// Stations with a live connection now, in the selection.
  public var connected: Int
  /// The highest message-log id (for msg/s between two refreshes); `nil` when the log is empty.
  public var messageMark: Int?
}

extension Store {
  /// The SQL expression for a station's state, equal to ``Station/state`` (stale connections
  /// count as lost; connected stations are `unknown` while serve is down). `?1` is now, `?2`
  /// is 1 when serve is down.
  static func liveStateSQL(_ dialect: SQLDialect) -> String {
    """
    CASE
      WHEN s.connected AND s.last_seen_at >= \(dialect.time("?1", minusSeconds: "s.heartbeat_interval * 3")) THEN
        CASE
          WHEN ?2 = 1 THEN 'unknown'
          WHEN EXISTS (SELECT 1 FROM connectors c WHERE c.station_id = s.id AND c.status = 'Faulted') THEN 'faulted'
          WHEN EXISTS (SELECT 1 FROM transactions t WHERE t.station_id = s.id AND t.state = 'active') THEN 'charging'
          ELSE 'online'
        END
      WHEN s.last_seen_at IS NULL THEN 'never_connected'
      ELSE 'offline'
    END
    """
  }

  /// The states in the order `--sort state` uses.
  public static let liveStateOrder = ["faulted", "charging", "online", "unknown", "offline", "never_connected"]

  /// The groups a live query covers: `nil` for the whole network.
  func liveGroups(_ query: LiveQuery, tree: GroupTree) throws -> Set<Int>? {
    if let group = query.group {
      let resolved = try resolveGroup(group, in: tree)
      try requireDomain(resolved.id, what: "group '\(resolved.path)'")
      return tree.subtree(of: resolved.id)
    }
    return actor.baseGroupID.map { tree.subtree(of: $0) }
  }

  /// One refresh of `evctl top`: every figure is an aggregate or a page read through indexes,
  /// so the cost stays small at tens of thousands of stations.
  public func liveSnapshot(_ query: LiveQuery) throws -> LiveSnapshot {
    let tree = try groupTree()
    let groups = try liveGroups(query, tree: tree)
    let now = now()
    let serve = try serveStatus()
    let down = serve.map { !$0.running } ?? false
    // The selection as SQL: stations of these groups (by the group index), or all of them.
    let groupJSON = groups.map { JSONValue.array($0.sorted().map { .int(Int64($0)) }).compact }
    let selection = "(CAST(?3 AS TEXT) IS NULL OR s.group_id IN (\(dialect.integers(inJSONArray: "?3"))))"
    let base: [any SQLiteBindable] = [now.iso8601, down ? 1 : 0, groupJSON]
    var states: [String: Int] = [:]
    var total = 0
    var connected = 0
    for row in try db.query(
      """
      SELECT state, count(*) AS n, sum(live) AS live FROM (
        SELECT \(Store.liveStateSQL(dialect)) AS state,
          CASE WHEN s.connected AND s.last_seen_at >= \(dialect.time("?1", minusSeconds: "s.heartbeat_interval * 3"))
            AND ?2 = 0 THEN 1 ELSE 0 END AS live
        FROM stations s WHERE \(selection)) AS live_states GROUP BY state
      """, base)
    {
      let n = row.int("n") ?? 0
      states[row.string("state") ?? "unknown"] = n
      total += n
      connected += row.int("live") ?? 0
    }
    let matching = query.state.map { states[$0] ?? 0 } ?? total
    let page = try db.query(Store.livePageSQL(query.sort, dialect), base + [query.state, max(0, query.limit), max(0, query.offset)])
    let stations = try liveRows(page)
    return LiveSnapshot(
      at: now, states: states, total: total, matching: matching, stations: stations,
      capacities: try liveCapacities(groups: groups, tree: tree),
      alarmCount: try activeAlarmCount(groupJSON), alarms: try newestActiveAlarms(groupJSON, limit: query.alarmLimit),
      serve: serve, connected: connected,
      messageMark: try db.queryOne("SELECT max(id) AS id FROM message_log")?.int("id"))
  }

  /// Connectors and active sessions of a page of stations (a few dozen rows).
  func liveRows(_ page: [Row]) throws -> [LiveStation] {
    let ids = page.compactMap { $0.int("id") }
    guard !ids.isEmpty else { return [] }
    let idJSON = JSONValue.array(ids.map { .int(Int64($0)) }).compact
    var connectors: [Int: [LiveConnector]] = [:]
    for row in try db.query(
      """
      SELECT station_id, connector_id, status FROM connectors
      WHERE station_id IN (\(dialect.integers(inJSONArray: "?"))) AND connector_id > 0 ORDER BY station_id, connector_id
      """, [idJSON])
    {
      connectors[row.int("station_id")!, default: []].append(
        LiveConnector(id: row.int("connector_id") ?? 0, status: row.string("status")))
    }
    for row in try db.query(
      """
      SELECT t.id, t.station_id, t.connector_id, t.meter_start,
        (SELECT mv.energy_wh FROM meter_values mv WHERE mv.transaction_id = t.id AND mv.energy_wh IS NOT NULL
          ORDER BY mv.id DESC LIMIT 1) AS energy,
        (SELECT CASE WHEN mv.unit = 'kW' THEN mv.numeric_value * 1000 ELSE mv.numeric_value END
          FROM meter_values mv WHERE mv.transaction_id = t.id AND mv.measurand = 'Power.Active.Import'
          ORDER BY mv.id DESC LIMIT 1) AS power
      FROM transactions t WHERE t.station_id IN (\(dialect.integers(inJSONArray: "?"))) AND t.state = 'active'
      """, [idJSON])
    {
      let station = row.int("station_id")!
      let connector = row.int("connector_id") ?? 0
      var list = connectors[station] ?? []
      var index = list.firstIndex { $0.id == connector }
      if index == nil {
        list.append(LiveConnector(id: connector, status: nil))
        index = list.count - 1
      }
      list[index!].transactionID = row.int("id")
      list[index!].powerW = row.double("power")
      if let energy = row.double("energy"), let start = row.double("meter_start") {
        list[index!].energyWh = max(0, energy - start)
      }
      connectors[station] = list
    }
    return page.map { row in
      let id = row.int("id")!
      return LiveStation(
        id: id, identity: row.string("identity") ?? "", name: row.string("name") ?? "",
        state: row.string("state") ?? "unknown", lastSeenAt: row.date("last_seen_at"),
        connectors: connectors[id] ?? [])
    }
  }

  /// Capacity groups in (or above the stations of) the selection, with the plan's total and
  /// the measured draw of their active sessions.
  func liveCapacities(groups: Set<Int>?, tree: GroupTree) throws -> [LiveCapacity] {
    let capacities = try self.capacities().filter { capacity in
      guard tree.contains(capacity.groupID, under: actor.baseGroupID) else { return false }
      guard let groups else { return true }
      return groups.contains(capacity.groupID) || groups.contains { tree.contains($0, under: capacity.groupID) }
    }
    guard !capacities.isEmpty else { return [] }
    struct Charge { var group: Int?; var limit: Double; var phases: [Double?] }
    var charges: [Charge] = []
    for row in try db.query(
      """
      SELECT a.transaction_id, a.limit_amps, s.group_id FROM allocations a
      JOIN transactions t ON t.id = a.transaction_id AND t.state = 'active'
      JOIN stations s ON s.id = a.station_id
      """)
    {
      charges.append(Charge(
        group: row.int("group_id"), limit: row.double("limit_amps") ?? 0,
        phases: try measuredCurrents(transaction: row.int("transaction_id")!)))
    }
    let readings = try loadReadings()
    let now = now()
    return capacities.map { capacity in
      let reading = readings[capacity.groupID].flatMap { $0.validUntil >= now ? $0.currents.max() : nil }
      let mine = charges.filter { tree.contains($0.group, under: capacity.groupID) }
      var perPhase: [Double] = [0, 0, 0]
      var anyMeasured = false
      for charge in mine {
        for (index, value) in charge.phases.enumerated() {
          if let value { perPhase[index] += value; anyMeasured = true }
        }
      }
      return LiveCapacity(
        path: tree.byID[capacity.groupID]?.path ?? "?", maxCurrent: capacity.maxCurrent,
        allocated: mine.reduce(0) { $0 + $1.limit }, measured: anyMeasured ? perPhase.max() : nil,
        sessions: mine.count, otherLoad: reading)
    }
  }

  /// Active alarms of the selection's stations (and, for the whole network, unattached ones).
  func activeAlarmCount(_ groupJSON: String?) throws -> Int {
    try db.queryOne(
      """
      SELECT count(*) AS n FROM alarms a LEFT JOIN stations s ON s.id = a.station_id
      WHERE a.cleared_at IS NULL AND (CAST(?1 AS TEXT) IS NULL OR s.group_id IN (\(dialect.integers(inJSONArray: "?1"))))
      """, [groupJSON])?.int("n") ?? 0
  }

  func newestActiveAlarms(_ groupJSON: String?, limit: Int) throws -> [Alarm] {
    try db.query(
      """
      SELECT a.* FROM alarms a LEFT JOIN stations s ON s.id = a.station_id
      WHERE a.cleared_at IS NULL AND (CAST(?1 AS TEXT) IS NULL OR s.group_id IN (\(dialect.integers(inJSONArray: "?1"))))
      ORDER BY a.id DESC LIMIT ?2
      """, [groupJSON, max(0, limit)]
    ).map(makeAlarm)
  }

  /// The page query of a refresh sorted by `sort`: `?1`-`?3` as in ``liveStateSQL`` and the
  /// selection, `?4` the state filter, `?5` the limit, `?6` the offset.
  static func livePageSQL(_ sort: LiveSort, _ dialect: SQLDialect) -> String {
    let order: String
    switch sort {
    case .identity: order = "s.identity \(dialect.nocase)"
    case .state:
      let ranks = Store.liveStateOrder.enumerated().map { "WHEN '\($1)' THEN \($0)" }.joined(separator: " ")
      order = "CASE state \(ranks) ELSE 9 END, s.identity \(dialect.nocase)"
    case .power:
      order = """
        (SELECT sum((SELECT CASE WHEN mv.unit = 'kW' THEN mv.numeric_value * 1000 ELSE mv.numeric_value END
           FROM meter_values mv WHERE mv.transaction_id = t.id AND mv.measurand = 'Power.Active.Import'
           ORDER BY mv.id DESC LIMIT 1))
         FROM transactions t WHERE t.station_id = s.id AND t.state = 'active') DESC NULLS LAST,
        s.identity \(dialect.nocase)
        """
    case .lastSeen: order = "s.last_seen_at NULLS FIRST, s.identity \(dialect.nocase)"
    }
    return """
      SELECT * FROM (SELECT s.id, s.identity, s.name, s.last_seen_at, \(Store.liveStateSQL(dialect)) AS state
        FROM stations s WHERE (CAST(?3 AS TEXT) IS NULL OR s.group_id IN (\(dialect.integers(inJSONArray: "?3"))))) s
      WHERE CAST(?4 AS TEXT) IS NULL OR state = ?4 ORDER BY \(order) LIMIT ?5 OFFSET ?6
      """
  }

  /// The query plan of one refresh's page query (the whole network, no serve), for the test
  /// that keeps it on indexes.
  public func livePagePlan(_ query: LiveQuery) throws -> [String] {
    try db.query(
      "EXPLAIN QUERY PLAN " + Store.livePageSQL(query.sort, dialect),
      [now().iso8601, 0, nil as String?, query.state, query.limit, query.offset]
    ).compactMap { $0.string("detail") }
  }
}
