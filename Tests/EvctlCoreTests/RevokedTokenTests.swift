import Testing

@testable import EvctlCore

/// Issue 9 item 11: blocked and deleted tokens reach the stations that hold them.
@Suite struct RevokedTokenTests {
  @Test func aDifferentialSendsRevokedHeldTagsAsBlockedOnce() throws {
    let held = [LocalListEntry(idTag: "A"), LocalListEntry(idTag: "B"), LocalListEntry(idTag: "C")]
    let plan = try LocalListPlanner.plan(
      desired: [LocalListEntry(idTag: "A")], held: held, currentVersion: 2, differential: true,
      maxListLength: nil, maxMessageLength: nil, revoked: ["B"])
    let entries = plan.messages.first?["localAuthorizationList"]?.arrayValue ?? []
    #expect(entries == [["idTag": "B", "idTagInfo": ["status": "Blocked"]], ["idTag": "C"]])
    #expect((plan.changed, plan.removed, plan.blocked) == (0, 1, 1))
    let settled = try LocalListPlanner.plan(
      desired: [LocalListEntry(idTag: "A")],
      held: [LocalListEntry(idTag: "A"), LocalListEntry(idTag: "B", status: "Blocked")],
      currentVersion: 3, differential: true, maxListLength: nil, maxMessageLength: nil, revoked: ["B"])
    #expect(settled.messages.isEmpty)
  }

  @Test func theBuilderNamesBlockedAndDeletedTokens() throws {
    let store = try seededStore()
    try store.addToken(idTag: "GONE", userEmail: "eva@x.io")
    try store.addToken(idTag: "STOPPED", userEmail: "eva@x.io")
    try store.addToken(idTag: "STAYS", userEmail: "eva@x.io")
    _ = try store.setTokenBlocked("STOPPED", blocked: true)
    try store.deleteToken("GONE")
    let held = ["GONE", "STOPPED", "STAYS"].map { LocalListEntry(idTag: $0) }
    #expect(try store.localListBuilder().revoked(among: held) == ["GONE", "STOPPED"])
  }

  @Test func stationsThatSawATokenComeFromAuthorizeAndTransactions() throws {
    let store = try seededStore()
    let station = try store.station("CP-2")
    try store.noteTokenSeen(idTag: "TAG1", stationID: station.id, at: Timestamp(parsing: "2026-11-21T12:00:00Z")!)
    #expect(try store.stationsThatSaw(idTag: "tag1") == ["CP-2"])
    #expect(try store.stationsThatSaw(idTag: "NOBODY").isEmpty)
  }
}
