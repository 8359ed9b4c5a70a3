import EvctlCore
import Testing

@testable import EvctlServer

final class MemoryFiles: FileService {
  var publishedFiles: [String: [UInt8]] = [:]
  var uploads: [(String, String, [UInt8])] = []

  var failWith: Int32?

  func published(_ name: String) -> FileBody? { publishedFiles[name].map(BytesBody.init) }

  func storeUpload(station: String, name: String, bytes: [UInt8]) throws -> String {
    if let failWith { throw FileWriteError(operation: "write", errno: failWith) }
    uploads.append((station, name, bytes))
    return "memory/\(station)/\(name)"
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
      _ = try session.receive(Array(bytes[index..<min(index + size, bytes.count)]), now: now)
      index += size
    }
    var output = session.takeOutput()
    if let body = session.takeFileBody() {
      while case let chunk = try body.read(upTo: 2), !chunk.isEmpty { output += chunk }
    }
    return String(decoding: output, as: UTF8.self)
  }

  @Test func servesPublishedFirmwareAndNothingElse() throws {
    let central = try makeCentral()
    let files = MemoryFiles()
    files.publishedFiles["fw.bin"] = [1, 2, 3]
    central.files = files
    let ok = try run(central, "GET /files/fw.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"))
    #expect(ok.contains("Content-Length: 3\r\n"))
    #expect(ok.hasSuffix("\r\n\r\n\u{1}\u{2}\u{3}"))
    #expect(try run(central, "GET /files/other.bin HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
    #expect(try run(central, "GET /files/..%2Fevctl.db HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
    #expect(try run(central, "GET /files/a/b HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
  }

  @Test func storesAnUploadThatArrivesInPieces() throws {
    let central = try makeCentral()
    let files = MemoryFiles()
    central.files = files
    let body = String(repeating: "log line\n", count: 100)
    let reply = try run(
      central, "PUT /files/uploads/CP-1/diag.txt HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body,
      pieces: 7)
    #expect(reply.hasPrefix("HTTP/1.1 201 Created"))
    #expect(files.uploads.count == 1)
    #expect(files.uploads[0].0 == "CP-1" && files.uploads[0].1 == "diag.txt")
    #expect(files.uploads[0].2.count == body.utf8.count)
    let kinds = try central.store.db.query("SELECT kind FROM events").map { $0.string("kind") }
    #expect(kinds == ["upload"])
  }

  @Test func acceptsMultipartPosts() throws {
    let central = try makeCentral()
    let files = MemoryFiles()
    central.files = files
    let body = "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"log.zip\"\r\n\r\nZIP\r\n--b--\r\n"
    let reply = try run(
      central, "POST /files/uploads/CP-1/ HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
    #expect(reply.hasPrefix("HTTP/1.1 201"))
    #expect(files.uploads.first?.1 == "log.zip")
    #expect(files.uploads.first?.2 == Array("ZIP".utf8))
  }

  @Test func refusesUploadsWithoutALengthOrTooLarge() throws {
    let central = try makeCentral()
    central.files = MemoryFiles()
    #expect(try run(central, "PUT /files/uploads/CP-1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").hasPrefix("HTTP/1.1 411"))
    #expect(try run(central, "PUT /files/uploads/CP-1/x HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n").hasPrefix("HTTP/1.1 413"))
  }

  @Test func aFailingUploadIsAnsweredAndTheStoreStaysUsable() throws {
    let central = try makeCentral()
    let files = MemoryFiles()
    central.files = files
    files.failWith = 28
    let full = try run(central, "PUT /files/uploads/CP-1/d.txt HTTP/1.1\r\nContent-Length: 2\r\n\r\nab")
    #expect(full.hasPrefix("HTTP/1.1 507 Insufficient Storage\r\n"))
    files.failWith = 13
    let denied = try run(central, "PUT /files/uploads/CP-1/d.txt HTTP/1.1\r\nContent-Length: 2\r\n\r\nab")
    #expect(denied.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
    #expect(try central.store.db.query("SELECT kind FROM events").isEmpty)
  }

  @Test func streamsAPublishedFileInChunks() throws {
    let central = try makeCentral()
    let files = MemoryFiles()
    files.publishedFiles["big.bin"] = (0..<100_000).map { UInt8($0 % 251) }
    central.files = files
    let session = ConnectionSession(central: central, now: now)
    _ = try session.receive(Array("GET /files/big.bin HTTP/1.1\r\n\r\n".utf8), now: now)
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
