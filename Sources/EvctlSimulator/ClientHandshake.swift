import EvctlCore
import EvctlServer

/// The client half of the WebSocket opening handshake for OCPP-J (RFC 6455 §4.1, OCPP-J §3).
public struct ClientHandshake: Sendable {
  /// The `Sec-WebSocket-Key` sent.
  public let key: String
  /// The request bytes.
  public let request: [UInt8]

  /// Builds an upgrade request for `identity` offering `ocpp1.6`, with Basic auth when a
  /// password is given (security profile 1; the username is the identity).
  public init(url: StationURL, identity: String, password: [UInt8]?, key: [UInt8], subprotocol: Bool = true) {
    self.key = Crypto.base64(key)
    var text = "GET \(url.target(for: identity)) HTTP/1.1\r\nHost: \(url.hostHeader)\r\n"
    text += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    text += "Sec-WebSocket-Key: \(self.key)\r\n"
    if subprotocol { text += "Sec-WebSocket-Protocol: ocpp1.6\r\n" }
    if let password {
      text += "Authorization: Basic \(Crypto.base64(Array(identity.utf8) + [58] + password))\r\n"
    }
    request = Array((text + "\r\n").utf8)
  }

  /// What the server answered.
  public enum Outcome: Equatable, Sendable {
    /// More bytes are needed.
    case incomplete
    /// 101 with a valid accept value: the bytes after the headers belong to the WebSocket.
    case upgraded(subprotocol: String?, rest: [UInt8])
    /// The server refused with an HTTP status; `reason` is the status text and body's first line.
    case refused(status: Int, reason: String)
    /// The answer is not a valid upgrade.
    case invalid(String)
  }

  /// Reads the response from the bytes received so far. `closed` says the peer hung up, so that
  /// a refusal without Content-Length is complete.
  public func read(_ bytes: [UInt8], closed: Bool = false) -> Outcome {
    guard let end = Self.headerEnd(bytes) else {
      if closed { return .invalid(bytes.isEmpty ? "the server closed the connection without an answer" : "incomplete HTTP response") }
      if bytes.count > 16_384 { return .invalid("HTTP response headers too long") }
      return .incomplete
    }
    let head = String(decoding: bytes[..<end], as: UTF8.self)
    var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
    let statusLine = lines.removeFirst()
    let parts = statusLine.split(separator: " ", maxSplits: 2).map(String.init)
    guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
      return .invalid("not an HTTP response: '\(statusLine.prefix(80))'")
    }
    var headers: [String: String] = [:]
    for line in lines {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmed(" \t")
    }
    let rest = Array(bytes[(end + 4)...])
    guard status == 101 else {
      if let length = headers["content-length"].flatMap(Int.init), rest.count < length, !closed {
        return .incomplete
      }
      let phrase = parts.count > 2 ? parts[2] : ""
      let body = String(decoding: rest.prefix(300), as: UTF8.self)
        .split(separator: "\n").first.map { String($0).trimmed(" \r\t") } ?? ""
      var reason = "HTTP \(status)" + (phrase.isEmpty ? "" : " \(phrase)")
      if !body.isEmpty { reason += ": \(body)" }
      return .refused(status: status, reason: reason)
    }
    guard headers["upgrade"]?.lowercased() == "websocket" else {
      return .invalid("101 without 'Upgrade: websocket'")
    }
    guard headers["sec-websocket-accept"] == Handshake.acceptValue(for: key) else {
      return .invalid("wrong Sec-WebSocket-Accept")
    }
    let subprotocol = headers["sec-websocket-protocol"]
    if let subprotocol, subprotocol.lowercased() != "ocpp1.6" {
      return .invalid("the server chose subprotocol '\(subprotocol)', not ocpp1.6")
    }
    return .upgraded(subprotocol: subprotocol, rest: rest)
  }

  static func headerEnd(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 4 else { return nil }
    for index in 0...(bytes.count - 4)
    where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
      return index
    }
    return nil
  }
}

extension String {
  func trimmed(_ set: String) -> String {
    let chars = Set(set)
    var slice = Substring(self)
    while let first = slice.first, chars.contains(first) { slice.removeFirst() }
    while let last = slice.last, chars.contains(last) { slice.removeLast() }
    return String(slice)
  }
}
