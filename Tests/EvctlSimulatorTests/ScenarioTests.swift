import EvctlServer
import Testing

@testable import EvctlSimulator

@Suite struct ScenarioTests {
  @Test func parsesEveryStep() throws {
    let text = """
      # a session
      plug 1
      auth TAG1
      charge 1 7.4kW 30m   # half an hour
      fault 2 GroundFailure
      clear 2
      unplug 1
      wait 5m
      repeat
      """
    let scenario = try Scenario.parse(text, file: "s.txt", connectors: 2)
    #expect(scenario.steps == [
      .plug(connector: 1), .auth(tag: "TAG1"), .charge(connector: 1, watts: 7400, seconds: 1800),
      .fault(connector: 2, errorCode: "GroundFailure"), .clear(connector: 2), .unplug(connector: 1),
      .wait(seconds: 300),
    ])
    #expect(scenario.repeats)
  }

  @Test func reportsFileAndLine() {
    let cases: [(String, String)] = [
      ("plug 1\nplgu 1\n", "s.txt:2: unknown step 'plgu'"),
      ("charge 1 fast 30m\n", "s.txt:1: invalid power 'fast'"),
      ("\n\ncharge 1 7kW soon\n", "s.txt:3: invalid duration 'soon'"),
      ("plug 3\n", "s.txt:1: connector 3 does not exist"),
      ("fault 1 Broken\n", "s.txt:1: unknown error code 'Broken'"),
      ("repeat\n", "s.txt:1: 'repeat' needs steps"),
      ("wait 1m\nrepeat\nplug 1\n", "s.txt:3: nothing may follow 'repeat'"),
      ("plug\n", "s.txt:1: expected 'plug CONNECTOR'"),
    ]
    for (text, prefix) in cases {
      do {
        _ = try Scenario.parse(text, file: "s.txt", connectors: 2)
        Issue.record("\(text) parsed")
      } catch {
        #expect(error.description.hasPrefix(prefix), "\(error.description)")
      }
    }
  }

  @Test func clientFramesRoundTripThroughTheServerDecoder() throws {
    let frame = ClientFrames.encode(.text, Array("hello".utf8), mask: 0x1234_5678)
    #expect(frame[1] & 0x80 != 0)
    var buffer = frame
    let decoded = try WebSocketFrameDecoder().decode(&buffer)
    #expect(decoded?.payload == Array("hello".utf8))
    var server: [UInt8] = [0x81, 0x02, 0x68, 0x69]
    #expect(try ClientFrames.decode(&server)?.payload == Array("hi".utf8))
    var masked: [UInt8] = [0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]
    #expect(throws: (any Error).self) { try ClientFrames.decode(&masked) }
  }

  @Test func urlsAndHandshake() throws {
    let url = try StationURL(parsing: "ws://127.0.0.1:9000/ocpp/")
    #expect(url.target(for: "RDAM 123") == "/ocpp/RDAM%20123")
    #expect(throws: StationURL.Invalid.self) { try StationURL(parsing: "http://x/ocpp") }
    let handshake = ClientHandshake(url: url, identity: "CP1", password: Array("secret".utf8), key: Array(repeating: 1, count: 16))
    let request = String(decoding: handshake.request, as: UTF8.self)
    #expect(request.hasPrefix("GET /ocpp/CP1 HTTP/1.1\r\n"))
    #expect(request.contains("Authorization: Basic Q1AxOnNlY3JldA==\r\n"))
    let refused = Array("HTTP/1.1 404 Not Found\r\nContent-Length: 8\r\n\r\nunknown\n".utf8)
    #expect(handshake.read(refused) == .refused(status: 404, reason: "HTTP 404 Not Found: unknown"))
  }
}
