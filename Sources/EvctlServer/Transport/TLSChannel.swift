import COpenSSL
import EvctlCore
import Glibc

/// What one non-blocking step on a socket (plain or TLS) came to.
enum ChannelStep {
  /// This many bytes were read or written.
  case bytes(Int)
  /// Nothing now; epoll will tell when to try again.
  case wouldBlock
  /// A TLS handshake needs the socket writable before it can go on.
  case wantsWrite
  /// The TLS handshake just finished: this is what it established.
  case secured(ChannelSecurity)
  /// The peer closed the connection.
  case closed
  case failed(String)
}

/// One connection's TLS state over its non-blocking socket: handshake, then records.
///
/// It never blocks: OpenSSL's WANT_READ / WANT_WRITE become ``ChannelStep/wouldBlock`` and
/// ``ChannelStep/wantsWrite``, and the event loop calls again when epoll reports the socket.
final class TLSChannel {
  private let ssl: OpaquePointer
  /// When the handshake started (accepted, or taken off HandshakeGate's queue).
  var startedAt: Timestamp
  /// Whether it waits for a handshake slot (HandshakeGate): unread, and not timed out.
  var queued = false
  /// When the peer was last heard during the handshake (HandshakeGate).
  var heardAt: Timestamp
  private(set) var handshaking = true
  /// Whether the last handshake step waits for the socket to become writable.
  private(set) var handshakeWantsWrite = false

  init(ssl: OpaquePointer, startedAt: Timestamp) {
    self.ssl = ssl
    self.startedAt = startedAt
    heardAt = startedAt
  }

  deinit { SSL_free(ssl) }

  /// Advances the handshake; `.secured` once it is done.
  func handshake() -> ChannelStep {
    ERR_clear_error()
    let result = SSL_do_handshake(ssl)
    if result == 1 {
      handshaking = false
      handshakeWantsWrite = false
      // The handshake's record buffers (≈ 17 KiB each way) are not needed by an idle connection;
      // RELEASE_BUFFERS frees them only after application records. A no-op while bytes are pending.
      _ = SSL_free_buffers(ssl)
      return .secured(security())
    }
    let step = classify(result)
    handshakeWantsWrite = { if case .wantsWrite = step { return true } else { return false } }()
    if case .failed(let reason) = step { return .failed("TLS handshake failed: \(reason)") }
    if case .closed = step { return .failed("TLS handshake failed: closed by the peer") }
    return step
  }

  /// Reads decrypted bytes into `buffer`.
  func read(into buffer: UnsafeMutableRawBufferPointer) -> ChannelStep {
    ERR_clear_error()
    let result = SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
    if result > 0 { return .bytes(Int(result)) }
    let step = classify(result)
    if case .wantsWrite = step { return .wouldBlock }
    return step
  }

  /// Encrypts and sends up to `bytes.count` bytes (partial writes are enabled).
  func write(_ bytes: UnsafeRawBufferPointer) -> ChannelStep {
    ERR_clear_error()
    let result = SSL_write(ssl, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max))))
    if result > 0 { return .bytes(Int(result)) }
    let step = classify(result)
    if case .wantsWrite = step { return .wouldBlock }
    return step
  }

  /// Sends close_notify once, without waiting for the peer's.
  func shutdown() {
    guard !handshaking else { return }
    ERR_clear_error()
    _ = SSL_shutdown(ssl)
    ERR_clear_error()
  }

  /// The negotiated protocol version, e.g. `TLSv1.3`.
  var version: String { String(cString: SSL_get_version(ssl)) }

  private func classify(_ result: Int32) -> ChannelStep {
    let error = SSL_get_error(ssl, result)
    switch error {
    case SSL_ERROR_WANT_READ: return .wouldBlock
    case SSL_ERROR_WANT_WRITE: return .wantsWrite
    case SSL_ERROR_ZERO_RETURN: return .closed
    case SSL_ERROR_SYSCALL:
      let code = errno
      ERR_clear_error()
      if code == 0 || code == ECONNRESET || code == EPIPE { return .closed }
      if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return .wouldBlock }
      return .failed(String(cString: strerror(code)))
    default:
      return .failed(TLSError("TLS error \(error)").description)
    }
  }

  /// The client certificate's verified names, or why it did not verify.
  private func security() -> ChannelSecurity {
    guard let certificate = SSL_get1_peer_certificate(ssl) else { return ChannelSecurity(tls: true) }
    defer { X509_free(certificate) }
    let verdict = SSL_get_verify_result(ssl)
    guard verdict == X509_V_OK else {
      let reason = String(cString: X509_verify_cert_error_string(verdict))
      return ChannelSecurity(tls: true, clientCertificateProblem: reason)
    }
    let subject = X509_get_subject_name(certificate)
    var security = ChannelSecurity(
      tls: true, verifiedClientName: TLSChannel.entry(subject, NID_commonName),
      verifiedClientSerial: TLSChannel.entry(subject, NID_serialNumber))
    var der: UnsafeMutablePointer<UInt8>?
    let length = i2d_X509(certificate, &der)
    if length > 0, let der {
      security.verifiedClientCertificate = Array(UnsafeBufferPointer(start: der, count: Int(length)))
      CRYPTO_free(der, #file, #line)
    }
    return security
  }

  private static func entry(_ name: OpaquePointer?, _ nid: Int32) -> String? {
    let index = X509_NAME_get_index_by_NID(name, nid, -1)
    guard index >= 0, let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry)
    else { return nil }
    var utf8: UnsafeMutablePointer<UInt8>?
    let length = ASN1_STRING_to_UTF8(&utf8, data)
    guard length >= 0, let utf8 else { return nil }
    defer { CRYPTO_free(utf8, #file, #line) }
    return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
  }
}
