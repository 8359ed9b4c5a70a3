import EvctlCore
import EvctlTestSupport
import Foundation
import Testing

@testable import EvctlServer

/// Smart charging with several nodes on one store (issue 14 item 4): exactly one node plans a
/// capacity group per round, and nested capacity groups are planned by one node together.
@Suite struct GroupPlanNodeTests {
  let t0 = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func node(_ id: String, _ store: Store) -> CentralSystem {
    var configuration = ServerConfiguration()
    configuration.nodeID = id
    return CentralSystem(store: store, configuration: configuration)
  }

  func limits(_ store: Store) throws -> [Double] {
    try store.commands(CommandFilter(action: "SetChargingProfile")).reversed().map { command in
      switch command.payload["csChargingProfiles"]?["chargingSchedule"]?["chargingSchedulePeriod"]?[0]?["limit"] {
      case .double(let value)?: value
      case .int(let value)?: Double(value)
      default: -1
      }
    }
  }

  /// Stations `identities` in group `group`, connected, each with an active transaction.
  func charging(_ store: Store, _ identities: [String], group: String, firstID: Int) throws {
    for (offset, identity) in identities.enumerated() {
      let station = try store.createStation(identity: identity, name: identity)
      var changes = StationChanges()
      changes.group = group
      try store.updateStation(identity, changes)
      try store.markStationConnected(station.id, at: .now())  // seen just now: online
      try store.db.run(
        """
        INSERT INTO transactions (id, station_id, connector_id, id_tag, authorization_status, meter_start,
          started_at, start_timestamp_raw, received_at) VALUES (?, ?, 1, 'GOOD', 'Accepted', 0, ?, 'x', ?)
        """, [firstID + offset, station.id, t0.iso8601, t0.iso8601])
    }
  }

  /// Node b's timer round after a's plan is a's: a change that needs no news (a reading went
  /// stale) waits for the planning node's next round instead of being planned twice.
  @Test func oneNodePlansAGroupPerRound() throws {
    let store = try Store(.memory)
    try store.createGroup(name: "Site", parent: nil)
    try charging(store, ["CP-1"], group: "Site", firstID: 7)
    try store.setCapacity("Site", GroupCapacity(groupID: 0, maxCurrent: 16, safeCurrent: 8))
    let a = node("a:1", store)
    let b = node("b:2", store)
    try a.rebalance(at: t0, reason: "timer")
    #expect(try limits(store) == [16])
    // A reported load is a change (the counter moves): the next round plans it, on b.
    try store.reportLoad("Site", currents: [6, 6, 6], validForSeconds: 3_600)
    try b.rebalance(at: t0.adding(seconds: 1), reason: "timer")
    #expect(try limits(store) == [16, 10])
    // The reading goes stale: b planned this round, so a's timer skips the group …
    try store.db.run("UPDATE group_load_readings SET valid_until = ?", [Timestamp(milliseconds: 0).iso8601])
    try a.rebalance(at: t0.adding(seconds: 2), reason: "timer")
    #expect(try limits(store) == [16, 10], "a skips the round b planned")
    // … and b's next round plans it: the safe current, 8 A, without a fresh reading.
    try b.rebalance(at: t0.adding(seconds: 6), reason: "timer")
    #expect(try limits(store) == [16, 10, 8])
    // News on a (a transaction started there) plans at once, whoever planned the round.
    try store.db.run("UPDATE group_load_readings SET valid_until = ?", [t0.adding(seconds: 3_600).iso8601])
    try a.rebalance(at: t0.adding(seconds: 7), reason: "start")
    #expect(try limits(store) == [16, 10, 8, 10])
    // b stops planning when a did; after a stops, b takes the group over within a round and a half.
    try store.db.run("UPDATE group_load_readings SET valid_until = ?", [Timestamp(milliseconds: 0).iso8601])
    try b.rebalance(at: t0.adding(seconds: 11), reason: "timer")
    #expect(try limits(store) == [16, 10, 8, 10])
    try b.rebalance(at: t0.adding(seconds: 15), reason: "timer")
    #expect(try limits(store) == [16, 10, 8, 10, 8])
  }

  /// PostgreSQL only (two connections): while node a plans the top group, node b plans none of
  /// the nested groups beneath it (their charges share the top's capacity, so a plan of a part
  /// would give the part more than its share), and keeps its news for the next second.
  @Test(.enabled(if: UnclaimedCommandTests.base != nil, "needs EVCTL_TEST_POSTGRES_URL: two connections"))
  func nestedCapacityGroupsArePlannedByOneNodeTogether() throws {
    let url = try TestBackend.createDatabase()
    defer { TestBackend.dropDatabase(url) }
    let planning = try Store(postgresURL: url)
    let store = try Store(postgresURL: url, migrate: false)
    let top = try store.createGroup(name: "Site", parent: nil)
    try store.createGroup(name: "Left", parent: "Site")
    try store.createGroup(name: "Right", parent: "Site")
    try charging(store, ["CP-L"], group: "Left", firstID: 1)
    try charging(store, ["CP-R"], group: "Right", firstID: 2)
    try charging(store, ["CP-S"], group: "Site", firstID: 3)
    for group in ["Site", "Left", "Right"] {
      try store.setCapacity(group, GroupCapacity(groupID: 0, maxCurrent: 18, safeCurrent: 8))
    }
    let b = node("b:2", store)
    try planning.db.execute("BEGIN")
    #expect(try planning.tryLockGroupPlan(top.id))
    try b.rebalance(at: t0, reason: "start")
    #expect(try limits(store) == [], "a plans the site right now")
    #expect(b.rebalanceReasons == ["start"], "b tries again next second")
    try planning.db.execute("COMMIT")
    try b.rebalance(at: t0.adding(seconds: 1), reason: "start")
    let sent = try limits(store)
    #expect(sent == [6, 6, 6], "one plan of all three: 18 A shared")
  }

  /// PostgreSQL only (two connections): a timer round that finds the group locked by another
  /// node's transaction looks again next second, not a round later, so the planning node does
  /// not miss a round (and lose the group) because two transactions overlapped once.
  @Test(.enabled(if: UnclaimedCommandTests.base != nil, "needs EVCTL_TEST_POSTGRES_URL: two connections"))
  func aTimerRoundThatFindsTheGroupLockedLooksAgainNextSecond() throws {
    let url = try TestBackend.createDatabase()
    defer { TestBackend.dropDatabase(url) }
    let other = try Store(postgresURL: url)
    let store = try Store(postgresURL: url, migrate: false)
    let site = try store.createGroup(name: "Site", parent: nil)
    try charging(store, ["CP-1"], group: "Site", firstID: 1)
    try store.setCapacity("Site", GroupCapacity(groupID: 0, maxCurrent: 16, safeCurrent: 8))
    let b = node("b:2", store)
    try other.db.execute("BEGIN")
    #expect(try other.tryLockGroupPlan(site.id))
    try b.rebalanceIfDue(at: t0)
    #expect(try limits(store) == [], "the other node's transaction holds the group")
    try other.db.execute("COMMIT")
    try b.rebalanceIfDue(at: t0.adding(seconds: 1))
    #expect(try limits(store) == [16], "planned a second later, not a round later")
  }
}
