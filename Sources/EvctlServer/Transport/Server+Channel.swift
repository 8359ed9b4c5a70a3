import Glibc

/// Reads and writes of one link, plain or through its TLS channel: the rest of the transport,
/// and the codecs above it, never know which.
extension Server.Link {
  /// Reads what the socket has (driving a TLS handshake first, when one is under way).
  func receive(into buffer: inout [UInt8]) -> ChannelStep {
    if let tls {
      if tls.handshaking { return tls.handshake() }
      return buffer.withUnsafeMutableBytes { tls.read(into: $0) }
    }
    let received = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    if received > 0 { return .bytes(received) }
    if received == 0 { return .closed }
    if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
    return .failed("read failed: \(String(cString: strerror(errno)))")
  }

  /// Sends from the front of `bytes`.
  func transmit(_ bytes: UnsafeRawBufferPointer) -> ChannelStep {
    if let tls { return tls.write(bytes) }
    let sent = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
    if sent > 0 { return .bytes(sent) }
    if sent < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) { return .wouldBlock }
    return .failed("send failed: \(String(cString: strerror(errno)))")
  }
}
