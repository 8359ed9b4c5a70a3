import EvctlCore
import Testing

@testable import EvctlServer

/// Issue 9 in the central system: who gets a share, profiles read at now, CLI changes noticed at once.
@Suite struct SmartChargingIssueTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func setUp(status: String = "Accepted") throws -> CentralSystem {
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
        started_at, start_timestamp_raw, received_at) VALUES (7, 1, 1, 'GOOD', 'Accepted', 0, ?, 'x', ?),
        (8, 1, 2, 'BAD', ?, 0, ?, 'y', ?)
      """, [now.iso8601, now.iso8601, status, now.iso8601, now.iso8601])
    return central
  }

  func sent(_ central: CentralSystem) throws -> [(Int, Double)] {
    try central.store.commands(CommandFilter(action: "SetChargingProfile")).reversed().map { command in
      let limit = command.payload["csChargingProfiles"]?["chargingSchedule"]?["chargingSchedulePeriod"]?[0]?["limit"]
      return (command.payload["connectorId"]?.intValue ?? 0, limit?.doubleValue ?? -1)
    }
  }

  @Test func aSessionRefusedAtStartGetsNoShare() throws {
    let central = try setUp(status: "Invalid")
    try central.rebalance(at: now, reason: "start")
    // The accepted one gets everything; the refused one 0 A, in case its station lets it charge.
    #expect(try sent(central).sorted { $0.0 < $1.0 }.map(\.1) == [16, 0])
    let notes = try central.store.plan(for: "Site").map { "\($0.transactionID): \($0.note ?? "")" }
    #expect(notes.contains("8: no share: refused at StartTransaction (Invalid)"))
  }

  @Test func aTimeVaryingProfileCapsAtItsCurrentPeriodAndTheNoteNamesIt() throws {
    let central = try setUp()
    let profile: JSONValue = [
      "chargingProfileId": 12, "stackLevel": 0, "chargingProfilePurpose": "ChargePointMaxProfile",
      "chargingProfileKind": "Absolute",
      "chargingSchedule": ["chargingRateUnit": "A", "startSchedule": .string(now.adding(seconds: -7200).iso8601),
                           "chargingSchedulePeriod": [["startPeriod": 0, "limit": 16.0], ["startPeriod": 3600, "limit": 6.0]]],
    ]
    try central.store.db.run(
      """
      INSERT INTO installed_profiles (station_id, connector_id, charging_profile_id, purpose, stack_level, profile,
        installed_at) VALUES (1, 0, 12, 'ChargePointMaxProfile', 0, ?, ?)
      """, [profile.compact, now.adding(seconds: -7200).iso8601])
    try central.rebalance(at: now, reason: "start")
    #expect(try sent(central).map(\.1) == [6, 6])
    let notes = try central.store.plan(for: "Site").compactMap(\.note)
    #expect(notes == ["capped by profile 12", "capped by profile 12"])
  }

  @Test func aCLIChangeIsNoticedOnTheNextPollWithoutWaitingForTheTimer() throws {
    let central = try setUp()
    try central.noticeAllocationChanges(at: now)
    try central.rebalance(at: now, reason: "start")
    central.lastRebalance = now
    #expect(try sent(central).map(\.1) == [8, 8])
    // Another process raises the capacity: the next 0.1 s poll replans, long before the 5 s timer.
    var changes = CapacityChanges()
    changes.maxCurrent = 20
    try central.store.setCapacity("Site", changes: changes)
    try central.rebalanceIfDue(at: now.adding(seconds: 1))
    #expect(try sent(central).count == 2)
    try central.noticeAllocationChanges(at: now.adding(seconds: 1))
    #expect(try sent(central).map(\.1) == [8, 8, 10, 10])
    let events = try central.store.db.query("SELECT detail FROM events WHERE kind = 'allocation'").compactMap { $0.string("detail") }
    #expect(events.last?.contains("capacity") == true)
  }

  @Test func aSupersededTransactionIsClosedAsSuperseded() throws {
    let central = try makeCentral()
    func start(_ at: String, meter: Int) throws -> JSONValue {
      try central.handle(
        action: "StartTransaction",
        payload: ["connectorId": 1, "idTag": "GOOD", "meterStart": .int(Int64(meter)), "timestamp": .string(at)],
        stationID: 1, identity: "CP-1", at: now)
    }
    _ = try start("2026-11-21T11:00:00Z", meter: 0)
    _ = try start("2026-11-21T11:30:00Z", meter: 5)
    let first = try central.store.db.queryOne("SELECT state, stop_reason, stopped_at FROM transactions WHERE id = 1")
    #expect(first?.string("state") == "superseded")
    #expect(first?.string("stop_reason") == "superseded")
    #expect(first?.date("stopped_at") == Timestamp(parsing: "2026-11-21T11:30:00Z"))
  }
}
