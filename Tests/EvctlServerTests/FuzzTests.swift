import EvctlCore
import Foundation
import Testing

@testable import EvctlServer

/// Seeded mutation fuzzing of every parser that reads bytes from outside: the WebSocket frame
/// decoder and message assembler, the HTTP request parser (with the handshake, file requests and
/// multipart bodies), the JSON parser, the OCPP message decoder and payload reader (every handler
/// through ``CentralSystem/handle``), the CSV reader, and the timestamp and duration parsers.
///
/// Inputs are mutations of the committed seed corpus in `Tests/FuzzCorpus/TARGET/` (and of
/// mutants that parsed, kept in a bounded pool). A crash or trap kills the test process, which
/// fails the suite. The generator is deterministic: `EVCTL_FUZZ_SEED` (default 11) and
/// `EVCTL_FUZZ_INPUTS=N` replay exactly the first N inputs; by default each target runs for
/// `EVCTL_FUZZ_SECONDS` (default 3) seconds. Benchmarks/fuzz.md records a long run.
@Suite struct FuzzTests {
  @Test func webSocketFrames() throws {
    try Fuzzer(target: "websocket", tokens: [[0x81], [0x88], [0x89], [0x8A], [0x00], [0x7E], [0x7F], [0xFE, 0xFF, 0xFF]]).run { input in
      var frames = 0
      for split in [input.count, input.count / 2] {
        let decoder = WebSocketFrameDecoder(maxPayload: 4096)
        var assembler = WebSocketMessageAssembler(maxMessage: 8192)
        var buffer = Array(input.prefix(split))
        var rest = Array(input.dropFirst(split))
        do {
          while true {
            guard let frame = try decoder.decode(&buffer) else {
              if rest.isEmpty { break }
              buffer += rest
              rest = []
              continue
            }
            frames += 1
            _ = try assembler.receive(frame)
          }
        } catch {}
      }
      return frames > 0
    }
  }

  @Test func httpRequests() throws {
    let tokens = ["\r\n", "\r\n\r\n", ": ", "%", "%2F", "%00", "Upgrade: websocket", "Content-Length: ",
                  "Sec-WebSocket-Key: ", "/ocpp/", "/files/", "boundary=", "--b\r\n", " HTTP/1.1", "\u{0}"]
    try Fuzzer(target: "http", tokens: tokens.map { Array($0.utf8) }).run { input in
      let decoder = HTTPRequestDecoder(maxHeadBytes: 4096)
      var buffer = input
      guard let request = try? decoder.decode(&buffer) else { return false }
      _ = try? Handshake.parse(request, pathPrefix: "/ocpp")
      if FileRequests.isFileRequest(request) {
        let boundary = MultipartDecoder.boundary(contentType: request.header("content-type"))
        if let boundary { _ = MultipartDecoder.firstFile(buffer, boundary: boundary) }
        // The streaming body reader: chunked framing and multipart taken apart as bytes arrive.
        let receiver = UploadReceiver(framing: .chunked, limit: 1 << 16, boundary: boundary) { _ in DiscardingSink() }
        var body = buffer
        if (try? receiver.consume(&body)) == true { _ = try? receiver.finish() }
      }
      _ = Handshake.percentDecode(request.target)
      return true
    }
  }

  @Test func json() throws {
    let tokens = ["{", "}", "[", "]", "\"", ":", ",", "\\u", "\\ud800", "1e999", "-", "0.", "true", "null", "E+"]
    try Fuzzer(target: "json", tokens: tokens.map { Array($0.utf8) }).run { input in
      guard let value = try? JSONValue.parse(input) else { return false }
      _ = try? JSONValue.parse(value.compact)
      _ = value.pretty
      return true
    }
  }

  @Test func ocppMessagesAndPayloads() throws {
    let central = try makeCentral()
    let station = try central.store.station("CP-1")
    let tokens = ["-9223372036854775808", "9223372036854775807", "1e309", "-1", "0", "\"\"", "null", "[]",
                  "{}", "\"2026-13-40T25:61:61Z\"", "\"9999-12-31T23:59:59.999999999+14:00\"", "\"NaN\"",
                  "\"connectorId\":", "\"transactionId\":", "\"meterValue\":", "\"value\":"]
    try Fuzzer(target: "ocpp", tokens: tokens.map { Array($0.utf8) }).run { input in
      guard let message = try? OCPPMessageDecoder.decode(String(decoding: input, as: UTF8.self)) else {
        return false
      }
      guard case .call(_, let action, let payload) = message else { return true }
      // In a transaction, as serve's loop runs handlers (a savepoint needs one on PostgreSQL).
      try central.store.atomically {
        try central.store.beginSavepoint("fuzz")
        _ = try? central.handle(action: action, payload: payload, stationID: station.id, identity: "CP-1", at: .now())
        try central.store.rollbackToSavepoint("fuzz")
        try central.store.releaseSavepoint("fuzz")
      }
      return true
    }
  }

  @Test func csv() throws {
    let tokens = ["\"", "\"\"", ",", ";", "\n", "\r\n", "\r", "\u{FEFF}", "\u{0}", "\t"]
    try Fuzzer(target: "csv", tokens: tokens.map { Array($0.utf8) }).run { input in
      (try? CSVReader.parse(String(decoding: input, as: UTF8.self))) != nil
    }
  }

  @Test func timestampsAndDurations() throws {
    let tokens = ["T", "Z", "+", "-", ":", ".", "99999999999999", "9223372036854775807", "w", "d", "h", "m", "s",
                  "0000", "2026", "-00:00", "+14:00", "24:00:00", "60"]
    try Fuzzer(target: "time", tokens: tokens.map { Array($0.utf8) }).run { input in
      let text = String(decoding: input, as: UTF8.self)
      let time = Timestamp(parsing: text)
      if let time {
        _ = time.iso8601
        _ = Timestamp(parsing: time.iso8601)
      }
      let seconds = DurationText.seconds(text)
      return time != nil || seconds != nil
    }
  }
}

/// A deterministic generator: SplitMix64.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Mutates a seed corpus and feeds the results to one parser.
final class Fuzzer {
  let target: String
  let tokens: [[UInt8]]
  var seeds: [[UInt8]] = []
  var pool: [[UInt8]] = []
  var rng: SplitMix64
  static let interesting: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0xC0, 0xED, 0xF4, 0x22, 0x5C, 0x0D, 0x0A, 0x20, 0x2C]

  init(target: String, tokens: [[UInt8]]) throws {
    self.target = target
    self.tokens = tokens
    let environment = ProcessInfo.processInfo.environment
    rng = SplitMix64(state: UInt64(environment["EVCTL_FUZZ_SEED"] ?? "") ?? 11)
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("FuzzCorpus/\(target)")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    seeds = try names.map { Array(try Data(contentsOf: folder.appendingPathComponent($0))) }
  }

  /// Runs `body` on every seed, then on mutants until the budget is spent; `body` returns whether
  /// the input parsed (such mutants join the pool that later mutants start from).
  func run(_ body: ([UInt8]) throws -> Bool) throws {
    #expect(!seeds.isEmpty, "no seed corpus for \(target)")
    let environment = ProcessInfo.processInfo.environment
    let limit = Int(environment["EVCTL_FUZZ_INPUTS"] ?? "")
    let seconds = Double(environment["EVCTL_FUZZ_SECONDS"] ?? "") ?? 3
    let deadline = Date().addingTimeInterval(seconds)
    for seed in seeds { _ = try body(seed) }
    var count = 0
    var parsed = 0
    while limit.map({ count < $0 }) ?? (count & 255 != 0 || Date() < deadline) {
      let input = mutant()
      count += 1
      if try body(input) {
        parsed += 1
        if pool.count < 512 { pool.append(input) } else { pool[Int.random(in: 0..<512, using: &rng)] = input }
      }
    }
    print("fuzz \(target): \(count) inputs, \(parsed) parsed, pool \(pool.count), no crash")
  }

  func mutant() -> [UInt8] {
    let base = pool.isEmpty || Bool.random(using: &rng) ? seeds.randomElement(using: &rng)! : pool.randomElement(using: &rng)!
    var bytes = base
    for _ in 0..<Int.random(in: 1...6, using: &rng) { mutate(&bytes) }
    if bytes.count > 65_536 { bytes.removeLast(bytes.count - 65_536) }
    return bytes
  }

  func mutate(_ bytes: inout [UInt8]) {
    func position(_ extra: Int = 0) -> Int { Int.random(in: 0...(bytes.count + extra - 1 < 0 ? 0 : bytes.count + extra - 1), using: &rng) }
    switch Int.random(in: 0..<10, using: &rng) {
    case 0 where !bytes.isEmpty:  // flip a bit
      let at = position()
      bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
    case 1 where !bytes.isEmpty:  // a random byte
      bytes[position()] = UInt8.random(in: 0...255, using: &rng)
    case 2 where !bytes.isEmpty:  // an interesting byte
      bytes[position()] = Self.interesting.randomElement(using: &rng)!
    case 3:  // insert random bytes
      let at = bytes.isEmpty ? 0 : position(1)
      bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
    case 4 where !bytes.isEmpty:  // delete a range
      let at = position()
      bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &rng)))
    case 5 where !bytes.isEmpty:  // duplicate a range
      let at = position()
      let piece = Array(bytes[at..<min(bytes.count, at + Int.random(in: 1...64, using: &rng))])
      bytes.insert(contentsOf: piece, at: position(1))
    case 6:  // insert a token of the format
      bytes.insert(contentsOf: tokens.randomElement(using: &rng)!, at: bytes.isEmpty ? 0 : position(1))
    case 7 where !bytes.isEmpty:  // replace a range with a token
      let at = position()
      bytes.replaceSubrange(at..<min(bytes.count, at + Int.random(in: 1...8, using: &rng)),
                            with: tokens.randomElement(using: &rng)!)
    case 8:  // splice with another seed
      let other = seeds.randomElement(using: &rng)!
      let cut = bytes.isEmpty ? 0 : position()
      let from = other.isEmpty ? 0 : Int.random(in: 0..<other.count, using: &rng)
      bytes = Array(bytes.prefix(cut)) + other[from...]
    default:  // truncate
      if !bytes.isEmpty { bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng)) }
    }
  }
}

/// An upload sink that keeps nothing, for fuzzing the body reader.
final class DiscardingSink: UploadSink {
  func write(_ bytes: [UInt8]) throws {}
  func finish() throws -> String { "discarded" }
  func abort() {}
}
