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

  /// Exactly one node plans a capacity group per round: a plan by another node within the
  /// round, after the last allocation change, makes the round's plan; news of this node's own
  /// (a start, a reading) plans anyway; a stale plan (its node stopped) is taken over.
  @Test func exactlyOneNodePlansACapacityGroupPerRound() throws {
    let t0 = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let store = try makeStore()
    let group = try store.createGroup(name: "HQ", parent: nil)
    func claim(_ node: String, _ seconds: Int64, requested: Bool = false) throws -> Store.GroupPlanClaim {
      try store.claimGroupPlan(group.id, node: node, at: t0.adding(seconds: seconds), requested: requested,
                               freshWithinMilliseconds: 7_500)
    }
    #expect(try claim("a:1", 0) == .plan)
    #expect(try claim("b:2", 2) == .plannedElsewhere(by: "a:1"))
    #expect(try claim("a:1", 5) == .plan, "its own round")
    #expect(try claim("b:2", 6, requested: true) == .plan, "b has news: a start on its station")
    #expect(try claim("a:1", 7) == .plannedElsewhere(by: "b:2"))
    try store.noteAllocationChange()
    #expect(try claim("a:1", 8) == .plan, "a change after b's plan")
    #expect(try claim("b:2", 9) == .plannedElsewhere(by: "a:1"))
    #expect(try claim("b:2", 16) == .plan, "a stopped planning: b takes over")
  }

  /// PostgreSQL only: a group another node is planning right now is busy.
  @Test func aGroupBeingPlannedElsewhereIsBusy() throws {
    guard TestBackend.isPostgreSQL else { return }
    let url = try TestBackend.createDatabase()
    defer { TestBackend.dropDatabase(url) }
    let t0 = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let first = try Store(postgresURL: url)
    let second = try Store(postgresURL: url, migrate: false)
    let group = try first.createGroup(name: "HQ", parent: nil)
    try first.db.execute("BEGIN")
    #expect(try first.claimGroupPlan(group.id, node: "a:1", at: t0, requested: true, freshWithinMilliseconds: 7_500) == .plan)
    #expect(try second.claimGroupPlan(group.id, node: "b:2", at: t0, requested: true, freshWithinMilliseconds: 7_500) == .busy)
    try first.db.execute("COMMIT")
    #expect(try second.claimGroupPlan(
      group.id, node: "b:2", at: t0.adding(seconds: 1), requested: false, freshWithinMilliseconds: 7_500)
      == .plannedElsewhere(by: "a:1"))
  }

  /// A late outcome never overwrites a settlement, whichever comes first: the node that lost
  /// the station hears the station's answer after the takeover settled it outcome-unknown, or a
  /// closing connection reports a command the station had answered.
  @Test func aCommandIsSettledOnceWhicheverOutcomeComesFirst() throws {
    let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let store = try makeStore()
    let station = try store.createStation(identity: "CP-1", name: "One")
    try store.registerNode(id: "a:1", host: "a", pid: 1, listen: "a:8180")
    try store.registerNode(id: "b:2", host: "b", pid: 2, listen: "b:8180")
    try store.holdStation(station.id, node: "a:1", at: now)
    let moved = try store.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Soft"], queue: true)
    #expect(try store.claimCommand(moved.id, messageID: "m1", at: now, node: "a:1") == .claimed)
    try store.holdStation(station.id, node: "b:2", at: now)
    #expect(try store.finishCommand(moved.id, state: .accepted, status: "Accepted", response: ["status": "Accepted"],
                                    error: nil, at: now, latencyMilliseconds: 5) == false)
    let settled = try store.command(moved.id)
    #expect(settled.state == .failed && settled.status == nil && settled.error?.contains("outcome unknown") == true)
    // And the other way round: an answer recorded first stands.
    let answered = try store.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Soft"], queue: true)
    #expect(try store.claimCommand(answered.id, messageID: "m2", at: now, node: "b:2") == .claimed)
    #expect(try store.finishCommand(answered.id, state: .accepted, status: "Accepted", response: ["status": "Accepted"],
                                    error: nil, at: now, latencyMilliseconds: 5))
    #expect(try store.finishCommand(answered.id, state: .failed, status: nil, response: nil,
                                    error: "connection closed before the station answered; outcome unknown",
                                    at: now, latencyMilliseconds: nil) == false)
    #expect(try store.command(answered.id).state == .accepted)
    try store.holdStation(station.id, node: "a:1", at: now)
    #expect(try store.command(answered.id).state == .accepted, "a takeover settles only what is still sent")
  }

  /// A StartTransaction another node stored meanwhile (the station resent it: the first
  /// answer was lost) gets its id back, and is not superseded by its own repeat.
  @Test func aRepeatedStartTransactionStoredMeanwhileKeepsItsID() throws {
    let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let store = try makeStore()
    let station = try store.createStation(identity: "CP-1", name: "One")
    func start(_ id: Int) -> Store.TransactionStart {
      Store.TransactionStart(
        id: id, stationID: station.id, connectorID: 1, idTag: "TAG1", tokenID: nil, parentIDTag: nil,
        authorizationStatus: "Accepted", meterStart: 100, startedAt: now, rawTimestamp: "2026-11-21T12:00:00Z",
        reservationID: nil, anonymous: false)
    }
    #expect(try store.insertTransaction(start(1), at: now) == 1)
    // The second node did not see it when it checked for a repeat, and then stores it too.
    try store.supersedeActiveTransactions(
      stationID: station.id, connectorID: 1, startedAt: now, at: now,
      sparing: "TAG1", rawTimestamp: "2026-11-21T12:00:00Z", meterStart: 100)
    #expect(try store.insertTransaction(start(2), at: now) == 1)
    let rows = try store.db.query("SELECT id, state FROM transactions ORDER BY id")
    #expect(rows.map { "\($0.int("id") ?? 0) \($0.string("state") ?? "")" } == ["1 active"])
    // A different session on the connector still supersedes it.
    var next = start(3)
    next.meterStart = 200
    try store.supersedeActiveTransactions(
      stationID: station.id, connectorID: 1, startedAt: now, at: now,
      sparing: "TAG1", rawTimestamp: "2026-11-21T12:00:00Z", meterStart: 200)
    #expect(try store.insertTransaction(next, at: now) == 3)
    #expect(try store.db.query("SELECT state FROM transactions ORDER BY id").map { $0.string("state") }
      == ["superseded", "active"])
  }

  /// PostgreSQL only: the race itself. The first node's transaction has stored the
  /// StartTransaction but not committed; the second node's insert waits for it and then
  /// returns the first node's id, not an error and not a second transaction.
  @Test func aRepeatRacingTheFirstNodesCommitGetsItsID() throws {
    guard TestBackend.isPostgreSQL else { return }
    let url = try TestBackend.createDatabase()
    defer { TestBackend.dropDatabase(url) }
    let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let first = try Store(postgresURL: url)
    let second = Shared(try Store(postgresURL: url, migrate: false))
    let station = try first.createStation(identity: "CP-1", name: "One")
    func start(_ id: Int) -> Store.TransactionStart {
      Store.TransactionStart(
        id: id, stationID: station.id, connectorID: 1, idTag: "TAG1", tokenID: nil, parentIDTag: nil,
        authorizationStatus: "Accepted", meterStart: 100, startedAt: now, rawTimestamp: "2026-11-21T12:00:00Z",
        reservationID: nil, anonymous: false)
    }
    try first.db.execute("BEGIN")
    #expect(try first.insertTransaction(start(1), at: now) == 1)
    let repeatStart = start(2)
    let racing = Background {
      let seen = try second.value.repeatedStartTransactionID(
        stationID: repeatStart.stationID, connectorID: 1, idTag: "TAG1", rawTimestamp: repeatStart.rawTimestamp,
        meterStart: 100)
      return [seen, try second.value.insertTransaction(repeatStart, at: now)]
    }
    try waitForALockWait(url)
    try first.db.execute("COMMIT")
    #expect(try racing.result() == [nil, 1], "not seen before the commit; its id after it")
    #expect(try first.db.query("SELECT id FROM transactions").map { $0.int("id") } == [1])
  }

  /// PostgreSQL only: a heartbeat that lands while another node reaps keeps its node alive.
  /// The heartbeat's transaction holds the node row; the reaper read the old heartbeat and
  /// waits for the row; once the heartbeat commits, the node is not declared dead.
  @Test func aHeartbeatLandingDuringTheReapKeepsTheNodeAlive() throws {
    guard TestBackend.isPostgreSQL else { return }
    let url = try TestBackend.createDatabase()
    defer { TestBackend.dropDatabase(url) }
    let start = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let late = start.adding(seconds: 1 + Store.nodeTimeoutMilliseconds / 1000)
    let alive = try Store(postgresURL: url)
    let reaper = Shared(try Store(postgresURL: url, migrate: false))
    alive.clock = { start }
    try alive.registerNode(id: "a:1", host: "a", pid: 1, listen: "a:8180")
    try alive.registerNode(id: "b:2", host: "b", pid: 2, listen: "b:8180")
    alive.clock = { late }
    try alive.db.execute("BEGIN")
    #expect(try alive.nodeHeartbeat(id: "b:2"))
    let reaping = Background { try reaper.value.reapDeadNodes(except: "a:1", at: late).map(\.id) }
    try waitForALockWait(url)
    try alive.db.execute("COMMIT")
    #expect(try reaping.result() == [])
    #expect(try alive.nodes().map { "\($0.id) \($0.state)" } == ["a:1 running", "b:2 running"])
  }
}

/// Hands a value to another thread (a store used by one thread at a time).
private final class Shared<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}

/// Runs `work` on a thread of its own; ``result()`` waits for it.
private final class Background<Value>: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var outcome: Result<Value, any Error>?

  init(_ work: @escaping @Sendable () throws -> Value) {
    Thread.detachNewThread { [self] in
      outcome = Result { try work() }
      done.signal()
    }
  }

  func result() throws -> Value {
    guard done.wait(timeout: .now() + 30) == .success, let outcome else {
      throw StoreError.invalid("the background statement did not finish")
    }
    return try outcome.get()
  }
}

/// Waits until some session of the database `url` waits for a lock (the racing statement
/// blocked on the other transaction's row), at most 30 seconds.
private func waitForALockWait(_ url: String) throws {
  let watcher = try PostgresConnection(url: url)
  for _ in 0..<3_000 {
    let waiting = try watcher.query(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      []).first?.int("n") ?? 0
    if waiting > 0 { return }
    usleep(10_000)
  }
  throw StoreError.invalid("no statement waited for a lock")
}
