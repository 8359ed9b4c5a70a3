import EvctlCore
import Testing

@testable import EvctlServer

/// Station-sent ids beyond 32 bits (issue 14 item 3): connector, transaction and reservation ids
/// are 32-bit columns on PostgreSQL, and serve hands out transaction and reservation ids from
/// positive 32-bit sequences. A wider number gets the same answer on both backends: an id of
/// ours that cannot exist is unknown, a connector id that cannot exist is refused.
@Suite struct WideIdentifierTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!
  static let wide = ["2147483648", "4294967296", "9223372036854775807", "-2147483649"]

  func openSession(_ central: CentralSystem) throws -> ConnectionSession {
    let session = ConnectionSession(central: central, now: now)
    _ = try session.receiveBatch(Array(upgradeRequest.utf8), now: now)
    _ = session.takeOutput()
    return session
  }

  func call(_ session: ConnectionSession, _ frame: String) throws -> JSONValue {
    _ = try session.receiveBatch(text(frame), now: now)
    let frames = serverFrames(session.takeOutput())
    #expect(frames.count == 1)
    return try JSONValue.parse(frames[0].payload)
  }

  @Test(arguments: wide) func aStopForATransactionIdBeyond32BitsIsKeptAsAnOrphan(_ id: String) throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let reply = try call(session, #"[2,"t","StopTransaction",{"transactionId":\#(id),"meterStop":10,"timestamp":"2026-11-21T12:00:00Z"}]"#)
    #expect(reply[0] == 3, "\(reply)")
    let orphan = try central.store.db.queryOne("SELECT transaction_id FROM orphan_stops")
    #expect(orphan?.int("transaction_id") == Int(id))
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM events WHERE kind = 'orphan_stop'")?.int("n") == 1)
  }

  @Test(arguments: wide) func meterValuesForATransactionIdBeyond32BitsAreKeptWithoutIt(_ id: String) throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let reply = try call(session, #"[2,"m","MeterValues",{"connectorId":1,"transactionId":\#(id),"meterValue":[{"timestamp":"2026-11-21T12:00:00Z","sampledValue":[{"value":"42"}]}]}]"#)
    #expect(reply[0] == 3, "\(reply)")
    let rows = try central.store.db.query("SELECT transaction_id, value FROM meter_values")
    #expect(rows.count == 1)
    #expect(rows.first?.int("transaction_id") == nil && rows.first?.string("value") == "42")
  }

  @Test(arguments: wide) func aReservationIdBeyond32BitsIsIgnoredAtStart(_ id: String) throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let reply = try call(session, #"[2,"s","StartTransaction",{"connectorId":1,"idTag":"GOOD","meterStart":0,"timestamp":"2026-11-21T12:00:00Z","reservationId":\#(id)}]"#)
    #expect(reply[0] == 3, "\(reply)")
    #expect(reply[2]?["transactionId"] == 1)
    let row = try central.store.db.queryOne("SELECT reservation_id, state FROM transactions")
    #expect(row?.string("state") == "active")
    #expect(row?.int("reservation_id") == nil)
  }

  @Test func aReservationIdWithin32BitsIsStillKept() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    _ = try call(session, #"[2,"s","StartTransaction",{"connectorId":1,"idTag":"GOOD","meterStart":0,"timestamp":"2026-11-21T12:00:00Z","reservationId":2147483647}]"#)
    #expect(try central.store.db.queryOne("SELECT reservation_id FROM transactions")?.int("reservation_id") == 2_147_483_647)
  }

  @Test(arguments: [
    #"[2,"x","StartTransaction",{"connectorId":2147483648,"idTag":"GOOD","meterStart":0,"timestamp":"2026-11-21T12:00:00Z"}]"#,
    #"[2,"x","StatusNotification",{"connectorId":2147483648,"status":"Available","errorCode":"NoError"}]"#,
    #"[2,"x","MeterValues",{"connectorId":9223372036854775807,"meterValue":[{"timestamp":"2026-11-21T12:00:00Z","sampledValue":[{"value":"1"}]}]}]"#,
  ])
  func aConnectorIdBeyond32BitsIsAPropertyConstraintViolation(_ frame: String) throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let reply = try call(session, frame)
    #expect(reply[0] == 4, "\(reply)")
    #expect(reply[2] == "PropertyConstraintViolation")
    #expect(reply[3]?.stringValue?.contains("connectorId") == true, "\(reply)")
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM transactions")?.int("n") == 0)
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM meter_values")?.int("n") == 0)
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM status_events")?.int("n") == 0)
  }

  @Test func theLargest32BitConnectorIdIsAccepted() throws {
    let central = try makeCentral()
    let session = try openSession(central)
    let reply = try call(session, #"[2,"x","StatusNotification",{"connectorId":2147483647,"status":"Available","errorCode":"NoError"}]"#)
    #expect(reply[0] == 3, "\(reply)")
  }
}
