import CTLS

/// The TLS settings every station of a run shares (OpenSSL `SSL_CTX`): peer verification against
/// `--tls-ca` (or the system's store) and an optional client certificate (security profile 3).
final class TLSContext {
  let context: OpaquePointer

  init(caFile: String?, certificateFile: String?, keyFile: String?) throws(SimulatorError) {
    guard let context = SSL_CTX_new(TLS_client_method()) else {
      throw SimulatorError.unavailable("TLS: cannot create a context: \(TLSContext.lastError())")
    }
    self.context = context
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
    evctl_tls_set_modes(context)
    if let caFile {
      guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
        throw SimulatorError.unavailable("TLS: cannot read CA bundle '\(caFile)': \(TLSContext.lastError())")
      }
    } else {
      SSL_CTX_set_default_verify_paths(context)
    }
    if let certificateFile {
      guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
        throw SimulatorError.unavailable("TLS: cannot read client certificate '\(certificateFile)': \(TLSContext.lastError())")
      }
      guard SSL_CTX_use_PrivateKey_file(context, keyFile ?? certificateFile, SSL_FILETYPE_PEM) == 1,
        SSL_CTX_check_private_key(context) == 1
      else {
        throw SimulatorError.unavailable("TLS: cannot use client key '\(keyFile ?? certificateFile)': \(TLSContext.lastError())")
      }
    }
  }

  deinit { SSL_CTX_free(context) }

  /// A session on a connected socket, checking the certificate against `host`.
  func session(fd: Int32, host: String) -> TLSSession? {
    guard let ssl = SSL_new(context) else { return nil }
    SSL_set_fd(ssl, fd)
    _ = evctl_tls_set_host_name(ssl, host)
    SSL_set1_host(ssl, host)
    return TLSSession(ssl: ssl)
  }

  static func lastError() -> String {
    let code = ERR_get_error()
    guard code != 0 else { return "unknown error" }
    var buffer = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(code, &buffer, buffer.count)
    ERR_clear_error()
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// One station's TLS connection (OpenSSL `SSL`), non-blocking.
final class TLSSession {
  let ssl: OpaquePointer

  init(ssl: OpaquePointer) { self.ssl = ssl }
  deinit { SSL_free(ssl) }

  enum Progress: Equatable { case done, wantRead, wantWrite, failed(String) }

  /// Advances the handshake.
  func handshake() -> Progress {
    let result = SSL_connect(ssl)
    if result == 1 { return .done }
    switch SSL_get_error(ssl, result) {
    case SSL_ERROR_WANT_READ: return .wantRead
    case SSL_ERROR_WANT_WRITE: return .wantWrite
    default:
      let verify = SSL_get_verify_result(ssl)
      if verify != X509_V_OK {
        return .failed("certificate not trusted: \(String(cString: X509_verify_cert_error_string(verify)))")
      }
      return .failed(TLSContext.lastError())
    }
  }

  /// Bytes read (> 0), 0 at the end, -1 when it would block, -2 on an error.
  func read(_ buffer: UnsafeMutablePointer<UInt8>, _ count: Int) -> Int {
    let result = SSL_read(ssl, buffer, Int32(count))
    if result > 0 { return Int(result) }
    switch SSL_get_error(ssl, result) {
    case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return -1
    case SSL_ERROR_ZERO_RETURN: return 0
    default: return -2
    }
  }

  /// Bytes written (> 0), -1 when it would block, -2 on an error.
  func write(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard bytes.count > 0 else { return 0 }
    let result = SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
    if result > 0 { return Int(result) }
    switch SSL_get_error(ssl, result) {
    case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return -1
    default: return -2
    }
  }
}
