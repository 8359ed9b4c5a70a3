import Testing

@testable import EvctlCore

/// `evctl top`'s refresh (issue 16 item 1): the same states as `station list`, one page at a
/// time, through indexes.
@Suite struct LiveViewTests {
  static let now = Timestamp(parsing: "2026-12-03T12:00:00Z")!

  /// Stations in every state the store knows, made by writing what serve would write.
  func storeWithEveryState() throws -> Store {
    let store = try makeStore(now: Self.now)
    _ = try store.createGroup(name: "Garage", parent: nil, kind: .site)
    let recent = Self.now.adding(seconds: -10).iso8601
    let stale = Self.now.adding(seconds: -3600).iso8601
    for (identity, group) in [("A-ONLINE", "Garage"), ("B-CHARGING", "Garage"), ("C-FAULTED", "Garage"),
                              ("D-STALE", "Garage"), ("E-OFFLINE", nil), ("F-NEVER", nil)] {
      try store.createStation(identity: identity, name: identity, group: group, connectors: 2)
    }
    try store.db.run("UPDATE stations SET connected = TRUE, last_seen_at = ? WHERE identity IN ('A-ONLINE', 'B-CHARGING', 'C-FAULTED')", [recent])
    try store.db.run("UPDATE stations SET connected = TRUE, last_seen_at = ? WHERE identity = 'D-STALE'", [stale])
    try store.db.run("UPDATE stations SET connected = FALSE, last_seen_at = ? WHERE identity = 'E-OFFLINE'", [stale])
    try store.db.run("UPDATE connectors SET status = 'Faulted' WHERE connector_id = 2 AND station_id = (SELECT id FROM stations WHERE identity = 'C-FAULTED')")
    try store.db.run(
      """
      INSERT INTO transactions (id, station_id, connector_id, id_tag, authorization_status, meter_start, started_at,
        start_timestamp_raw, received_at) SELECT 7, id, 1, 'TAG', 'Accepted', 1000, ?1, ?2, ?1 FROM stations WHERE identity = 'B-CHARGING'
      """, [recent, recent])
    // One row per statement: a parameter under UNION ALL would be text to PostgreSQL.
    for row in ["'Energy.Active.Import.Register', '3500', 3500, 'Wh', 3500", "'Power.Active.Import', '11', 11, 'kW', NULL"] {
      try store.db.run(
        """
        INSERT INTO meter_values (station_id, connector_id, transaction_id, sampled_at, measurand, value, numeric_value, unit, energy_wh)
        SELECT id, 1, 7, ?1, \(row) FROM stations WHERE identity = 'B-CHARGING'
        """, [recent])
    }
    return store
  }

  @Test func everyRowHasTheStateStationListShowsAndTheCountsCoverTheSelection() throws {
    let store = try storeWithEveryState()
    var query = LiveQuery()
    query.limit = 100
    let snapshot = try store.liveSnapshot(query)
    #expect(snapshot.total == 6)
    for row in snapshot.stations {
      #expect(row.state == (try store.station(row.identity)).state, "\(row.identity)")
    }
    #expect(snapshot.states == ["online": 1, "charging": 1, "faulted": 1, "offline": 2, "never_connected": 1])
    #expect(snapshot.connected == 3)
    let charging = try #require(snapshot.stations.first { $0.identity == "B-CHARGING" })
    #expect(charging.powerW == 11_000)
    #expect(charging.connectors.first?.energyWh == 2500)
    // A group, a state filter and an order narrow the page, not the counts of the group.
    query = LiveQuery(group: "Garage", state: "offline")
    let garage = try store.liveSnapshot(query)
    #expect(garage.total == 4 && garage.matching == 1 && garage.stations.map(\.identity) == ["D-STALE"])
    query = LiveQuery()
    query.sort = .state
    #expect(try store.liveSnapshot(query).stations.map(\.identity)
      == ["C-FAULTED", "B-CHARGING", "A-ONLINE", "D-STALE", "E-OFFLINE", "F-NEVER"])
    query.sort = .power
    #expect(try store.liveSnapshot(query).stations.first?.identity == "B-CHARGING")
    // With serve down, connected stations are unknown, as in `station list`.
    try store.acquireServeLock(pid: 1, host: ProcessFacts.hostName, listen: "a:1")
    let down = try store.liveSnapshot(LiveQuery())
    #expect(down.states["unknown"] == 3 && down.connected == 0)
    for row in down.stations { #expect(row.state == (try store.station(row.identity)).state) }
  }

  /// SQLite only: the plan asserted is SQLite's (EXPLAIN QUERY PLAN), and so is printf.
  @Test func aRefreshAtTwentyThousandStationsReadsOnePageThroughIndexes() throws {
    let store = try makeStore(now: Self.now, sqlite: true)
    try store.db.run(
      """
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999)
      INSERT INTO stations (identity, name, created_at, updated_at)
        SELECT printf('CP-%05d', i), 'x', ?1, ?1 FROM n
      """, [Self.now.iso8601])
    try store.db.run("INSERT INTO connectors (station_id, connector_id) SELECT id, 1 FROM stations")
    var query = LiveQuery()
    query.limit = 25
    query.offset = 19_990
    let snapshot = try store.liveSnapshot(query)
    #expect(snapshot.total == 20_000 && snapshot.states == ["never_connected": 20_000])
    #expect(snapshot.stations.map(\.identity) == (19_990..<20_000).map { "CP-" + String($0) })
    // The page walks the identity index; every per-station lookup is a search, never a scan.
    let plan = try store.livePagePlan(LiveQuery())
    #expect(plan.contains { $0.contains("SCAN s USING") && $0.contains("INDEX") }, "\(plan)")
    #expect(!plan.contains { $0.hasPrefix("SCAN") && !$0.contains("INDEX") }, "\(plan)")
    #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "no sort of all stations: \(plan)")
  }
}
