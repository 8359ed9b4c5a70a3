import COpenSSL
import EvctlCore

/// A TLS problem: a certificate or key that does not load, or a failed handshake.
public struct TLSError: Error, CustomStringConvertible, Sendable {
  public let description: String

  init(_ message: String) {
    var detail = message
    let code = ERR_get_error()
    if code != 0 {
      var buffer = [CChar](repeating: 0, count: 256)
      ERR_error_string_n(code, &buffer, buffer.count)
      detail += ": " + String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    ERR_clear_error()
    description = detail
  }
}

/// The server's OpenSSL context: certificate, key, client CA and the protocol policy.
///
/// TLS 1.2 and 1.3 only; for 1.2 the OCPP 1.6 security whitepaper's suites (A00.FR.317) plus
/// their ECDHE-RSA twins, so that clients which refuse static-RSA key exchange (Python's default)
/// can use an RSA certificate; no compression, no renegotiation, no session tickets (TLS 1.3 sends none)
/// or cache.
/// ``reload()`` builds a new context: connections in progress keep the one they started with.
final class TLSContext {
  static let tls12Ciphers = [
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256", "AES256-GCM-SHA384",
  ].joined(separator: ":")

  let settings: TLSSettings
  private(set) var context: OpaquePointer

  init(settings: TLSSettings) throws {
    self.settings = settings
    context = try TLSContext.make(settings)
  }

  deinit { SSL_CTX_free(context) }

  /// Reads certificate, key and client CA again; on failure the old context stays in use.
  func reload() throws {
    let fresh = try TLSContext.make(settings)
    SSL_CTX_free(context)
    context = fresh
  }

  /// A new server-side connection state for `fd`.
  func channel(fd: Int32, now: Timestamp) throws -> TLSChannel {
    guard let ssl = SSL_new(context) else { throw TLSError("SSL_new") }
    guard SSL_set_fd(ssl, fd) == 1 else {
      SSL_free(ssl)
      throw TLSError("SSL_set_fd")
    }
    SSL_set_accept_state(ssl)
    return TLSChannel(ssl: ssl, startedAt: now)
  }

  private static func make(_ settings: TLSSettings) throws -> OpaquePointer {
    ERR_clear_error()
    guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw TLSError("SSL_CTX_new") }
    do {
      guard evctl_ssl_ctx_set_versions(ctx) == 1 else { throw TLSError("cannot limit TLS versions") }
      evctl_ssl_ctx_harden(ctx)
      // serve resumes no session (no cache, no tickets), so TLS 1.3's NewSessionTickets (two per
      // handshake by default, each a session copy, an encryption and a record) were work for nothing
      // on both sides of every cold connect.
      guard SSL_CTX_set_num_tickets(ctx, 0) == 1 else { throw TLSError("cannot turn session tickets off") }
      guard SSL_CTX_set_cipher_list(ctx, tls12Ciphers) == 1 else { throw TLSError("cannot set cipher suites") }
      guard SSL_CTX_use_certificate_chain_file(ctx, settings.certificatePath) == 1 else {
        throw TLSError("cannot load certificate '\(settings.certificatePath)'")
      }
      guard SSL_CTX_use_PrivateKey_file(ctx, settings.keyPath, SSL_FILETYPE_PEM) == 1 else {
        throw TLSError("cannot load private key '\(settings.keyPath)'")
      }
      guard SSL_CTX_check_private_key(ctx) == 1 else {
        throw TLSError("private key '\(settings.keyPath)' does not match certificate '\(settings.certificatePath)'")
      }
      if let ca = settings.clientCAPath {
        guard SSL_CTX_load_verify_locations(ctx, ca, nil) == 1, let names = SSL_load_client_CA_file(ca) else {
          throw TLSError("cannot load client CA '\(ca)'")
        }
        SSL_CTX_set_client_CA_list(ctx, names)
        // Ask for a certificate but let the handshake finish without one or with a bad one: the
        // station's security profile decides at the upgrade, where it can be answered and logged.
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, { _, _ in 1 })
        SSL_CTX_set_verify_depth(ctx, 5)
      }
    } catch {
      SSL_CTX_free(ctx)
      throw error
    }
    return ctx
  }
}
