import EvctlCore
import Testing

@testable import EvctlServer

/// The central system turning plans into SetChargingProfile commands.
@Suite struct SmartChargingTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func setUp() throws -> CentralSystem {
    let central = try makeCentral()
    let store = central.store
    try store.createGroup(name: "Site", parent: nil)
    var changes = StationChanges()
    changes.group = "Site"
    try store.updateStation("CP-1", changes)
    try store.db.run("UPDATE stations SET connected = TRUE, last_seen_at = ?", [Timestamp.now().iso8601])
    try store.setCapacity("Site", GroupCapacity(groupID: 0, maxCurrent: 16, safeCurrent: 8))
    try store.db.run(
      """
      INSERT INTO transactions (id, station_id, connector_id, id_tag, authorization_status, meter_start,
        started_at, start_timestamp_raw, received_at) VALUES (7, 1, 1, 'GOOD', 'Accepted', 0, ?, 'x', ?)
      """, [now.iso8601, now.iso8601])
    return central
  }

  func sentLimits(_ central: CentralSystem) throws -> [(String, Double)] {
    try central.store.commands(CommandFilter(action: "SetChargingProfile")).reversed().map { command in
      let profile = command.payload["csChargingProfiles"]
      var limit = 0.0
      switch profile?["chargingSchedule"]?["chargingSchedulePeriod"]?[0]?["limit"] {
      case .double(let d)?: limit = d
      case .int(let n)?: limit = Double(n)
      default: break
      }
      return (profile?["chargingProfilePurpose"]?.stringValue ?? "", limit)
    }
  }

  @Test func sendsOnlyWhatChangedAndFallsBackToTxDefaultProfile() throws {
    let central = try setUp()
    try central.rebalance(at: now, reason: "start")
    try central.rebalance(at: now.adding(seconds: 5), reason: "timer")
    #expect(try sentLimits(central).map(\.1) == [16])
    let sent = try central.store.commands(CommandFilter(action: "SetChargingProfile"))[0]
    _ = try central.store.claimCommand(sent.id, messageID: "evctl-\(sent.id)", at: now)
    try central.commandFinished(sent, state: .rejected, status: "NotSupported", response: ["status": "NotSupported"],
                                error: nil, sentAt: now, at: now)
    try central.rebalance(at: now.adding(seconds: 10), reason: "fallback")
    #expect(try sentLimits(central).map(\.0) == ["TxProfile", "TxDefaultProfile"])
  }

  @Test func otherLoadAndStaleReadingsChangeTheLimit() throws {
    let central = try setUp()
    try central.store.reportLoad("Site", currents: [6, 6, 6], validForSeconds: 60)
    try central.rebalance(at: Timestamp.now(), reason: "reading")
    try central.store.db.run("UPDATE group_load_readings SET valid_until = ?", [Timestamp(milliseconds: 0).iso8601])
    try central.rebalance(at: Timestamp.now(), reason: "timer")
    #expect(try sentLimits(central).map(\.1) == [10, 8])
    let events = try central.store.db.query("SELECT detail FROM events WHERE kind = 'allocation'").compactMap { $0.string("detail") }
    #expect(events.count == 2)
    #expect(events[0].contains("0 A (reading,capacity"))
    #expect(events[1].contains("10.0 → 8.0 A (reading"))
    // Issue 9 item 9: the event names the safe current and when the readings expired.
    #expect(events[1].contains("safe current (readings expired at 1970-01-01T00:00:00"))
  }
}
