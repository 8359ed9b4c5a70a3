import EvctlCore
import Testing

@testable import EvctlServer

/// Issue 9 items 10, 16, 18, 19: open connectors, registration, station times, not_registered.
@Suite struct AuthorizationFlowTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func openSession(_ central: CentralSystem, identity: String = "CP-1") throws -> ConnectionSession {
    let session = ConnectionSession(central: central, now: now)
    let request = upgradeRequest.replacingOccurrences(of: "/ocpp/CP-1", with: "/ocpp/\(identity)")
    _ = try session.receiveBatch(Array(request.utf8), now: now)
    _ = session.takeOutput()
    return session
  }

  func call(_ session: ConnectionSession, _ frame: String) throws -> JSONValue {
    _ = try session.receiveBatch(text(frame), now: now)
    return try JSONValue.parse(serverFrames(session.takeOutput()).last?.payload ?? [])
  }

  let boot = #"[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#
  let authorize = #"[2,"a","Authorize",{"idTag":"GOOD"}]"#
  let start = #"[2,"s","StartTransaction",{"connectorId":1,"idTag":"GOOD","meterStart":0,"timestamp":"2026-11-21T12:00:00Z"}]"#

  @Test func anOpenConnectorAcceptsEveryTagAndTheSessionIsAnonymous() throws {
    let central = try makeCentral()
    _ = try central.store.updateConnector("CP-1", connector: 2, mode: "open")
    let session = try openSession(central)
    let reply = try call(session, #"[2,"s","StartTransaction",{"connectorId":2,"idTag":"WHOEVER","meterStart":0,"timestamp":"2026-11-21T12:00:00Z"}]"#)
    #expect(reply[2]?["idTagInfo"]?["status"] == "Accepted")
    let row = try central.store.db.queryOne("SELECT token_id, anonymous, authorization_status FROM transactions")
    #expect(row?.int("anonymous") == 1)
    #expect(row?.int("token_id") == nil)
    #expect(row?.string("authorization_status") == "Accepted")
    // Connector 1 is still rfid; a mixed station's Authorize follows the token rules.
    let rfid = try call(session, #"[2,"t","StartTransaction",{"connectorId":1,"idTag":"WHOEVER","meterStart":0,"timestamp":"2026-11-21T12:00:00Z"}]"#)
    #expect(rfid[2]?["idTagInfo"]?["status"] == "Invalid")
    #expect(try call(session, #"[2,"a","Authorize",{"idTag":"WHOEVER"}]"#)[2]?["idTagInfo"]?["status"] == "Invalid")
  }

  @Test func authorizeIsAcceptedWhenEveryConnectorIsOpenOrForTheFreeVendTag() throws {
    let central = try makeCentral()
    _ = try central.store.updateConnector("CP-1", connector: 2, mode: "open")
    try central.store.db.run(
      "INSERT INTO station_configuration (station_id, key, value, readonly, known, fetched_at) VALUES (1, 'FreeVendIdTag', 'FREEVEND', FALSE, TRUE, ?)",
      [now.iso8601])
    let session = try openSession(central)
    #expect(try call(session, #"[2,"a","Authorize",{"idTag":"freevend"}]"#)[2]?["idTagInfo"]?["status"] == "Accepted")
    _ = try central.store.updateConnector("CP-1", connector: 1, mode: "open")
    #expect(try call(session, #"[2,"b","Authorize",{"idTag":"ANYONE"}]"#)[2]?["idTagInfo"]?["status"] == "Accepted")
  }

  @Test(arguments: [RegistrationPolicy.pending, .reject])
  func aStationNotYetAcceptedMayOnlyBoot(_ policy: RegistrationPolicy) throws {
    let central = try makeCentral()
    var changes = StationChanges()
    changes.registrationPolicy = policy
    try central.store.updateStation("CP-1", changes)
    let session = try openSession(central)
    #expect(try call(session, boot)[2]?["status"] == .string(policy.ocppStatus))
    for frame in [authorize, start, #"[2,"h","Heartbeat",{}]"#,
                  #"[2,"n","StatusNotification",{"connectorId":1,"status":"Available","errorCode":"NoError"}]"#] {
      let reply = try call(session, frame)
      #expect(reply[0] == 4)
      #expect(reply[2] == "SecurityError")
    }
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM transactions")?.int("n") == 0)
    // Releasing the station: its calls are answered again, and its next boot is Accepted.
    changes.registrationPolicy = .accept
    try central.store.updateStation("CP-1", changes)
    #expect(try call(session, authorize.replacingOccurrences(of: #""a""#, with: #""a2""#))[2]?["idTagInfo"]?["status"] == "Accepted")
    #expect(try call(session, boot.replacingOccurrences(of: #""b""#, with: #""b2""#))[2]?["status"] == "Accepted")
  }

  /// serve keeps "not held" per station once its status is Accepted (no query per CALL): a later
  /// BootNotification answered Pending must hold it again at once.
  @Test func anAcceptedStationIsHeldAgainWhenItsNextBootIsPending() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    #expect(try call(session, boot)[2]?["status"] == "Accepted")
    #expect(try call(session, #"[2,"h1","Heartbeat",{}]"#)[0] == 3)
    var changes = StationChanges()
    changes.registrationPolicy = .pending
    try central.store.updateStation("CP-1", changes)
    // Still Accepted until it boots again (the status, not the policy, holds a station).
    #expect(try call(session, #"[2,"h2","Heartbeat",{}]"#)[0] == 3)
    #expect(try call(session, boot.replacingOccurrences(of: #""b""#, with: #""b2""#))[2]?["status"] == "Pending")
    let held = try call(session, #"[2,"h3","Heartbeat",{}]"#)
    #expect(held[0] == 4)
    #expect(held[2] == "SecurityError")
    // Released by the operator: answered again without another boot.
    changes.registrationPolicy = .accept
    try central.store.updateStation("CP-1", changes)
    #expect(try call(session, #"[2,"h4","Heartbeat",{}]"#)[0] == 3)
  }

  @Test func aStationThatNeverBootedIsServed() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    #expect(try call(session, authorize)[2]?["idTagInfo"]?["status"] == "Accepted")
  }

  @Test func statusAndSecurityEventsKeepTheStationsTimeAndOurs() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    _ = try call(session, #"[2,"n","StatusNotification",{"connectorId":1,"status":"Faulted","errorCode":"OtherError","vendorErrorCode":"E42","timestamp":"2026-11-21T11:59:00Z"}]"#)
    _ = try call(session, #"[2,"e","SecurityEventNotification",{"type":"FirmwareUpdated","timestamp":"2026-11-21T11:58:00Z"}]"#)
    let status = try central.store.db.queryOne("SELECT reported_at, received_at, vendor_error_code FROM status_events")
    #expect(status?.string("reported_at") == "2026-11-21T11:59:00.000Z")
    #expect(status?.string("received_at") == now.iso8601)
    #expect(status?.string("vendor_error_code") == "E42")
    let event = try central.store.db.queryOne("SELECT reported_at, at FROM events WHERE kind = 'security'")
    #expect(event?.string("reported_at") == "2026-11-21T11:58:00.000Z")
    #expect(event?.string("at") == now.iso8601)
  }

  @Test func notRegisteredClearsWhenTheStationIsCreatedOrBoots() throws {
    let central = try makeCentral()
    _ = try openSession(central, identity: "LATE-1")
    #expect(try central.store.alarms(active: true, station: "LATE-1").map(\.kind) == ["not_registered"])
    _ = try central.store.createStation(identity: "late-1", name: "Late", connectors: 1)
    #expect(try central.store.alarms(active: true).isEmpty)
    let history = try central.store.alarms(active: nil, station: "LATE-1")
    #expect(history.map(\.kind) == ["not_registered"])
    #expect(history.first?.clearedAt != nil)
    #expect(history.first?.stationID != nil)
    // An alarm raised without a station id (as an older serve did) clears on a successful boot.
    try central.store.db.run(
      "INSERT INTO alarms (station_id, identity, kind, raised_at) VALUES (NULL, 'CP-1', 'not_registered', ?)", [now.iso8601])
    let session = try openSession(central)
    _ = try call(session, boot)
    #expect(try central.store.alarms(active: true).isEmpty)
    #expect(try central.store.alarms(active: nil, station: "CP-1").map(\.kind) == ["not_registered"])
  }
}
