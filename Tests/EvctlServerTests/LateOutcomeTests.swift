import EvctlCore
import Testing

@testable import EvctlServer

/// Several nodes (issue 14 item 4): the answer that reaches a node after the station moved to
/// another node (its command already settled outcome-unknown) changes nothing.
@Suite struct LateOutcomeTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  @Test func aLateAnswerToASettledCommandIsDroppedWithItsFollowUps() throws {
    let central = try makeCentral()
    let store = central.store
    try store.registerNode(id: "a:1", host: "a", pid: 1, listen: "a:8180")
    try store.registerNode(id: "b:2", host: "b", pid: 2, listen: "b:8180")
    try store.holdStation(1, node: "a:1", at: now)
    let command = try store.enqueueCommand(station: "CP-1", action: "GetConfiguration", payload: [:], queue: true)
    #expect(try store.claimCommand(command.id, messageID: "evctl-\(command.id)", at: now, node: "a:1") == .claimed)
    try store.holdStation(1, node: "b:2", at: now)  // the station moved: outcome unknown
    try central.commandFinished(
      command, state: .accepted, status: nil,
      response: ["configurationKey": [["key": "HeartbeatInterval", "readonly": false, "value": "300"]]],
      error: nil, sentAt: now, at: now)
    let settled = try store.command(command.id)
    #expect(settled.state == .failed && settled.error?.contains("outcome unknown") == true)
    #expect(try store.configurationValue("CP-1", key: "HeartbeatInterval") == nil, "no follow-up of the dropped answer")
  }
}
