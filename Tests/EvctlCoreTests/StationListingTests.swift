import Testing

@testable import EvctlCore

/// `station list` at scale (issue 15 item 7): one grouped query instead of three counts per
/// station, and JSON written straight from the station with the same bytes as before.
@Suite struct StationListingTests {
  /// Stations in every state the counts decide (charging, faulted, online, never connected),
  /// one with every optional field set, text that needs escaping, and decimals.
  func storeWithStations() throws -> Store {
    let store = try makeStore()
    try store.createGroup(name: "HQ", parent: nil, kind: .site)
    var details = StationDetails()
    details.address = "Main \"Gate\" 1\\2\nback"
    details.latitude = 60.1699
    details.longitude = 24.0
    details.externalID = "ext-7"
    details.maxCurrent = 31.5
    try store.createStation(identity: "B-FULL", name: "Full\tname", group: "HQ", description: "ä ✓",
                            connectors: 3, password: Array("0123456789abcdef".utf8), details: details)
    try store.createStation(identity: "a-charging", name: "Charging", connectors: 2)
    try store.createStation(identity: "C-FAULTED", name: "Faulted", connectors: 2)
    try store.createStation(identity: "d-never", name: "Never", connectors: 0)
    let recent = "2026-11-21T11:59:00.000Z"
    let connected = store.dialect == .postgresql ? "true" : "1"  // a boolean column on PostgreSQL
    try store.db.run("UPDATE stations SET connected = \(connected), last_seen_at = ?, vendor = 'Alfen', model = 'NG9' WHERE identity <> 'd-never'", [recent])
    try store.db.run("UPDATE connectors SET status = 'Faulted' WHERE connector_id = 2 AND station_id = (SELECT id FROM stations WHERE identity = 'C-FAULTED')")
    try store.db.run(
      """
      INSERT INTO transactions (id, station_id, connector_id, id_tag, authorization_status, meter_start, started_at,
        start_timestamp_raw, received_at) SELECT 7, id, 1, 'TAG', 'Accepted', 1000, ?, ?, ? FROM stations WHERE identity = 'a-charging'
      """, [recent, recent, recent])  // one parameter each: a time and a text on PostgreSQL
    return store
  }

  @Test func theListingCountsInOneGroupedPassAndAgreesWithEachStationsOwnQuery() throws {
    let store = try storeWithStations()
    if store.dialect == .sqlite {  // SQLite's plan; PostgreSQL has no EXPLAIN QUERY PLAN
      let plan = try store.db.query("EXPLAIN QUERY PLAN " + store.stationListingSelect()).compactMap { $0.string("detail") }
      #expect(!plan.contains { $0.contains("CORRELATED") }, "\(plan)")
    }
    let listed = try store.stations()
    #expect(listed.map(\.identity) == ["a-charging", "B-FULL", "C-FAULTED", "d-never"])
    #expect(listed.map(\.state) == ["charging", "online", "faulted", "never_connected"])
    #expect(listed.map(\.connectorCount) == [2, 3, 2, 0])
    for station in listed { #expect(station == (try store.station(station.identity))) }
    var streamed: [String] = []
    try store.forEachStation(StationFilter(groups: ["HQ"])) { streamed.append($0.identity) }
    #expect(streamed == ["B-FULL"])
  }

  @Test func stationJSONBytesAreThePrettyJSONText() throws {
    let store = try storeWithStations()
    let stations = try store.stations()
    for station in stations {
      var bytes: [UInt8] = []
      station.writeJSON(into: &bytes)
      #expect(String(decoding: bytes, as: UTF8.self) == station.json.pretty)
    }
    // Nested in an array as `station list -o json` writes it.
    var array: [UInt8] = [0x5B]
    for (index, station) in stations.enumerated() {
      array += Array((index == 0 ? "\n  " : ",\n  ").utf8)
      station.writeJSON(into: &array, level: 1)
    }
    array += Array("\n]".utf8)
    #expect(String(decoding: array, as: UTF8.self) == JSONValue.array(stations.map(\.json)).pretty)
    // Every member of the JSON form is written, in sorted order.
    #expect(Station.jsonKeyOrder == stations[0].json.objectValue!.keys.sorted())
  }
}
