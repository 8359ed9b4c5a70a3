import Testing

@testable import EvctlCore

/// The serve lock, its heartbeat, and the atomic claim of commands (issue 9 items 20-22).
@Suite struct ServeStoreTests {
  /// SQLite only: on PostgreSQL several serve nodes share one store (issue 14 item 4).
  @Test func aSecondServeIsRefusedUntilTheLockIsStaleOrReleased() throws {
    var now = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let store = try makeStore(sqlite: true)
    store.clock = { now }
    try store.acquireServeLock(pid: 4242, host: "other-host", listen: "0.0.0.0:8180")
    #expect(try store.serveStatus()?.running == true)
    #expect(throws: StoreError.unavailable(
      "store already served by pid 4242 on other-host since 2026-11-21T12:00:00.000Z (listening on 0.0.0.0:8180, last heartbeat 2026-11-21T12:00:00.000Z)")) {
      try store.acquireServeLock(pid: ProcessFacts.pid, host: ProcessFacts.hostName, listen: "x:1")
    }
    now = now.adding(seconds: 31)
    #expect(try store.serveStatus()?.running == false, "a heartbeat older than 30 s means not running")
    now = now.adding(seconds: Store.serveTakeOverSeconds)
    try store.acquireServeLock(pid: ProcessFacts.pid, host: ProcessFacts.hostName, listen: "x:1")
    #expect(try store.serveHeartbeat(pid: 4242, host: "other-host") == false, "the old one lost it")
    #expect(try store.serveHeartbeat(pid: ProcessFacts.pid, host: ProcessFacts.hostName))
    try store.releaseServeLock(pid: ProcessFacts.pid, host: ProcessFacts.hostName)
    #expect(try store.serveStatus()?.running == false)
    try store.acquireServeLock(pid: 77, host: "third", listen: "y:2")
  }

  @Test func aDeadProcessOnThisHostLosesItsLockAtOnce() throws {
    let store = try makeStore()
    // pid 1 is not an evctl process: it counts as gone.
    try store.acquireServeLock(pid: 1, host: ProcessFacts.hostName, listen: "a:1")
    #expect(try store.serveStatus()?.running == false)
    try store.acquireServeLock(pid: ProcessFacts.pid, host: ProcessFacts.hostName, listen: "a:1")
    #expect(try store.serveStatus()?.running == true)
  }

  @Test func anExpiredOrWithdrawnCommandIsNeverClaimed() throws {
    var now = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let store = try makeStore()
    store.clock = { now }
    try store.createStation(identity: "CP-1", name: "One")
    let withdrawn = try store.enqueueCommand(
      station: "CP-1", action: "Reset", payload: ["type": "Soft"], queue: true)
    #expect(try store.commandsAhead(of: withdrawn.id) == 0)
    let late = try store.enqueueCommand(
      station: "CP-1", action: "Reset", payload: ["type": "Hard"], timeoutSeconds: 2, queue: true,
      expires: now.adding(seconds: 2))
    #expect(try store.commandsAhead(of: late.id) == 1)
    #expect(try store.expireIfQueued(withdrawn.id, reason: "not sent"))
    #expect(try store.claimCommand(withdrawn.id, messageID: "m1", at: now) == .gone)
    now = now.adding(seconds: 3)
    #expect(try store.claimCommand(late.id, messageID: "m2", at: now) == .expired)
    #expect(try store.command(late.id).state == .expired)
    #expect(try store.expireIfQueued(late.id, reason: "again") == false)
  }

  @Test func retentionTrimsPayloadsThenDeletesKeepingTheAudit() throws {
    var now = Timestamp(parsing: "2026-01-01T00:00:00Z")!
    let store = try makeStore()
    store.clock = { now }
    try store.createStation(identity: "CP-1", name: "One")
    let old = try store.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Soft"], queue: true)
    #expect(try store.claimCommand(old.id, messageID: "m1", at: now) == .claimed)
    try store.finishCommand(old.id, state: .accepted, status: "Accepted", response: ["status": "Accepted"],
                            error: nil, at: now, latencyMilliseconds: 5)
    let open = try store.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Soft"], queue: true)
    now = now.adding(seconds: 10 * 86_400)
    var done = try store.pruneCommands(deleteBefore: now.adding(seconds: -30 * 86_400),
                                       trimBefore: now.adding(seconds: -86_400))
    #expect(done == (0, 1))
    let trimmed = try store.command(old.id)
    #expect(trimmed.payloadTrimmed && trimmed.response == nil)
    #expect(trimmed.status == "Accepted" && trimmed.requestedBy == old.requestedBy)
    #expect(try store.command(open.id).payloadTrimmed == false, "an open command keeps its payload")
    now = now.adding(seconds: 30 * 86_400)
    done = try store.pruneCommands(deleteBefore: now.adding(seconds: -30 * 86_400),
                                   trimBefore: now.adding(seconds: -86_400))
    #expect(done == (1, 0))
    #expect(try store.commands().map(\.id) == [open.id])
  }

  @Test func transactionIDsNeverGoBack() throws {
    let store = try makeStore()
    #expect(try store.nextTransactionID() == 1)
    #expect(try store.nextTransactionID() == 2)
    #expect(try store.nextTransactionID() == 3)
  }
}

@Suite struct ServeLockLivenessTests {
  /// SQLite only, like the test above.
  @Test func aLiveServeOnThisHostKeepsItsLockEvenWithAnOldHeartbeat() throws {
    var now = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let store = try makeStore(sqlite: true)
    store.clock = { now }
    // This test process stands in for a serve blocked by a long import: alive, silent.
    try store.acquireServeLock(pid: ProcessFacts.pid, host: ProcessFacts.hostName, listen: "a:1")
    now = now.adding(seconds: Store.serveTakeOverSeconds * 10)
    #expect(throws: StoreError.self) {
      try store.acquireServeLock(pid: ProcessFacts.pid + 1, host: ProcessFacts.hostName, listen: "a:1")
    }
  }
}
