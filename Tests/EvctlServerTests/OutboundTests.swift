import EvctlCore
import Testing

@testable import EvctlServer

/// Remote commands through a session: one CALL in flight, answers routed by id, deadlines.
@Suite struct OutboundTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func openSession(_ central: CentralSystem) throws -> ConnectionSession {
    let session = ConnectionSession(central: central, now: now)
    _ = try session.receiveBatch(Array(upgradeRequest.utf8), now: now)
    _ = session.takeOutput()
    try central.store.db.run("UPDATE stations SET connected = TRUE, last_seen_at = ?", [Timestamp.now().iso8601])
    return session
  }

  func sentCalls(_ session: ConnectionSession) throws -> [JSONValue] {
    try serverFrames(session.takeOutput()).map { try JSONValue.parse($0.payload) }
  }

  @Test func oneCallInFlightAndAnswersRoutedById() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let first = try central.store.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Soft"])
    let second = try central.store.enqueueCommand(station: "CP-1", action: "ClearCache", payload: [:])
    try session.enqueue(first, now: now)
    try session.enqueue(second, now: now)
    let calls = try sentCalls(session)
    #expect(calls == [[2, .string("evctl-\(first.id)"), "Reset", ["type": "Soft"]]])
    #expect(try central.store.command(first.id).state == .sent)
    _ = try session.receiveBatch(text(#"[3,"evctl-\#(first.id)",{"status":"Accepted"}]"#), now: now)
    #expect(try central.store.command(first.id).state == .accepted)
    #expect(try sentCalls(session).first?[2] == "ClearCache")
    _ = try session.receiveBatch(text(#"[4,"evctl-\#(second.id)","NotSupported","no cache",{}]"#), now: now)
    let failed = try central.store.command(second.id)
    #expect(failed.state == .failed)
    #expect(failed.status == "NotSupported")
    #expect(failed.error == "no cache")
  }

  @Test func anUnknownAnswerIdIsDropped() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    _ = try session.receiveBatch(text(#"[3,"nobody",{}]"#), now: now)
    #expect(session.takeOutput().isEmpty)
  }

  @Test func aLateAnswerAfterTheDeadlineIsTimedOut() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let command = try central.store.enqueueCommand(
      station: "CP-1", action: "Reset", payload: ["type": "Hard"], timeoutSeconds: 5)
    try session.enqueue(command, now: now)
    #expect(try !session.expireInFlight(now: now.adding(seconds: 4)))
    #expect(try session.expireInFlight(now: now.adding(seconds: 6)))
    let finished = try central.store.command(command.id)
    #expect(finished.state == .timedOut)
    #expect(finished.error?.contains("outcome unknown") == true)
  }

  @Test func closingGivesBackWaitingCommandsAndFailsTheOneInFlight() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let first = try central.store.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Soft"])
    let second = try central.store.enqueueCommand(station: "CP-1", action: "ClearCache", payload: [:])
    try session.enqueue(first, now: now)
    try session.enqueue(second, now: now)
    let held = session.abandonCommands(reason: "connection replaced")
    #expect(held.inFlight?.id == first.id)
    #expect(held.waiting == [second.id])
    #expect(try central.store.command(second.id).state == .queued)
  }

  @Test func answersUpdateTheConfigurationSnapshotAndLocalList() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let get = try central.store.enqueueCommand(station: "CP-1", action: "GetConfiguration", payload: [:])
    try session.enqueue(get, now: now)
    _ = session.takeOutput()
    _ = try session.receiveBatch(text(#"[3,"evctl-\#(get.id)",{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":300}],"unknownKey":["Nope"]}]"#), now: now)
    #expect(try central.store.configurationValue("CP-1", key: "HeartbeatInterval") == "300")
    #expect(try central.store.configurationValue("CP-1", key: "Nope") == nil)
    let send = try central.store.enqueueCommand(
      station: "CP-1", action: "SendLocalList",
      payload: ["listVersion": 3, "updateType": "Full", "localAuthorizationList": [["idTag": "GOOD", "idTagInfo": ["status": "Accepted"]]]])
    try session.enqueue(send, now: now)
    _ = session.takeOutput()
    _ = try session.receiveBatch(text(#"[3,"evctl-\#(send.id)",{"status":"Accepted"}]"#), now: now)
    let state = try central.store.localListState("CP-1")
    #expect(state.version == 3)
    #expect(state.entries.map(\.idTag) == ["GOOD"])
  }
}
