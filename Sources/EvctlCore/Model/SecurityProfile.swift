/// How a station must prove who it is when it connects (OCPP 1.6 security whitepaper §2).
public enum SecurityProfile: Int, CaseIterable, Comparable, Sendable {
  /// No authentication: anyone who knows the identity connects as the station. Only when set
  /// explicitly.
  case none = 0
  /// HTTP Basic auth with the station's AuthorizationKey, over plain ws or TLS.
  case basic = 1
  /// TLS (server certificate) and HTTP Basic auth with the AuthorizationKey.
  case tlsBasic = 2
  /// TLS with a client certificate whose chain verifies and whose subject names the station.
  case tlsClientCertificate = 3

  /// Whether a connection must come over TLS.
  public var requiresTLS: Bool { self >= .tlsBasic }
  /// Whether the station authenticates with Basic auth and its AuthorizationKey.
  public var usesPassword: Bool { self == .basic || self == .tlsBasic }

  /// One line for help and `db check`.
  public var summary: String {
    switch self {
    case .none: return "no authentication"
    case .basic: return "Basic auth (AuthorizationKey)"
    case .tlsBasic: return "TLS + Basic auth (AuthorizationKey)"
    case .tlsClientCertificate: return "TLS + client certificate"
    }
  }

  public static func < (lhs: SecurityProfile, rhs: SecurityProfile) -> Bool { lhs.rawValue < rhs.rawValue }

  /// Parses `0`…`3`.
  ///
  /// - Throws: ``StoreError/invalid(_:)`` naming the accepted values.
  public static func parse(_ text: String) throws -> SecurityProfile {
    guard let value = Int(text), let profile = SecurityProfile(rawValue: value) else {
      throw StoreError.invalid("invalid security profile '\(text)': expected 0, 1, 2 or 3")
    }
    return profile
  }
}
