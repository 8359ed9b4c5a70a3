/// Where and how `serve` terminates TLS itself (`--tls-listen`, `--tls-cert`, `--tls-key`,
/// `--tls-client-ca`).
public struct TLSSettings: Sendable {
  public var address: ListenAddress
  /// PEM server certificate (chain: leaf first) and its private key.
  public var certificatePath: String
  public var keyPath: String
  /// PEM CA certificates that client certificates (security profile 3) must chain to; without
  /// it no client certificate is asked for.
  public var clientCAPath: String?
  /// A connection that has not finished its TLS handshake within this many seconds is closed.
  public var handshakeTimeoutSeconds: Int64 = 10

  /// Creates the settings.
  public init(address: ListenAddress, certificatePath: String, keyPath: String, clientCAPath: String? = nil) {
    self.address = address
    self.certificatePath = certificatePath
    self.keyPath = keyPath
    self.clientCAPath = clientCAPath
  }
}

/// What the transport knows about a connection's channel, for admission (security profiles).
public struct ChannelSecurity: Sendable, Equatable {
  /// Whether the connection came over TLS.
  public var tls: Bool
  /// The subject CN of a client certificate whose chain verified against the client CA.
  public var verifiedClientName: String?
  /// The subject serialNumber attribute of that certificate, when it has one.
  public var verifiedClientSerial: String?
  /// Why a presented client certificate did not verify, when one was presented.
  public var clientCertificateProblem: String?
  /// The verified client certificate (DER), for the certificate inventory.
  public var verifiedClientCertificate: [UInt8]?

  /// A plain TCP connection.
  public static let plain = ChannelSecurity(tls: false)

  /// Creates a description of a channel.
  public init(tls: Bool, verifiedClientName: String? = nil, verifiedClientSerial: String? = nil,
              clientCertificateProblem: String? = nil) {
    self.tls = tls
    self.verifiedClientName = verifiedClientName
    self.verifiedClientSerial = verifiedClientSerial
    self.clientCertificateProblem = clientCertificateProblem
  }
}
