import EvctlCore
import Testing

@testable import EvctlServer

@Suite struct HTTPRequestDecoderTests {
  @Test func decodesWhenFedOneByteAtATime() throws {
    let decoder = HTTPRequestDecoder()
    var buffer: [UInt8] = []
    var decoded: [HTTPRequest] = []
    for byte in Array(upgradeRequest.utf8) + Array("extra".utf8) {
      buffer.append(byte)
      if let request = try decoder.decode(&buffer) { decoded.append(request) }
    }
    #expect(decoded.count == 1)
    #expect(decoded[0].target == "/ocpp/CP-1")
    #expect(decoded[0].header("SEC-WEBSOCKET-KEY") == "dGhlIHNhbXBsZSBub25jZQ==")
    #expect(buffer == Array("extra".utf8), "the decoder must consume exactly one head")
  }

  @Test func refusesOversizedHeads() {
    let decoder = HTTPRequestDecoder(maxHeadBytes: 64)
    var buffer = Array(("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 100)).utf8)
    #expect(throws: HTTPRequestDecoder.Failure.headTooLarge(limit: 64)) { try decoder.decode(&buffer) }
  }

  @Test func refusesMalformedLines() {
    let decoder = HTTPRequestDecoder()
    var line = Array("NONSENSE\r\n\r\n".utf8)
    #expect(throws: HTTPRequestDecoder.Failure.malformedRequestLine) { try decoder.decode(&line) }
    var header = Array("GET / HTTP/1.1\r\nno colon here\r\n\r\n".utf8)
    #expect(throws: HTTPRequestDecoder.Failure.malformedHeader) { try decoder.decode(&header) }
  }
}

@Suite struct HandshakeTests {
  func request(_ target: String = "/ocpp/CP-1", headers: [String: String] = [:]) throws -> HTTPRequest {
    var buffer = Array(upgradeRequest.replacingOccurrences(of: "/ocpp/CP-1", with: target).utf8)
    var request = try #require(try HTTPRequestDecoder().decode(&buffer))
    for (name, value) in headers { request.headers[name] = value }
    return request
  }

  @Test func acceptKeyFollowsRFC6455() {
    #expect(Handshake.acceptValue(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
  }

  @Test func identityIsTheLastSegmentPercentDecodedOnce() throws {
    #expect(try Handshake.parse(request("/ocpp/CP%2D1"), pathPrefix: "/ocpp").identity == "CP-1")
    #expect(try Handshake.parse(request("/ocpp/site/CP%252F1"), pathPrefix: "/ocpp").identity == "CP%2F1")
    #expect(try Handshake.parse(request("/ocpp/CP-1?x=1"), pathPrefix: "/ocpp").identity == "CP-1")
  }

  @Test func wrongPathsAndProtocolsAreRefused() throws {
    #expect(throws: HandshakeRejection.self) { try Handshake.parse(request("/other/CP-1"), pathPrefix: "/ocpp") }
    let other = try request(headers: ["sec-websocket-protocol": "ocpp2.0.1"])
    #expect((try? Handshake.parse(other, pathPrefix: "/ocpp")) == nil)
    let none = try request(headers: ["sec-websocket-protocol": ""])
    #expect(try Handshake.parse(none, pathPrefix: "/ocpp").offersOCPP16 == false)
    let noKey = try request(headers: ["sec-websocket-key": "short"])
    #expect((try? Handshake.parse(noKey, pathPrefix: "/ocpp")) == nil)
  }

  @Test func basicCredentialsKeepBinaryPasswords() throws {
    let secret: [UInt8] = Array("CP-1:".utf8) + [0x00, 0xFF, 0x3A, 0x41]
    let upgrade = try Handshake.parse(
      request(headers: ["authorization": "Basic " + Crypto.base64(secret)]), pathPrefix: "/ocpp")
    #expect(upgrade.credentials?.username == "CP-1")
    #expect(upgrade.credentials?.password == [0x00, 0xFF, 0x3A, 0x41])
  }
}

@Suite struct WebSocketCodecTests {
  @Test func decodesFramesFedByteByByte() throws {
    let decoder = WebSocketFrameDecoder()
    let long = [UInt8](repeating: 65, count: 300)
    let wire = text("hi") + clientFrame(1, long) + clientFrame(9, [7])
    var buffer: [UInt8] = []
    var frames: [WebSocketFrame] = []
    for byte in wire {
      buffer.append(byte)
      while let frame = try decoder.decode(&buffer) { frames.append(frame) }
    }
    #expect(frames == [
      WebSocketFrame(opcode: .text, payload: Array("hi".utf8)),
      WebSocketFrame(opcode: .text, payload: long),
      WebSocketFrame(opcode: .ping, payload: [7]),
    ])
    #expect(buffer.isEmpty)
  }

  @Test func decodesA64BitLength() throws {
    let payload = [UInt8](repeating: 1, count: 70_000)
    var buffer = clientFrame(2, payload)
    #expect(try WebSocketFrameDecoder().decode(&buffer)?.payload.count == 70_000)
  }

  @Test func unmaskedFramesAreAProtocolError() {
    var buffer: [UInt8] = [0x81, 0x02, 0x68, 0x69]
    #expect(throws: WebSocketError(code: .protocolError, reason: "client frames must be masked")) {
      try WebSocketFrameDecoder().decode(&buffer)
    }
  }

  @Test func reservedBitsAndBadControlFramesAreRefused() {
    var reserved = clientFrame(1, [1])
    reserved[0] |= 0x40
    #expect(throws: WebSocketError.self) { try WebSocketFrameDecoder().decode(&reserved) }
    var fragmentedPing = clientFrame(9, [1], fin: false)
    #expect(throws: WebSocketError.self) { try WebSocketFrameDecoder().decode(&fragmentedPing) }
    var longPing = clientFrame(9, [UInt8](repeating: 0, count: 126))
    #expect(throws: WebSocketError.self) { try WebSocketFrameDecoder().decode(&longPing) }
  }

  @Test func oversizedMessagesClose1009() {
    var big = clientFrame(1, [UInt8](repeating: 65, count: 2000))
    #expect(throws: WebSocketError(code: .messageTooBig, reason: "message larger than 1000 bytes")) {
      try WebSocketFrameDecoder(maxPayload: 1000).decode(&big)
    }
    var assembler = WebSocketMessageAssembler(maxMessage: 10)
    #expect(throws: WebSocketError.self) {
      _ = try assembler.receive(WebSocketFrame(fin: false, opcode: .text, payload: [UInt8](repeating: 65, count: 6)))
      _ = try assembler.receive(WebSocketFrame(fin: true, opcode: .continuation, payload: [UInt8](repeating: 65, count: 6)))
    }
  }

  @Test func fragmentsWithAPingBetweenThem() throws {
    var assembler = WebSocketMessageAssembler()
    #expect(try assembler.receive(WebSocketFrame(fin: false, opcode: .text, payload: Array("[2,".utf8))) == nil)
    #expect(try assembler.receive(WebSocketFrame(opcode: .ping, payload: [9])) == .ping([9]))
    #expect(try assembler.receive(WebSocketFrame(fin: true, opcode: .continuation, payload: Array("3]".utf8))) == .text("[2,3]"))
  }

  @Test func invalidUTF8Closes1007() {
    var assembler = WebSocketMessageAssembler()
    #expect(throws: WebSocketError(code: .invalidPayload, reason: "invalid UTF-8")) {
      try assembler.receive(WebSocketFrame(opcode: .text, payload: [0xC3, 0x28]))
    }
  }

  @Test func continuationWithoutAMessageIsAProtocolError() {
    var assembler = WebSocketMessageAssembler()
    #expect(throws: WebSocketError.self) {
      try assembler.receive(WebSocketFrame(opcode: .continuation, payload: []))
    }
  }

  @Test func serverFramesAreUnmaskedWithTheRightLength() {
    #expect(WebSocketFrameEncoder.encode(.text, Array("hi".utf8)) == [0x81, 0x02, 0x68, 0x69])
    let medium = WebSocketFrameEncoder.encode(.binary, [UInt8](repeating: 0, count: 300))
    #expect(Array(medium.prefix(4)) == [0x82, 126, 0x01, 0x2C])
    let large = WebSocketFrameEncoder.encode(.binary, [UInt8](repeating: 0, count: 70_000))
    #expect(Array(large.prefix(10)) == [0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70])
    #expect(WebSocketFrameEncoder.close(.goingAway) == [0x88, 0x02, 0x03, 0xE9])
  }
}

@Suite struct OCPPMessageDecoderTests {
  @Test func decodesTheThreeMessageTypes() throws {
    #expect(try OCPPMessageDecoder.decode(#"[2,"1","Heartbeat",{}]"#) == .call(id: "1", action: "Heartbeat", payload: [:]))
    #expect(try OCPPMessageDecoder.decode(#"[3,"1",{"a":1}]"#) == .result(id: "1", payload: ["a": 1]))
    #expect(try OCPPMessageDecoder.decode(#"[4,"1","NotSupported","no",{}]"#) == .error(id: "1", code: "NotSupported", description: "no", details: [:]))
  }

  @Test func isLenientWhereTheBriefSaysSo() throws {
    #expect(try OCPPMessageDecoder.decode(#"[2,"1","Heartbeat",null]"#) == .call(id: "1", action: "Heartbeat", payload: [:]))
    #expect(try OCPPMessageDecoder.decode(#"["2",7,"Heartbeat",{}]"#) == .call(id: 7, action: "Heartbeat", payload: [:]))
    #expect(try OCPPMessageDecoder.decode(#"[4,"1","X"]"#) == .error(id: "1", code: "X", description: "", details: [:]))
    #expect(try OCPPMessageDecoder.decode(#"[1,"1","Heartbeat",{}]"#) == nil)
  }

  @Test(arguments: ["nope", "{}", "[2]", #"[2,"","Heartbeat",{}]"#, #"[2,"1",5,{}]"#, #"[2,"1","A",[]]"#,
                    #"[2,"0123456789012345678901234567890123456","A",{}]"#])
  func malformedFramesAreFormationViolations(frame: String) {
    #expect(throws: OCPPFrameError.self) { try OCPPMessageDecoder.decode(frame) }
  }

  @Test func echoesNumericIdsAsSent() {
    #expect(OCPPMessage.result(id: 7, payload: [:]).json.compact == "[3,7,{}]")
  }
}
