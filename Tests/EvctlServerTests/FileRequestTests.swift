import EvctlCore
import Testing

@testable import EvctlServer

final class MemoryFiles: FileService {
  var publishedFiles: [String: [UInt8]] = [:]
  var uploads: [(String, String, [UInt8])] = []
  var aborted = 0
  /// The largest single write of each finished upload.
  var largestWrites: [Int] = []
  var failWith: Int32?
  var free: Int?

  func published(_ name: String) -> FileBody? { publishedFiles[name].map(BytesBody.init) }

  func beginUpload(station: String, name: String) throws -> UploadSink {
    if let failWith { throw FileWriteError(operation: "write", errno: failWith) }
    return Sink(files: self, station: station, name: name)
  }

  func freeUploadBytes() -> Int? { free }

  final class Sink: UploadSink {
    let files: MemoryFiles
    let station: String
    let name: String
    var bytes: [UInt8] = []
    /// The largest single write: bodies are streamed, never handed over whole.
    var largestWrite = 0
    init(files: MemoryFiles, station: String, name: String) {
      self.files = files
      self.station = station
      self.name = name
    }
    func write(_ more: [UInt8]) throws {
      largestWrite = max(largestWrite, more.count)
      bytes += more
    }
    func finish() throws -> String {
      files.uploads.append((station, name, bytes))
      files.largestWrites.append(largestWrite)
      return "memory/\(station)/\(name)"
    }
    func abort() { files.aborted += 1 }
  }
}

@Suite struct MultipartDecoderTests {
  @Test func takesTheFirstFile() {
    let body = Array("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"diag.zip\"\r\nContent-Type: application/zip\r\n\r\nPK\u{3}\u{4}data\r\n--XyZ--\r\n".utf8)
    let file = MultipartDecoder.firstFile(body, boundary: "XyZ")
    #expect(file?.name == "diag.zip")
    #expect(file?.bytes == Array("PK\u{3}\u{4}data".utf8))
    #expect(MultipartDecoder.boundary(contentType: "multipart/form-data; boundary=\"XyZ\"") == "XyZ")
    #expect(MultipartDecoder.boundary(contentType: "application/octet-stream") == nil)
    #expect(MultipartDecoder.firstFile(Array("garbage".utf8), boundary: "XyZ") == nil)
  }
}

@Suite struct FileRequestTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func run(_ central: CentralSystem, _ wire: String, pieces: Int = 1) throws -> String {
    let session = ConnectionSession(central: central, now: now)
    let bytes = Array(wire.utf8)
    let size = max(1, bytes.count / pieces)
    var index = 0
    while index < bytes.count {
      _ = try session.receiveBatch(Array(bytes[index..<min(index + size, bytes.count)]), now: now)
      index += size
    }
    var output = session.takeOutput()
    if let body = session.takeFileBody() {
      while case let chunk = try body.read(upTo: 2), !chunk.isEmpty { output += chunk }
    }
    return String(decoding: output, as: UTF8.self)
  }

  func makeFilesCentral(publicFirmware: Bool = false, maxUpload: Int = 64 << 20) throws -> (CentralSystem, MemoryFiles) {
    let base = try makeCentral()
    var configuration = ServerConfiguration()
    configuration.publicFirmware = publicFirmware
    configuration.maxUploadBytes = maxUpload
    let central = CentralSystem(store: base.store, configuration: configuration)
    let files = MemoryFiles()
    central.files = files
    return (central, files)
  }

  func uploadPath(_ central: CentralSystem, expires: Int64 = 3600) throws -> String {
    let grant = try central.store.createFileGrant(identity: "CP-1", kind: .upload, expiresAt: now.adding(seconds: expires))
    return "/files/u/\(grant.token)/"
  }

  @Test func servesPublishedFirmwareOnlyWhenPublicAndNothingElse() throws {
    let (central, files) = try makeFilesCentral(publicFirmware: true)
    files.publishedFiles["fw.bin"] = [1, 2, 3]
    let ok = try run(central, "GET /files/fw.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"))
    #expect(ok.contains("Content-Length: 3\r\n"))
    #expect(ok.hasSuffix("\r\n\r\n\u{1}\u{2}\u{3}"))
    #expect(try run(central, "GET /files/other.bin HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
    #expect(try run(central, "GET /files/..%2Fevctl.db HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
    #expect(try run(central, "GET /files/a/b HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
    let (closed, closedFiles) = try makeFilesCentral()
    closedFiles.publishedFiles["fw.bin"] = [1, 2, 3]
    #expect(try run(closed, "GET /files/fw.bin HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
  }

  @Test func firmwareGoesOutThroughItsExpiringPathOnly() throws {
    let (central, files) = try makeFilesCentral()
    files.publishedFiles["fw.bin"] = [1, 2, 3]
    files.publishedFiles["other.bin"] = [4]
    let grant = try central.store.createFileGrant(
      identity: "CP-1", kind: .firmware, name: "fw.bin", expiresAt: now.adding(seconds: 60))
    #expect(try run(central, "GET /files/f/\(grant.token)/fw.bin HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 200"))
    #expect(try run(central, "GET /files/f/\(grant.token)/other.bin HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
    #expect(try run(central, "GET /files/f/0123456789abcdef0123456789abcdef/fw.bin HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
    let later = ConnectionSession(central: central, now: now.adding(seconds: 61))
    _ = try later.receiveBatch(Array("GET /files/f/\(grant.token)/fw.bin HTTP/1.1\r\n\r\n".utf8), now: now.adding(seconds: 61))
    #expect(String(decoding: later.takeOutput(), as: UTF8.self).hasPrefix("HTTP/1.1 404"))
  }

  @Test func storesAnUploadThatArrivesInPiecesStreamed() throws {
    let (central, files) = try makeFilesCentral()
    let path = try uploadPath(central)
    let body = String(repeating: "log line\n", count: 100)
    let reply = try run(
      central, "PUT \(path)diag.txt HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body,
      pieces: 7)
    #expect(reply.hasPrefix("HTTP/1.1 201 Created"))
    #expect(files.uploads.count == 1)
    #expect(files.uploads[0].0 == "CP-1" && files.uploads[0].1 == "diag.txt")
    #expect(files.uploads[0].2.count == body.utf8.count)
    #expect(files.largestWrites[0] < body.utf8.count)  // written as it arrived, not at the end
    let kinds = try central.store.db.query("SELECT kind FROM events").map { $0.string("kind") }
    #expect(kinds == ["upload"])
    // The path closes with its upload: a second one is refused.
    #expect(try run(central, "PUT \(path)again.txt HTTP/1.1\r\nContent-Length: 1\r\n\r\nx").hasPrefix("HTTP/1.1 404"))
  }

  @Test func refusesUploadsWithoutAnOpenRequest() throws {
    let (central, files) = try makeFilesCentral()
    #expect(try run(central, "PUT /files/uploads/CP-1/x.log HTTP/1.1\r\nContent-Length: 1\r\n\r\nx").hasPrefix("HTTP/1.1 404"))
    #expect(try run(central, "PUT /files/u/0123456789abcdef0123456789abcdef/ HTTP/1.1\r\nContent-Length: 1\r\n\r\nx").hasPrefix("HTTP/1.1 404"))
    let expired = try uploadPath(central, expires: -1)
    #expect(try run(central, "PUT \(expired) HTTP/1.1\r\nContent-Length: 1\r\n\r\nx").hasPrefix("HTTP/1.1 404"))
    #expect(files.uploads.isEmpty)
  }

  @Test func uploadsNeedTheStationsCredentialsWhenItHasThem() throws {
    let (central, files) = try makeFilesCentral()
    try central.store.createStation(identity: "CP-K", name: "Key", password: Array("0123456789abcdef".utf8))
    let grant = try central.store.createFileGrant(identity: "CP-K", kind: .upload, expiresAt: now.adding(seconds: 60))
    let wire = "PUT /files/u/\(grant.token)/d.txt HTTP/1.1\r\nContent-Length: 2\r\n"
    #expect(try run(central, wire + "\r\nab").hasPrefix("HTTP/1.1 401"))
    let wrong = Crypto.base64(Array("CP-K:wrong-key-00000000".utf8))
    #expect(try run(central, wire + "Authorization: Basic \(wrong)\r\n\r\nab").hasPrefix("HTTP/1.1 401"))
    let right = Crypto.base64(Array("CP-K:0123456789abcdef".utf8))
    #expect(try run(central, wire + "Authorization: Basic \(right)\r\n\r\nab").hasPrefix("HTTP/1.1 201"))
    #expect(files.uploads.map(\.0) == ["CP-K"])
  }

  @Test func acceptsMultipartPosts() throws {
    let (central, files) = try makeFilesCentral()
    let path = try uploadPath(central)
    let body = "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"log.zip\"\r\n\r\nZIP\r\n--b--\r\n"
    let reply = try run(
      central, "POST \(path) HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body,
      pieces: 5)
    #expect(reply.hasPrefix("HTTP/1.1 201"))
    #expect(files.uploads.first?.1 == "log.zip")
    #expect(files.uploads.first?.2 == Array("ZIP".utf8))
  }

  @Test func acceptsChunkedUploadsStreamedAndCapped() throws {
    let (central, files) = try makeFilesCentral(maxUpload: 1000)
    let path = try uploadPath(central)
    let chunks = (0..<20).map { String(repeating: Character(UnicodeScalar(97 + $0)!), count: 40) }
    let body = chunks.map { String($0.utf8.count, radix: 16) + ";ext=1\r\n" + $0 + "\r\n" }.joined() + "0\r\nX-Trailer: y\r\n\r\n"
    let reply = try run(central, "PUT \(path)c.bin HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body, pieces: 13)
    #expect(reply.hasPrefix("HTTP/1.1 201"))
    #expect(files.uploads.first?.2 == Array(chunks.joined().utf8))
    let big = try uploadPath(central)
    let over = String(repeating: "z", count: 600)
    let twice = "258\r\n" + over + "\r\n258\r\n" + over + "\r\n0\r\n\r\n"
    #expect(try run(central, "PUT \(big)o.bin HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + twice).hasPrefix("HTTP/1.1 413"))
    #expect(files.aborted == 1 && files.uploads.count == 1)
    #expect(try run(central, "PUT \(big)o.bin HTTP/1.1\r\nContent-Length: 1001\r\n\r\n").hasPrefix("HTTP/1.1 413"))
    #expect(try run(central, "PUT \(big)o.bin HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").hasPrefix("HTTP/1.1 400"))
    // A signed size is no chunk size (found by the fuzzer: it used to trap).
    #expect(try run(central, "PUT \(big)o.bin HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabc").hasPrefix("HTTP/1.1 400"))
    #expect(try run(central, "PUT \(big)o.bin HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 411"))
  }

  @Test func checksTheDiskBeforeTakingAnUpload() throws {
    let (central, files) = try makeFilesCentral()
    files.free = 1 << 20
    let path = try uploadPath(central)
    #expect(try run(central, "PUT \(path) HTTP/1.1\r\nContent-Length: 2\r\n\r\nab").hasPrefix("HTTP/1.1 507"))
    #expect(try run(central, "PUT \(path) HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").hasPrefix("HTTP/1.1 507"))
    files.free = nil
    #expect(try run(central, "PUT \(path) HTTP/1.1\r\nContent-Length: 2\r\n\r\nab").hasPrefix("HTTP/1.1 201"))
  }

  @Test func aFailingUploadIsAnsweredAndTheStoreStaysUsable() throws {
    let (central, files) = try makeFilesCentral()
    let path = try uploadPath(central)
    files.failWith = 28
    let full = try run(central, "PUT \(path)d.txt HTTP/1.1\r\nContent-Length: 2\r\n\r\nab")
    #expect(full.hasPrefix("HTTP/1.1 507 Insufficient Storage\r\n"))
    files.failWith = 13
    let denied = try run(central, "PUT \(path)d.txt HTTP/1.1\r\nContent-Length: 2\r\n\r\nab")
    #expect(denied.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
    #expect(try central.store.db.query("SELECT kind FROM events").isEmpty)
  }

  @Test func streamsAPublishedFileInChunks() throws {
    let (central, files) = try makeFilesCentral(publicFirmware: true)
    files.publishedFiles["big.bin"] = (0..<100_000).map { UInt8($0 % 251) }
    let session = ConnectionSession(central: central, now: now)
    _ = try session.receiveBatch(Array("GET /files/big.bin HTTP/1.1\r\n\r\n".utf8), now: now)
    let head = String(decoding: session.takeOutput(), as: UTF8.self)
    #expect(head.hasSuffix("Content-Length: 100000\r\nConnection: close\r\n\r\n"))
    let body = try #require(session.takeFileBody())
    var received: [UInt8] = []
    while case let chunk = try body.read(upTo: 4096), !chunk.isEmpty {
      #expect(chunk.count <= 4096)
      received += chunk
    }
    #expect(received == files.publishedFiles["big.bin"])
  }

  @Test func withoutFilesDirTheFilesPathIsNotFound() throws {
    let central = try makeCentral()
    #expect(try run(central, "GET /files/fw.bin HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 4"))
  }
}
