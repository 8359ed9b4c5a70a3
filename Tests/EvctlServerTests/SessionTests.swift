import EvctlCore
import Testing

@testable import EvctlServer

/// The session and handlers, driven without a socket.
@Suite struct SessionTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func openSession(_ central: CentralSystem) throws -> ConnectionSession {
    let session = ConnectionSession(central: central, now: now)
    let events = try session.receiveBatch(Array(upgradeRequest.utf8), now: now)
    #expect(events == [.admitted(stationID: 1, identity: "CP-1")])
    let response = String(decoding: session.takeOutput(), as: UTF8.self)
    #expect(response.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
    #expect(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
    #expect(response.contains("Sec-WebSocket-Protocol: ocpp1.6\r\n"))
    return session
  }

  func call(_ session: ConnectionSession, _ frame: String) throws -> JSONValue {
    _ = try session.receiveBatch(text(frame), now: now)
    let frames = serverFrames(session.takeOutput())
    #expect(frames.count == 1)
    return try JSONValue.parse(frames[0].payload)
  }

  @Test func handshakeForAnUnknownIdentityIs404() throws {
    let central = try makeCentral()
    let session = ConnectionSession(central: central, now: now)
    let request = upgradeRequest.replacingOccurrences(of: "CP-1", with: "GHOST")
    let events = try session.receiveBatch(Array(request.utf8), now: now)
    #expect(events == [.close(reason: "not registered: GHOST")])
    #expect(String(decoding: session.takeOutput(), as: UTF8.self).hasPrefix("HTTP/1.1 404 Not Found"))
  }

  @Test func bootAnswersFromTheRegistrationPolicy() throws {
    let central = try makeCentral()
    var changes = StationChanges()
    changes.registrationPolicy = .pending
    try central.store.updateStation("CP-1", changes)
    let session = try openSession(central)
    let reply = try call(session, #"[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#)
    #expect(reply[2]?["status"] == "Pending")
    #expect(reply[2]?["currentTime"]?.stringValue?.hasSuffix("Z") == true)
  }

  @Test func aBootWithOpenTransactionsSaysTheyAwaitTheirStop() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    _ = try call(session, #"[2,"s1","StartTransaction",{"connectorId":1,"idTag":"GOOD","meterStart":0,"timestamp":"2026-11-21T12:00:00Z"}]"#)
    _ = try call(session, #"[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#)
    let detail = try central.store.db.queryOne("SELECT detail FROM events WHERE kind = 'boot'")?.string("detail")
    #expect(detail?.hasSuffix("open transactions await their StopTransaction: 1") == true)
  }

  @Test func repeatedMessageIdsAreAnsweredFromTheCache() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let frame = #"[2,"s1","StartTransaction",{"connectorId":1,"idTag":"good","meterStart":0,"timestamp":"2026-11-21T12:00:00Z"}]"#
    let first = try call(session, frame)
    let second = try call(session, frame)
    #expect(first == second)
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM transactions")?.int("n") == 1)
  }

  @Test func startTransactionReChecksTheTagAndStillGivesAnId() throws {
    let central = try makeCentral()
    try central.store.setTokenBlocked("GOOD", blocked: true)
    let session = try openSession(central)
    let reply = try call(session, #"[2,"s1","StartTransaction",{"connectorId":1,"idTag":"GOOD","meterStart":0,"timestamp":"2026-11-21T12:00:00Z"}]"#)
    #expect(reply[2]?["transactionId"] == 1)
    #expect(reply[2]?["idTagInfo"]?["status"] == "Blocked")
  }

  @Test func aNewStartOnABusyConnectorSupersedesTheOldOne() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    _ = try call(session, #"[2,"s1","StartTransaction",{"connectorId":1,"idTag":"GOOD","meterStart":0,"timestamp":"2026-11-21T12:00:00Z"}]"#)
    let second = try call(session, #"[2,"s2","StartTransaction",{"connectorId":1,"idTag":"GOOD","meterStart":9,"timestamp":"2026-11-21T12:05:00Z"}]"#)
    #expect(second[2]?["transactionId"] == 2)
    let states = try central.store.db.query("SELECT state FROM transactions ORDER BY id").map { $0.string("state") }
    #expect(states == ["superseded", "active"])
  }

  @Test func stopTransactionOnlyClosesThisStationsTransactions() throws {
    let central = try makeCentral()
    try central.store.createStation(identity: "CP-2", name: "Two")
    try central.store.db.run(
      """
      INSERT INTO transactions (id, station_id, connector_id, id_tag, authorization_status, meter_start,
        started_at, start_timestamp_raw, received_at) VALUES (5, 2, 1, 'GOOD', 'Accepted', 0, ?, 'x', ?)
      """, [now.iso8601, now.iso8601])
    let session = try openSession(central)
    let reply = try call(session, #"[2,"t","StopTransaction",{"transactionId":5,"meterStop":10,"timestamp":"2026-11-21T12:00:00Z"}]"#)
    #expect(reply[0] == 3)
    #expect(try central.store.db.queryOne("SELECT state FROM transactions WHERE id = 5")?.string("state") == "active")
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM orphan_stops")?.int("n") == 1)
  }

  @Test func statusNotificationKeepsStateAndHistory() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    for status in ["Available", "Faulted"] {
      _ = try call(session, #"[2,"\#(status)","StatusNotification",{"connectorId":1,"status":"\#(status)","errorCode":"GroundFailure"}]"#)
    }
    _ = try call(session, #"[2,"z","StatusNotification",{"connectorId":0,"status":"Available","errorCode":"NoError"}]"#)
    let connector = try central.store.connectors("CP-1").first!
    #expect(connector.status == "Faulted")
    #expect(connector.errorCode == "GroundFailure")
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM status_events")?.int("n") == 3)
  }

  @Test func unknownEnumValuesAreAcceptedAndCounted() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let reply = try call(session, #"[2,"x","StatusNotification",{"connectorId":"1","status":"Occupied","errorCode":"NoError"}]"#)
    #expect(reply[0] == 3)
    try central.flushLiveness()
    #expect(try central.store.db.queryOne("SELECT lenient_count FROM stations")?.int("lenient_count") == 2)
  }

  @Test func wrongTypesAndMissingFieldsGetTheRightErrorCodes() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let missing = try call(session, #"[2,"m","Authorize",{}]"#)
    #expect(missing[2] == "ProtocolError")
    let long = try call(session, #"[2,"l","Authorize",{"idTag":"123456789012345678901"}]"#)
    #expect(long[2] == "TypeConstraintViolation")
    let type = try call(session, #"[2,"t","MeterValues",{"connectorId":{},"meterValue":[]}]"#)
    #expect(type[2] == "TypeConstraintViolation")
    let unknown = try call(session, #"[2,"u","GetConfiguration",{}]"#)
    #expect(unknown[2] == "NotImplemented")
  }

  @Test func everyFrameIsLogged() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    _ = try call(session, #"[2,"h","Heartbeat",{}]"#)
    try central.flushLiveness()
    let directions = try central.store.db.query("SELECT direction FROM message_log ORDER BY id").map { $0.string("direction") }
    #expect(directions == ["in", "out"])
  }

  @Test func pingsArePongedAndCloseIsEchoed() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    _ = try session.receiveBatch(clientFrame(9, [1, 2]), now: now)
    #expect(serverFrames(session.takeOutput()) == [WebSocketFrame(opcode: .pong, payload: [1, 2])])
    let events = try session.receiveBatch(clientFrame(8, [0x03, 0xE8]), now: now)
    #expect(events == [.close(reason: "closed by station (1000)")])
    #expect(serverFrames(session.takeOutput()).first?.opcode == .close)
  }

  @Test func unmaskedClientFramesCloseTheConnection() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let events = try session.receiveBatch([0x81, 0x01, 0x41], now: now)
    #expect(events.count == 1)
    let close = serverFrames(session.takeOutput()).first
    #expect(close?.opcode == .close)
    #expect(close.map { Array($0.payload.prefix(2)) } == [0x03, 0xEA])
  }

  @Test func otherStationMessagesAreKept() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let reply = try call(session, #"[2,"d","DataTransfer",{"vendorId":"com.example","data":"x"}]"#)
    #expect(reply[2]?["status"] == "UnknownVendorId")
    let sign = try call(session, #"[2,"c","SignCertificate",{"csr":"abc"}]"#)
    #expect(sign[2]?["status"] == "Rejected")
    _ = try call(session, #"[2,"f","FirmwareStatusNotification",{"status":"Downloaded"}]"#)
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM station_data")?.int("n") == 3)
  }
}

/// Alarms raised from what stations report and from silence.
@Suite struct AlarmRaisingTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  @Test func silentStationsRaiseOfflineOnceAndReconnectingClearsIt() throws {
    let central = try makeCentral()
    try central.store.db.run(
      "UPDATE stations SET connected = FALSE, heartbeat_interval = 60, last_seen_at = ?",
      [now.adding(seconds: -200).iso8601])
    var seen: [String] = []
    central.onAlarm = { seen.append($0.kind) }
    try central.periodicAlarms(at: now)
    try central.periodicAlarms(at: now.adding(seconds: 30))
    #expect(seen == ["offline"])
    try central.connected(stationID: 1, identity: "CP-1", replaced: false, at: now.adding(seconds: 40))
    #expect(try central.store.alarms(active: true).isEmpty)
  }

  @Test func recentlySeenStationsAreNotOffline() throws {
    let central = try makeCentral()
    try central.store.db.run(
      "UPDATE stations SET connected = FALSE, heartbeat_interval = 300, last_seen_at = ?",
      [now.adding(seconds: -200).iso8601])
    try central.periodicAlarms(at: now)
    #expect(try central.store.alarms(active: true).isEmpty)
  }

  @Test func failuresAndSecurityEventsRaiseAndSuccessClears() throws {
    let central = try makeCentral()
    try central.notificationAlarms("FirmwareStatusNotification", status: "DownloadFailed", stationID: 1, identity: "CP-1", at: now)
    try central.notificationAlarms("DiagnosticsStatusNotification", status: "UploadFailed", stationID: 1, identity: "CP-1", at: now)
    try central.notificationAlarms("SecurityEventNotification", status: "InvalidFirmwareSignature", stationID: 1, identity: "CP-1", at: now)
    #expect(Set(try central.store.alarms(active: true).map(\.kind)) == ["firmware_failed", "diagnostics_failed", "security"])
    try central.notificationAlarms("FirmwareStatusNotification", status: "Installed", stationID: 1, identity: "CP-1", at: now)
    try central.notificationAlarms("DiagnosticsStatusNotification", status: "Uploaded", stationID: 1, identity: "CP-1", at: now)
    #expect(try central.store.alarms(active: true).map(\.kind) == ["security"])
  }
}

@Suite struct MessageLogRetentionTests {
  @Test func prunesOnlyWhatIsPastRetentionInBoundedChunks() throws {
    let central = try makeCentral()
    let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    for day in 0..<10 {
      for n in 0..<50 {
        try central.store.db.run(
          "INSERT INTO message_log (station_id, direction, at, frame) VALUES (1, 'in', ?, '[]')",
          [now.adding(seconds: Int64(-86_400 * (10 - day) + n)).iso8601])
      }
    }
    try central.pruneMessageLog(at: now)
    try central.pruneStep(limit: 100)
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM message_log")?.int("n") == 400)
    for _ in 0..<5 { try central.pruneStep(limit: 100) }
    // Retention is 7 days: days -10, -9 and -8 (150 rows) are gone, the rest stays.
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM message_log")?.int("n") == 350)
    #expect(try central.store.db.queryOne("SELECT min(at) AS a FROM message_log")?.string("a")
      == now.adding(seconds: -86_400 * 7).iso8601)
  }
}
