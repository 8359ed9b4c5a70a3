import EvctlCore

/// What the WebSocket upgrade request asked for, checked against RFC 6455 §4.2.1 and OCPP-J §3.
public struct UpgradeRequest: Equatable, Sendable {
  /// The station identity: the last path segment, percent-decoded once.
  public var identity: String
  /// The `Sec-WebSocket-Key`.
  public var key: String
  /// Whether the client offered `ocpp1.6`; `false` when it offered no subprotocol at all.
  public var offersOCPP16: Bool { subprotocol != nil }
  /// The `ocpp1.6` subprotocol exactly as the client spelled it, to be echoed verbatim
  /// (RFC 6455 §4.2.2); `nil` when it offered none.
  public var subprotocol: String?
  /// The Basic-auth credentials, if any: username and password bytes.
  public var credentials: (username: String, password: [UInt8])?

  public static func == (lhs: UpgradeRequest, rhs: UpgradeRequest) -> Bool {
    lhs.identity == rhs.identity && lhs.key == rhs.key && lhs.subprotocol == rhs.subprotocol
      && lhs.credentials?.username == rhs.credentials?.username
      && lhs.credentials?.password == rhs.credentials?.password
  }
}

/// An HTTP answer that ends the connection instead of upgrading it.
public struct HandshakeRejection: Error, Equatable, Sendable {
  public var status: Int
  public var reason: String
  public var extraHeaders: [String]

  /// The bytes of the HTTP response.
  public var responseBytes: [UInt8] {
    let phrase = HTTPStatus.reasonPhrase(status)
    let body = reason + "\n"
    var text = "HTTP/1.1 \(status) \(phrase)\r\nContent-Type: text/plain\r\n"
    for header in extraHeaders { text += header + "\r\n" }
    text += "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
    return Array(text.utf8)
  }
}

/// The WebSocket opening handshake for OCPP-J: pure functions over request values.
public enum Handshake {
  /// The GUID of RFC 6455 §1.3.
  static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

  /// Checks an upgrade request for `pathPrefix` and extracts what it asks for.
  public static func parse(_ request: HTTPRequest, pathPrefix: String) throws(HandshakeRejection)
    -> UpgradeRequest
  {
    guard request.method == "GET" else {
      throw HandshakeRejection(status: 405, reason: "only GET upgrades are served", extraHeaders: [])
    }
    let path = String(request.target.split(separator: "?", maxSplits: 1).first ?? "")
    let prefix = pathPrefix.hasSuffix("/") ? String(pathPrefix.dropLast()) : pathPrefix
    guard path.hasPrefix(prefix + "/") else {
      throw HandshakeRejection(
        status: 404, reason: "connect to \(prefix)/<identity>", extraHeaders: [])
    }
    let segments = path.dropFirst(prefix.count).split(separator: "/")
    guard let last = segments.last, let identity = percentDecode(String(last)), !identity.isEmpty
    else {
      throw HandshakeRejection(status: 404, reason: "missing station identity", extraHeaders: [])
    }
    // A NUL or control character never names a station: refused before any lookup, so that
    // `FZ-1%00…` cannot pass for `FZ-1` in a C-string comparison anywhere downstream.
    guard !identity.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
      throw HandshakeRejection(
        status: 404, reason: "station identity contains a control character", extraHeaders: [])
    }
    guard request.header("upgrade")?.lowercased().contains("websocket") == true,
      request.header("connection")?.lowercased().contains("upgrade") == true
    else {
      throw HandshakeRejection(
        status: 426, reason: "a WebSocket upgrade is required", extraHeaders: ["Upgrade: websocket"])
    }
    guard request.header("sec-websocket-version") == "13" else {
      throw HandshakeRejection(
        status: 426, reason: "WebSocket version 13 is required",
        extraHeaders: ["Sec-WebSocket-Version: 13"])
    }
    guard let key = request.header("sec-websocket-key"), Crypto.unbase64(key)?.count == 16 else {
      throw HandshakeRejection(status: 400, reason: "invalid Sec-WebSocket-Key", extraHeaders: [])
    }
    let offered = (request.header("sec-websocket-protocol") ?? "").split(separator: ",")
      .map { String($0).trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
    let chosen = offered.first { $0.lowercased() == "ocpp1.6" }
    if !offered.isEmpty, chosen == nil {
      throw HandshakeRejection(
        status: 400, reason: "unsupported subprotocol; this server speaks ocpp1.6",
        extraHeaders: [])
    }
    return UpgradeRequest(
      identity: identity, key: key, subprotocol: chosen, credentials: basicCredentials(request))
  }

  /// The HTTP Basic credentials of a request, if it has any: username and password bytes.
  public static func basicCredentials(_ request: HTTPRequest) -> (username: String, password: [UInt8])? {
    guard let authorization = request.header("authorization") else { return nil }
    let parts = authorization.split(separator: " ", maxSplits: 1)
    guard parts.count == 2, parts[0].lowercased() == "basic",
      let decoded = Crypto.unbase64(String(parts[1]).trimmingCharacters(in: " ")),
      let colon = decoded.firstIndex(of: 58)
    else { return nil }
    return (String(decoding: decoded[..<colon], as: UTF8.self), Array(decoded[(colon + 1)...]))
  }

  /// The `Sec-WebSocket-Accept` value for a key (RFC 6455 §4.2.2).
  public static func acceptValue(for key: String) -> String {
    Crypto.base64(Crypto.sha1(Array((key + guid).utf8)))
  }

  /// The 101 response that completes the upgrade.
  public static func switchingProtocols(_ request: UpgradeRequest) -> [UInt8] {
    var text = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    text += "Sec-WebSocket-Accept: \(acceptValue(for: request.key))\r\n"
    if let subprotocol = request.subprotocol { text += "Sec-WebSocket-Protocol: \(subprotocol)\r\n" }
    return Array((text + "\r\n").utf8)
  }

  /// Decodes `%XX` escapes once; `nil` for a malformed escape or invalid UTF-8.
  public static func percentDecode(_ text: String) -> String? {
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8).makeIterator()
    while let byte = iterator.next() {
      if byte == 37 {
        guard let high = iterator.next(), let low = iterator.next(),
          let value = Crypto.unhex(String(decoding: [high, low], as: UTF8.self))
        else { return nil }
        bytes += value
      } else {
        bytes.append(byte)
      }
    }
    return String(validating: bytes, as: UTF8.self)
  }
}
