import EvctlCore
import Testing

@testable import EvctlServer

/// Issue 9 items 12 and 13: enumerations in any case; answers that lack what they must carry.
@Suite struct LenientReadingTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func openSession(_ central: CentralSystem) throws -> ConnectionSession {
    let session = ConnectionSession(central: central, now: now)
    _ = try session.receiveBatch(Array(upgradeRequest.utf8), now: now)
    _ = session.takeOutput()
    try central.store.db.run("UPDATE stations SET connected = TRUE, last_seen_at = ?", [Timestamp.now().iso8601])
    return session
  }

  func call(_ session: ConnectionSession, _ frame: String) throws -> JSONValue {
    _ = try session.receiveBatch(text(frame), now: now)
    let frames = serverFrames(session.takeOutput())
    return try JSONValue.parse(frames.last?.payload ?? [])
  }

  func lenientCount(_ central: CentralSystem) throws -> Int? {
    try central.flushLiveness()
    return try central.store.db.queryOne("SELECT lenient_count FROM stations")?.int("lenient_count")
  }

  @Test func statusAndErrorCodeInAnyCaseAreStoredCanonicalAndFaultedRaisesItsAlarm() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let reply = try call(session, #"[2,"a","StatusNotification",{"connectorId":1,"status":"faulted","errorCode":"groundFailure"}]"#)
    #expect(reply[0] == 3)
    let connector = try #require(try central.store.connectors("CP-1").first)
    #expect(connector.status == "Faulted")
    #expect(connector.errorCode == "GroundFailure")
    let alarm = try central.store.db.queryOne("SELECT kind, code FROM alarms WHERE cleared_at IS NULL")
    #expect(alarm?.string("kind") == "connector_faulted")
    #expect(alarm?.string("code") == "GroundFailure")
    #expect(try lenientCount(central) == 2)
    _ = try call(session, #"[2,"b","StatusNotification",{"connectorId":1,"status":"CHARGING","errorCode":"noerror"}]"#)
    #expect(try central.store.connectors("CP-1").first?.status == "Charging")
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM alarms WHERE cleared_at IS NULL")?.int("n") == 0)
  }

  @Test func kwhInAnyCaseIsConvertedToWh() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    _ = try call(session, #"[2,"m","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2026-11-21T12:00:00Z","sampledValue":[{"value":"2.5","measurand":"energy.active.import.register","unit":"kwh","context":"sample.periodic","location":"outlet"},{"value":"16","measurand":"current.import","unit":"a","phase":"l1"}]}]}]"#)
    let rows = try central.store.db.query("SELECT measurand, unit, energy_wh, phase, context, location FROM meter_values ORDER BY id")
    #expect(rows.count == 2)
    #expect(rows[0].string("measurand") == "Energy.Active.Import.Register")
    #expect(rows[0].string("unit") == "kWh")
    #expect(rows[0].double("energy_wh") == 2500)
    #expect(rows[0].string("context") == "Sample.Periodic")
    #expect(rows[0].string("location") == "Outlet")
    #expect(rows[1].string("measurand") == "Current.Import")
    #expect(rows[1].string("unit") == "A")
    #expect(rows[1].string("phase") == "L1")
    #expect(try lenientCount(central) == 7)
  }

  @Test func stopReasonAndNotificationStatusesInAnyCase() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    _ = try call(session, #"[2,"s","StartTransaction",{"connectorId":1,"idTag":"GOOD","meterStart":0,"timestamp":"2026-11-21T12:00:00Z"}]"#)
    _ = try call(session, #"[2,"t","StopTransaction",{"transactionId":1,"meterStop":10,"timestamp":"2026-11-21T12:10:00Z","reason":"evdisconnected"}]"#)
    #expect(try central.store.db.queryOne("SELECT stop_reason FROM transactions")?.string("stop_reason") == "EVDisconnected")
    _ = try call(session, #"[2,"f","FirmwareStatusNotification",{"status":"installationfailed"}]"#)
    #expect(try central.store.db.queryOne("SELECT code FROM alarms WHERE kind = 'firmware_failed'")?.string("code") == "InstallationFailed")
  }

  @Test func answersInAnyCaseAreReadAndCountedAsLenient() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let command = try central.store.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Soft"])
    try session.enqueue(command, now: now)
    _ = session.takeOutput()
    _ = try session.receiveBatch(text(#"[3,"evctl-\#(command.id)",{"status":"accepted"}]"#), now: now)
    let finished = try central.store.command(command.id)
    #expect(finished.state == .accepted)
    #expect(finished.status == "Accepted")
    #expect(try lenientCount(central) == 1)
  }

  @Test(arguments: [
    ("ClearCache", "null", "'status'"), ("ClearCache", "{}", "'status'"),
    ("Reset", #"{"other":1}"#, "'status'"), ("GetLocalListVersion", "{}", "'listVersion'"),
    ("ChangeAvailability", #"{"status":null}"#, "'status'"), ("ClearCache", "[]", "not a JSON object"),
    ("ClearCache", #"{"status":7}"#, "not a string"),
  ])
  func anAnswerWithoutItsRequiredFieldsFailsAndSaysWhat(_ action: String, _ answer: String, _ named: String) throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let payload: JSONValue = action == "Reset" ? ["type": "Soft"] : action == "ChangeAvailability" ? ["connectorId": 0, "type": "Operative"] : [:]
    let command = try central.store.enqueueCommand(station: "CP-1", action: action, payload: payload)
    try session.enqueue(command, now: now)
    _ = session.takeOutput()
    _ = try session.receiveBatch(text(#"[3,"evctl-\#(command.id)",\#(answer)]"#), now: now)
    let finished = try central.store.command(command.id)
    #expect(finished.state == .failed)
    #expect(finished.error?.contains(named) == true, "\(finished.error ?? "no error")")
  }

  @Test func emptyAnswersStayAcceptedWhereNothingIsRequired() {
    #expect(CommandOutcome.read(action: "UpdateFirmware", response: [:]).state == .accepted)
    #expect(CommandOutcome.read(action: "GetConfiguration", response: [:]).state == .accepted)
    #expect(CommandOutcome.read(action: "GetLocalListVersion", response: ["listVersion": 4]).status == "version 4")
  }
}
