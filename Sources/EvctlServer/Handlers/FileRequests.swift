import EvctlCore

/// Answers the plain HTTP requests of `serve --files-dir` on the OCPP port: `GET /files/NAME`
/// serves a firmware image; `PUT` or `POST /files/uploads/IDENTITY[/NAME]` stores a diagnostics
/// or log upload (a raw body or multipart/form-data).
struct FileRequests {
  let files: FileService
  let central: CentralSystem
  static let prefix = "/files/"
  static let maxUploadBytes = 64 << 20

  static func isFileRequest(_ request: HTTPRequest) -> Bool {
    request.header("upgrade") == nil && request.target.hasPrefix(prefix)
  }

  /// The body length a request announces; throws the HTTP answer for what is refused.
  static func bodyLength(_ request: HTTPRequest) throws(HandshakeRejection) -> Int {
    guard request.method == "PUT" || request.method == "POST" else { return 0 }
    if request.header("transfer-encoding") != nil {
      throw HandshakeRejection(status: 411, reason: "send the upload with a Content-Length", extraHeaders: [])
    }
    guard let text = request.header("content-length"), let length = Int(text), length >= 0 else {
      throw HandshakeRejection(status: 411, reason: "Content-Length required", extraHeaders: [])
    }
    guard length <= maxUploadBytes else {
      throw HandshakeRejection(status: 413, reason: "uploads are limited to \(maxUploadBytes) bytes", extraHeaders: [])
    }
    return length
  }

  /// The HTTP response for a request with its body: its head (and a short body), and for a
  /// download the file the transport streams after it.
  func respond(_ request: HTTPRequest, body: [UInt8], now: Timestamp) throws -> (head: [UInt8], file: FileBody?) {
    switch request.method {
    case "GET", "HEAD":
      let path = String(request.target.dropFirst(Self.prefix.count).split(separator: "?").first ?? "")
      let segments = path.split(separator: "/").map(String.init).map { Handshake.percentDecode($0) ?? "" }
      guard segments.count == 1, let file = files.published(segments[0]) else {
        return (Self.response(404, "Not Found", Array("no such file\n".utf8)), nil)
      }
      let head = Self.response(200, "OK", [], length: file.count, type: "application/octet-stream")
      if request.method == "HEAD" {
        file.close()
        return (head, nil)
      }
      return (head, file)
    default:
      return (try respondToUpload(request, body: body, now: now), nil)
    }
  }

  private func respondToUpload(_ request: HTTPRequest, body: [UInt8], now: Timestamp) throws -> [UInt8] {
    let path = String(request.target.dropFirst(Self.prefix.count).split(separator: "?").first ?? "")
    let segments = path.split(separator: "/").map(String.init).map { Handshake.percentDecode($0) ?? "" }
    switch request.method {
    case "PUT", "POST":
      guard segments.first == "uploads", segments.count >= 2, isSafeFileName(segments[1]) else {
        return Self.response(404, "Not Found", Array("upload to /files/uploads/<identity>/\n".utf8))
      }
      let identity = segments[1]
      var bytes = body
      var name = segments.count >= 3 ? segments[2] : nil
      if let boundary = MultipartDecoder.boundary(contentType: request.header("content-type")) {
        guard let file = MultipartDecoder.firstFile(body, boundary: boundary) else {
          return Self.response(400, "Bad Request", Array("malformed multipart body\n".utf8))
        }
        bytes = file.bytes
        name = name ?? file.name
      }
      let safeName = name.flatMap { isSafeFileName($0) ? $0 : nil } ?? "upload-\(now.milliseconds).bin"
      let stored: String
      do {
        stored = try files.storeUpload(station: identity, name: safeName, bytes: bytes)
      } catch {
        // A full disk or an unwritable folder is this request's problem only: answer it.
        central.log("error: upload from \(identity) not stored: \(error)")
        if let error = error as? FileWriteError, error.isFull {
          return Self.response(507, "Insufficient Storage", Array("no space left to store the upload\n".utf8))
        }
        return Self.response(500, "Internal Server Error", Array("the upload could not be stored\n".utf8))
      }
      let station = try central.store.stationReference(identity: identity)
      try central.recordEvent(
        stationID: station?.id, identity: station?.identity ?? identity, kind: "upload",
        detail: "received \(safeName) (\(bytes.count) bytes) as \(stored)", at: now)
      return Self.response(201, "Created", Array("stored\n".utf8))
    default:
      return Self.response(405, "Method Not Allowed", [])
    }
  }

  static func response(_ status: Int, _ phrase: String, _ body: [UInt8], length: Int? = nil,
                       type: String = "text/plain") -> [UInt8] {
    let head = "HTTP/1.1 \(status) \(phrase)\r\nContent-Type: \(type)\r\nContent-Length: \(length ?? body.count)\r\nConnection: close\r\n\r\n"
    return Array(head.utf8) + body
  }
}
