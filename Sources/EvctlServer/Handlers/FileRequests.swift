import EvctlCore

/// Answers the plain HTTP requests of `serve --files-dir` on the OCPP ports. The file service is
/// closed: every path opens through a grant made for one station's request (FileGrantStore):
///
/// - `PUT` or `POST /files/u/TOKEN/[NAME]`: the upload of an open diagnostics or log request
///   (a raw body or multipart/form-data; Content-Length or chunked), with the station's
///   credentials where its security profile has them; streamed to disk, size-capped, refused
///   up front (507) when the disk lacks the room.
/// - `GET /files/f/TOKEN/NAME`: the firmware image of an update request, until it expires.
/// - `GET /files/NAME`: any published file, only with `serve --public-firmware`.
struct FileRequests {
  let files: FileService
  let central: CentralSystem
  static let prefix = "/files/"
  /// Free space that must remain on the upload folder's file system beyond an upload.
  static let reserveBytes = 16 << 20

  static func isFileRequest(_ request: HTTPRequest) -> Bool {
    request.header("upgrade") == nil && request.target.hasPrefix(prefix)
  }

  /// How a file request goes on: answered at once, or an upload body to receive.
  enum Start {
    case answer(head: [UInt8], file: FileBody?)
    case receive(UploadReceiver, grant: FileGrant)
  }

  static func segments(_ request: HTTPRequest) -> [String] {
    let path = String(request.target.dropFirst(prefix.count).split(separator: "?").first ?? "")
    return path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
      .map { Handshake.percentDecode($0) ?? "\u{0}" }
  }

  /// How much body a refused upload announced that is worth reading and dropping (at most
  /// `limit`; a chunked one up to `limit`); `nil` when none or more than that.
  static func discardableBody(_ request: HTTPRequest, limit: Int) -> Int? {
    guard request.method == "PUT" || request.method == "POST" else { return nil }
    if request.header("transfer-encoding") != nil { return limit }
    guard let text = request.header("content-length"), let length = Int(text), length >= 0, length <= limit
    else { return nil }
    return length
  }

  /// Decides a request from its head.
  func start(_ request: HTTPRequest, channel: ChannelSecurity, now: Timestamp) throws -> Start {
    let segments = Self.segments(request)
    switch request.method {
    case "GET", "HEAD":
      return try download(request, segments: segments, now: now)
    case "PUT", "POST":
      return try upload(request, segments: segments, channel: channel, now: now)
    default:
      return .answer(head: Self.response(405, [], extra: ["Allow: GET, HEAD, PUT, POST"]), file: nil)
    }
  }

  private func download(_ request: HTTPRequest, segments: [String], now: Timestamp) throws -> Start {
    var name: String?
    if segments.count == 3, segments[0] == "f",
      let grant = try central.store.fileGrant(token: segments[1], kind: .firmware, at: now), grant.name == segments[2]
    {
      name = grant.name
    } else if segments.count == 1, central.configuration.publicFirmware {
      name = segments[0]
    }
    guard let name, let file = files.published(name) else {
      return .answer(head: Self.response(404, Array("no such file\n".utf8)), file: nil)
    }
    let head = Self.response(200, [], length: file.count, type: "application/octet-stream")
    if request.method == "HEAD" {
      file.close()
      return .answer(head: head, file: nil)
    }
    return .answer(head: head, file: file)
  }

  private func upload(_ request: HTTPRequest, segments: [String], channel: ChannelSecurity, now: Timestamp) throws
    -> Start
  {
    guard (2...3).contains(segments.count), segments[0] == "u",
      let grant = try central.store.fileGrant(token: segments[1], kind: .upload, at: now)
    else {
      return .answer(head: Self.response(404, Array("no open upload request at this path\n".utf8)), file: nil)
    }
    if let station = try central.store.stationAdmission(identity: grant.identity),
      let failure = CentralSystem.profileFailure(
        station, credentials: Handshake.basicCredentials(request), channel: channel)
    {
      try central.recordEvent(stationID: grant.stationID, identity: grant.identity, kind: "security",
                              detail: "upload refused (security profile \(station.profile.rawValue)): \(failure.detail)", at: now)
      return .answer(head: failure.rejection.responseBytes, file: nil)
    }
    let limit = central.configuration.maxUploadBytes
    let framing: UploadReceiver.Framing
    if let coding = request.header("transfer-encoding") {
      guard coding.lowercased() == "chunked" else {
        return .answer(head: Self.response(501, Array("only chunked transfer coding is supported\n".utf8)), file: nil)
      }
      framing = .chunked
    } else {
      guard let text = request.header("content-length"), let length = Int(text), length >= 0 else {
        return .answer(head: Self.response(411, Array("Content-Length or chunked transfer coding required\n".utf8)), file: nil)
      }
      guard length <= limit else {
        return .answer(head: Self.response(413, Array("uploads are limited to \(limit) bytes\n".utf8)), file: nil)
      }
      framing = .length(length)
    }
    let needed: Int = { if case .length(let length) = framing { return length } else { return limit } }()
    if let free = files.freeUploadBytes(), free < needed + Self.reserveBytes {
      central.log("error: upload from \(grant.identity) refused: \(free) bytes free, \(needed) needed")
      return .answer(head: Self.response(507, Array("no space left to store the upload\n".utf8)), file: nil)
    }
    let pathName = segments.count == 3 && !segments[2].isEmpty ? segments[2] : nil
    let files = self.files
    let receiver = UploadReceiver(
      framing: framing, limit: limit, boundary: MultipartDecoder.boundary(contentType: request.header("content-type"))
    ) { bodyName in
      let chosen = (pathName ?? bodyName).flatMap { isSafeFileName($0) ? $0 : nil } ?? "upload-\(now.milliseconds).bin"
      return try files.beginUpload(station: grant.identity, name: chosen)
    }
    return .receive(receiver, grant: grant)
  }

  /// The answer once an upload body is complete (or failed part-way); the grant closes on success.
  func finish(_ receiver: UploadReceiver, grant: FileGrant, failure: UploadFailure?, now: Timestamp) throws -> [UInt8] {
    var path: String?
    var problem = failure
    if problem == nil {
      do {
        path = try receiver.finish()
      } catch {
        problem = error
      }
    }
    if let problem {
      receiver.abort()
      switch problem {
      case .tooLarge(let limit):
        return Self.response(413, Array("uploads are limited to \(limit) bytes\n".utf8))
      case .malformed(let why):
        return Self.response(400, Array("\(why)\n".utf8))
      case .write(let error):
        // A full disk or an unwritable folder is this request's problem only: answer it.
        central.log("error: upload from \(grant.identity) not stored: \(error)")
        if let error = error as? FileWriteError, error.isFull {
          return Self.response(507, Array("no space left to store the upload\n".utf8))
        }
        return Self.response(500, Array("the upload could not be stored\n".utf8))
      }
    }
    try central.store.closeFileGrants(token: grant.token, at: now)
    try central.recordEvent(
      stationID: grant.stationID, identity: grant.identity, kind: "upload",
      detail: "received \(receiver.fileName ?? (path.map { String($0.split(separator: "/").last ?? "") } ?? "?")) "
        + "(\(receiver.written) bytes) as \(path ?? "?")", at: now)
    return Self.response(201, Array("stored\n".utf8))
  }

  static func response(_ status: Int, _ body: [UInt8], length: Int? = nil, type: String = "text/plain",
                       extra: [String] = []) -> [UInt8] {
    var head = "HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(status))\r\nContent-Type: \(type)\r\n"
    for header in extra { head += header + "\r\n" }
    head += "Content-Length: \(length ?? body.count)\r\nConnection: close\r\n\r\n"
    return Array(head.utf8) + body
  }
}
