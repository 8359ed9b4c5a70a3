import EvctlCore
import Testing

@testable import EvctlServer

/// Issue 11 items 9 and 17 (wire part), issue 9 item 14: what the handshake and close frames send.
@Suite struct WireStrictnessTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func open(_ central: CentralSystem, protocolHeader: String = "ocpp1.6", target: String = "/ocpp/CP-1")
    throws -> (ConnectionSession, [SessionEvent], String)
  {
    let session = ConnectionSession(central: central, now: now)
    let request = upgradeRequest
      .replacingOccurrences(of: "Sec-WebSocket-Protocol: ocpp1.6", with: "Sec-WebSocket-Protocol: \(protocolHeader)")
      .replacingOccurrences(of: "/ocpp/CP-1", with: target)
    let events = try session.receiveBatch(Array(request.utf8), now: now)
    return (session, events, String(decoding: session.takeOutput(), as: UTF8.self))
  }

  @Test(arguments: ["OCPP1.6", "Ocpp1.6", "ocpp1.6"])
  func theOfferedSubprotocolIsEchoedVerbatim(_ offered: String) throws {
    let (_, _, response) = try open(try makeCentral(), protocolHeader: "ocpp2.0.1, \(offered)")
    #expect(response.hasPrefix("HTTP/1.1 101 "))
    #expect(response.contains("\r\nSec-WebSocket-Protocol: \(offered)\r\n"))
  }

  @Test(arguments: ["/ocpp/CP-1%00x", "/ocpp/CP-1%00", "/ocpp/CP-1%0A", "/ocpp/CP%1F-1", "/ocpp/CP-1%7F"])
  func identitiesWithControlCharactersAre404BeforeAnyLookup(_ target: String) throws {
    let central = try makeCentral()
    let (_, events, response) = try open(central, target: target)
    #expect(response.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
    #expect(events.first.map { if case .close = $0 { true } else { false } } == true)
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM events")?.int("n") == 0)
  }

  @Test(arguments: [UInt16(0), 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
  func invalidCloseCodesAreAnsweredWith1002(_ code: UInt16) throws {
    let (session, _, _) = try open(try makeCentral())
    let events = try session.receiveBatch(clientFrame(8, [UInt8(code >> 8), UInt8(code & 0xFF)]), now: now)
    #expect(events.count == 1)
    let close = serverFrames(session.takeOutput()).first
    #expect(close?.opcode == .close)
    #expect(close.map { Array($0.payload.prefix(2)) } == [0x03, 0xEA])
  }

  @Test(arguments: [UInt16(1000), 1001, 1003, 1011, 3000, 4999])
  func validCloseCodesAreEchoed(_ code: UInt16) throws {
    let (session, _, _) = try open(try makeCentral())
    _ = try session.receiveBatch(clientFrame(8, [UInt8(code >> 8), UInt8(code & 0xFF)]), now: now)
    let close = serverFrames(session.takeOutput()).first
    #expect(close.map { Array($0.payload.prefix(2)) } == [UInt8(code >> 8), UInt8(code & 0xFF)])
  }

  @Test func aOneByteClosePayloadIsAProtocolError() throws {
    let (session, _, _) = try open(try makeCentral())
    _ = try session.receiveBatch(clientFrame(8, [0x03]), now: now)
    #expect(serverFrames(session.takeOutput()).first.map { Array($0.payload.prefix(2)) } == [0x03, 0xEA])
  }

  @Test func statusLinesCarryTheirReasonPhrases() {
    let expected = [
      400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
      411: "Length Required", 413: "Content Too Large", 426: "Upgrade Required",
      500: "Internal Server Error", 507: "Insufficient Storage",
    ]
    for (status, phrase) in expected {
      let bytes = HandshakeRejection(status: status, reason: "x", extraHeaders: []).responseBytes
      #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 \(status) \(phrase)\r\n"))
    }
  }
}
