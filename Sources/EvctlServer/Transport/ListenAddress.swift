import Glibc

/// A `HOST:PORT` to listen on: `0.0.0.0:8180`, `:8443` (every IPv4 address), `[::]:8443` (every
/// address, IPv6 and IPv4), `[::1]:8443`, or a host name resolved once at start.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
  public var host: String
  public var port: UInt16

  /// Creates an address from its parts.
  public init(host: String, port: UInt16) {
    self.host = host
    self.port = port
  }

  /// Parses `HOST:PORT`, `[IPV6]:PORT` or `:PORT`; `nil` when it is none of them.
  public init?(parsing text: String) {
    guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...])
    else { return nil }
    var host = String(text[..<colon])
    if host.hasPrefix("[") {
      guard host.hasSuffix("]"), host.count > 2 else { return nil }
      host = String(host.dropFirst().dropLast())
    } else if host.contains(":") {
      return nil  // an IPv6 address needs brackets: [::1]:8180
    }
    if host.isEmpty || host == "*" { host = "0.0.0.0" }
    if host == "localhost" { host = "127.0.0.1" }
    self.init(host: host, port: port)
  }

  /// Whether the host is an IPv6 literal.
  public var isIPv6: Bool { host.contains(":") }

  /// `host:port`, with brackets around an IPv6 host.
  public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

  /// A copy with another port (the one actually bound when 0 was asked for).
  public func with(port: UInt16) -> ListenAddress { ListenAddress(host: host, port: port) }
}

/// A bound, listening, non-blocking socket.
enum Listener {
  /// Binds and listens on `address`; returns the descriptor and the port actually bound.
  static func open(_ address: ListenAddress) throws -> (fd: Int32, port: UInt16) {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
    var found: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(address.host, String(address.port), &hints, &found)
    guard status == 0, let first = found else {
      throw SystemError(operation: "resolve listen address '\(address.host)'", errno: EINVAL)
    }
    defer { freeaddrinfo(found) }
    let info = first.pointee
    let fd = try syscall("socket") {
      socket(info.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }
    var yes: Int32 = 1
    var no: Int32 = 0
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    // [::] takes IPv4 too (mapped addresses), so one listener serves both.
    if info.ai_family == AF_INET6 {
      setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &no, socklen_t(MemoryLayout<Int32>.size))
    }
    do {
      try syscall("bind") { bind(fd, info.ai_addr, info.ai_addrlen) }
      // The kernel caps the backlog at net.core.somaxconn (4096 by default): connections beyond
      // the TLS handshake cap (HandshakeGate) wait there, and a raised somaxconn is used.
      try syscall("listen") { listen(fd, 65535) }
    } catch {
      close(fd)
      throw error
    }
    var bound = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &bound) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    let family = bound.ss_family
    let port: UInt16 = withUnsafePointer(to: bound) { pointer in
      if family == sa_family_t(AF_INET6) {
        return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
      }
      return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
    }
    return (fd, port)
  }
}
