import EvctlCore

/// A central system's OCPP-J endpoint, `ws://HOST[:PORT]/PATH`; the identity is appended.
public struct StationURL: Equatable, Sendable {
  public var secure: Bool
  public var host: String
  public var port: UInt16
  /// The path without a trailing slash, such as `/ocpp`.
  public var path: String

  /// Why a URL cannot be used.
  public struct Invalid: Error, Equatable, Sendable {
    public var reason: String
  }

  /// Parses `ws://` or `wss://` URLs; IPv6 hosts are written in brackets.
  public init(parsing text: String) throws(Invalid) {
    let rest: Substring
    if text.hasPrefix("ws://") {
      secure = false
      rest = text.dropFirst(5)
    } else if text.hasPrefix("wss://") {
      secure = true
      rest = text.dropFirst(6)
    } else {
      throw Invalid(reason: "the URL must start with ws:// or wss://")
    }
    let slash = rest.firstIndex(of: "/") ?? rest.endIndex
    let authority = rest[..<slash]
    var pathPart = String(rest[slash...])
    if let query = pathPart.firstIndex(where: { $0 == "?" || $0 == "#" }) {
      pathPart = String(pathPart[..<query])
    }
    while pathPart.hasSuffix("/") { pathPart.removeLast() }
    path = pathPart
    guard !authority.isEmpty, !authority.contains("@") else {
      throw Invalid(reason: "the URL needs a host (credentials go through --password-stdin)")
    }
    var hostPart = Substring(authority)
    var portText: Substring?
    if authority.hasPrefix("[") {
      guard let close = authority.firstIndex(of: "]") else { throw Invalid(reason: "unclosed '[' in host") }
      hostPart = authority[authority.index(after: authority.startIndex)..<close]
      let after = authority[authority.index(after: close)...]
      if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
        throw Invalid(reason: "unexpected text after the host")
      }
    } else if let colon = authority.lastIndex(of: ":") {
      hostPart = authority[..<colon]
      portText = authority[authority.index(after: colon)...]
    }
    guard !hostPart.isEmpty else { throw Invalid(reason: "the URL needs a host") }
    host = String(hostPart)
    if let portText {
      guard let value = UInt16(portText), value > 0 else {
        throw Invalid(reason: "invalid port '\(portText)'")
      }
      port = value
    } else {
      port = secure ? 443 : 80
    }
  }

  /// The request target for a station: the path, a slash and the percent-encoded identity.
  public func target(for identity: String) -> String {
    path + "/" + StationURL.percentEncode(identity)
  }

  /// The `Host` header value.
  public var hostHeader: String {
    let name = host.contains(":") ? "[\(host)]" : host
    return (port == (secure ? 443 : 80)) ? name : "\(name):\(port)"
  }

  /// Percent-encodes everything but RFC 3986 unreserved characters.
  public static func percentEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
      switch byte {
      case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E:
        out.unicodeScalars.append(Unicode.Scalar(byte))
      default:
        out += "%" + Crypto.hex([byte]).uppercased()
      }
    }
    return out
  }

  public var description: String {
    (secure ? "wss://" : "ws://") + hostHeader + path
  }
}
