import EvctlTestSupport
import Foundation
import Testing

@testable import EvctlCore

/// The node registry (issue 14 item 4): holding stations, takeover, the claim rule, dead nodes.
@Suite struct NodeStoreTests {
  @Test func aTakeoverSettlesTheOldNodesCommandsAndOnlyTheHolderClaims() throws {
    var now = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let store = try makeStore()
    store.clock = { now }
    let station = try store.createStation(identity: "CP-1", name: "One")
    try store.registerNode(id: "a:1", host: "a", pid: 1, listen: "a:8180")
    try store.registerNode(id: "b:2", host: "b", pid: 2, listen: "b:8180")
    #expect(try store.holdStation(station.id, node: "a:1", at: now) == nil)
    let sent = try store.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Soft"], queue: true)
    #expect(try store.claimCommand(sent.id, messageID: "m1", at: now, node: "a:1") == .claimed)
    let waiting = try store.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Hard"], queue: true)
    // The station reconnects to b: a's command in flight is outcome-unknown, never sent again.
    #expect(try store.holdStation(station.id, node: "b:2", at: now) == "a:1")
    #expect(try store.command(sent.id).state == .failed)
    #expect(try store.command(sent.id).error?.contains("outcome unknown") == true)
    #expect(try store.stationsHeldElsewhere([station.id], node: "a:1") == [station.id: "b:2"])
    #expect(try store.claimCommand(waiting.id, messageID: "m2", at: now, node: "a:1") == .gone)
    #expect(try store.command(waiting.id).state == .queued, "a does not hold it: left for b")
    #expect(try store.claimCommand(waiting.id, messageID: "m2", at: now, node: "b:2") == .claimed)
    // a's old connection closing does not take the station offline: b holds it.
    #expect(try store.releaseStation(station.id, node: "a:1") == false)
    // b goes silent: a declares it dead after the timeout, and the station is offline.
    try store.markStationConnected(station.id, at: now)
    now = now.adding(seconds: 1 + Store.nodeTimeoutMilliseconds / 1000)
    #expect(try store.nodeHeartbeat(id: "a:1"))
    let dead = try store.reapDeadNodes(except: "a:1", at: now)
    #expect(dead.map(\.id) == ["b:2"] && dead[0].stations.map(\.identity) == ["CP-1"])
    #expect(try store.command(waiting.id).state == .failed)
    #expect(try store.station("CP-1").connected == false)
    #expect(try store.reapDeadNodes(except: "a:1", at: now).isEmpty, "declared once")
    #expect(try store.nodes().map { "\($0.id) \($0.state) \($0.stations)" } == ["a:1 running 0", "b:2 dead 0"])
    #expect(try store.nodeHeartbeat(id: "b:2") == false, "b learns it was declared dead")
  }

  /// PostgreSQL only: the advisory lock that lets one node at a time plan a capacity group
  /// needs two connections to one database.
  @Test func oneNodeAtATimePlansACapacityGroup() throws {
    guard let admin = ProcessInfo.processInfo.environment["EVCTL_TEST_POSTGRES_URL"], !admin.isEmpty else { return }
    let url = try TestBackend.createDatabase()
    defer { TestBackend.dropDatabase(url) }
    let first = try Store(postgresURL: url)
    let second = try Store(postgresURL: url, migrate: false)
    try first.db.execute("BEGIN")
    #expect(try first.tryLockGroupPlan(7))
    #expect(try second.tryLockGroupPlan(7) == false, "the other node skips group 7 meanwhile")
    #expect(try second.tryLockGroupPlan(8))
    #expect(try second.tryLockPeriodicAlarms())
    #expect(try first.tryLockPeriodicAlarms())
    try first.db.execute("COMMIT")
    #expect(try second.tryLockGroupPlan(7), "released at the first node's commit")
  }
}
