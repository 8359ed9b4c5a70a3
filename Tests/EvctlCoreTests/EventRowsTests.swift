import Testing

@testable import EvctlCore

/// `event list` and `station events` read status changes and events as one list, newest `limit`
/// first and shown oldest first, ties broken the same way on SQLite and PostgreSQL (PostgreSQL
/// orders a UNION by its column names only, so the union is ordered from a subquery).
@Suite struct EventRowsTests {
  @Test func statusChangesAndEventsOfTheSameMillisecondComeInOneOrder() throws {
    let store = try makeStore()
    let station = try store.createStation(identity: "CP-1", name: "One", connectors: 2).id
    let at = "2026-11-21T11:00:00.000Z"
    for kind in ["connected", "booted"] {
      try store.db.run("INSERT INTO events (station_id, identity, kind, detail, at) VALUES (?, 'CP-1', ?, NULL, ?)",
                       [station, kind, at])
    }
    for connector in [2, 1] {
      try store.db.run("INSERT INTO status_events (station_id, connector_id, status, received_at) VALUES (?, ?, 'Available', ?)",
                       [station, connector, at])
    }
    let network = try store.networkEventRows(stationID: nil, kind: nil, since: "", limit: 3)
    #expect(network.map { $0.string("kind") ?? "" } == ["connected", "status", "status"])
    #expect(network.last?.int("connector_id") == 2)
    let events = try store.stationEventRows(stationID: station, connector: nil, since: "", limit: 10)
    #expect(events.map { $0.string("event") ?? "" } == ["Available", "Available", "booted", "connected"])
    #expect(events.prefix(2).map { $0.int("connector") } == [1, 2])
  }
}
