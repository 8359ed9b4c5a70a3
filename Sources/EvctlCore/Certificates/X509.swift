internal import COpenSSL
import Glibc

/// Why an X.509 operation failed, with OpenSSL's own reason where it gave one.
public struct CertificateError: Error, CustomStringConvertible, Sendable {
  public let description: String
  /// Whether the operation conflicts with what exists (a second `ca init`), not bad input.
  public var isConflict = false

  init(_ message: String, conflict: Bool) {
    description = message
    isConflict = conflict
  }

  init(_ message: String) {
    let code = ERR_get_error()
    ERR_clear_error()
    if code != 0, let reason = ERR_reason_error_string(code) {
      description = message + ": " + String(cString: reason)
    } else {
      description = message
    }
  }
}

/// A private key (RSA or EC) through OpenSSL.
public final class PrivateKey {
  let pointer: OpaquePointer

  init(owning pointer: OpaquePointer) { self.pointer = pointer }
  deinit { EVP_PKEY_free(pointer) }

  /// A new EC key on P-256 (the default for evctl's CA and the certificates it makes).
  public static func generateEC(curve: String = "P-256") throws -> PrivateKey {
    guard let key = evctl_key_generate(0, curve) else { throw CertificateError("cannot generate an EC key") }
    return PrivateKey(owning: key)
  }

  /// A new RSA key of `bits` bits.
  public static func generateRSA(bits: Int) throws -> PrivateKey {
    guard let key = evctl_key_generate(Int32(bits), nil) else { throw CertificateError("cannot generate an RSA key") }
    return PrivateKey(owning: key)
  }

  /// Reads the first private key in PEM text (unencrypted).
  public convenience init(pem: String) throws {
    let key = try withMemoryBIO(pem) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
    guard let key else { throw CertificateError("no PEM private key") }
    self.init(owning: key)
  }

  /// The key as unencrypted PKCS#8 PEM text.
  public var pem: String {
    get throws {
      try writeMemoryBIO { PEM_write_bio_PrivateKey($0, pointer, nil, nil, 0, nil, nil) }
    }
  }

  /// What kind of key this is: `RSA 2048`, `EC P-256`.
  public var summary: String { PublicKeyInfo(pointer).summary }
}

/// The algorithm and size of a public key, for the CSR check.
public struct PublicKeyInfo: Sendable, Equatable {
  /// `RSA`, `EC` or another OpenSSL name.
  public var algorithm: String
  public var bits: Int
  /// For EC keys: `P-256`, `P-384`, or OpenSSL's name of another curve.
  public var curve: String?

  init(_ key: OpaquePointer) {
    bits = Int(EVP_PKEY_get_bits(key))
    switch EVP_PKEY_get_base_id(key) {
    case EVP_PKEY_RSA: algorithm = "RSA"
    case EVP_PKEY_EC: algorithm = "EC"
    case let other: algorithm = String(cString: OBJ_nid2sn(other))
    }
    if algorithm == "EC" {
      var name = [CChar](repeating: 0, count: 64)
      evctl_key_curve(key, &name, name.count)
      let text = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      curve = ["prime256v1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"][text] ?? text
    }
  }

  /// Whether the key is strong enough for a station certificate: RSA ≥ 2048 bits, or EC on
  /// P-256 or P-384 (OCPP 1.6 security whitepaper).
  public var isAcceptableForStations: Bool {
    (algorithm == "RSA" && bits >= 2048) || (algorithm == "EC" && (curve == "P-256" || curve == "P-384"))
  }

  /// `RSA 2048`, `EC P-256`.
  public var summary: String { algorithm == "EC" ? "EC \(curve ?? "?")" : "\(algorithm) \(bits)" }
}

/// A distinguished name as ordered attribute pairs, written `CN=CP-1,O=ACME` (or `/CN=…/O=…`).
public struct DistinguishedName: Sendable, Equatable, CustomStringConvertible {
  public var attributes: [(key: String, value: String)]

  public static func == (a: Self, b: Self) -> Bool {
    a.attributes.map { "\($0.key)=\($0.value)" } == b.attributes.map { "\($0.key)=\($0.value)" }
  }

  /// Parses `CN=x,O=y` or `/CN=x/O=y`; `\,` escapes a comma in a value.
  ///
  /// - Throws: ``CertificateError`` for an empty name, a part without `=`, or an unknown key.
  public init(parsing text: String) throws {
    let slashForm = text.hasPrefix("/")
    var parts: [String] = []
    var current = ""
    var escaped = false
    for character in slashForm ? String(text.dropFirst()) : text {
      if escaped {
        current.append(character)
        escaped = false
      } else if character == "\\" {
        escaped = true
      } else if character == (slashForm ? "/" : ",") {
        parts.append(current)
        current = ""
      } else {
        current.append(character)
      }
    }
    parts.append(current)
    attributes = []
    for part in parts where !part.trimmedOfSpaces.isEmpty {
      guard let equals = part.firstIndex(of: "=") else {
        throw CertificateError("subject part '\(part)' has no '=' (write CN=NAME,O=ORGANISATION)")
      }
      let key = String(part[..<equals]).trimmedOfSpaces
      let value = String(part[part.index(after: equals)...]).trimmedOfSpaces
      guard OBJ_txt2nid(key) != NID_undef else { throw CertificateError("unknown subject attribute '\(key)'") }
      guard !value.isEmpty else { throw CertificateError("subject attribute \(key) is empty") }
      attributes.append((key, value))
    }
    guard !attributes.isEmpty else { throw CertificateError("the subject is empty") }
  }

  init(attributes: [(key: String, value: String)]) { self.attributes = attributes }

  /// Reads an OpenSSL name.
  init(_ name: OpaquePointer?) {
    var pairs: [(key: String, value: String)] = []
    for index in 0..<max(0, X509_NAME_entry_count(name)) {
      guard let entry = X509_NAME_get_entry(name, index) else { continue }
      let nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry))
      let key = nid == NID_undef ? "?" : String(cString: OBJ_nid2sn(nid))
      pairs.append((key, asn1Text(X509_NAME_ENTRY_get_data(entry)) ?? ""))
    }
    attributes = pairs
  }

  /// The value of the first attribute named `key` (`CN`, `serialNumber`).
  public func value(_ key: String) -> String? {
    attributes.first { $0.key.lowercased() == key.lowercased() }?.value
  }

  /// The common name.
  public var commonName: String? { value("CN") }

  /// `CN=x,O=y`, commas in values escaped.
  public var description: String {
    attributes.map { "\($0.key)=\($0.value.replacingAll(",", with: "\\,"))" }.joined(separator: ",")
  }

  /// A new OpenSSL name; the caller frees it.
  func makeName() throws -> OpaquePointer {
    guard let name = X509_NAME_new() else { throw CertificateError("out of memory") }
    for (key, value) in attributes {
      guard X509_NAME_add_entry_by_txt(name, key, MBSTRING_UTF8, value, -1, -1, 0) == 1 else {
        X509_NAME_free(name)
        throw CertificateError("cannot use subject attribute \(key)=\(value)")
      }
    }
    return name
  }
}

/// An X.509 certificate.
public final class Certificate {
  let pointer: OpaquePointer

  init(owning pointer: OpaquePointer) { self.pointer = pointer }
  deinit { X509_free(pointer) }

  /// Reads every certificate in PEM text, in order.
  public static func all(pem: String) throws -> [Certificate] {
    var found: [Certificate] = []
    try withMemoryBIO(pem) { bio in
      while let next = PEM_read_bio_X509(bio, nil, nil, nil) { found.append(Certificate(owning: next)) }
    }
    ERR_clear_error()
    return found
  }

  /// Reads the first certificate in PEM text.
  public convenience init(pem: String) throws {
    guard let first = try Certificate.all(pem: pem).first else {
      throw CertificateError("no PEM certificate")
    }
    self.init(owning: X509_dup(first.pointer))
  }

  /// Reads a DER certificate.
  public convenience init(der: [UInt8]) throws {
    let cert = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
      var start = buffer.baseAddress
      return d2i_X509(nil, &start, buffer.count)
    }
    guard let cert else { throw CertificateError("not a DER certificate") }
    self.init(owning: cert)
  }

  /// Makes a certificate for `key` named `subject`, signed by `issuer` (`nil`: self-signed).
  static func issue(subject: DistinguishedName, key subjectKey: OpaquePointer,
                    issuer: (certificate: Certificate, key: PrivateKey)?, days: Int,
                    authority: Bool, pathLength: Int = -1) throws -> Certificate {
    let name = try subject.makeName()
    defer { X509_NAME_free(name) }
    var serial = Crypto.randomBytes(16)
    serial[0] &= 0x7f  // positive
    serial[0] |= 0x01  // and 16 bytes long
    let made = evctl_x509_issue(
      name, subjectKey, issuer?.certificate.pointer, issuer?.key.pointer, serial, Int32(serial.count),
      days, authority ? 1 : 0, Int32(pathLength))
    guard let made else { throw CertificateError("cannot make the certificate for \(subject)") }
    return Certificate(owning: made)
  }

  /// The certificate as PEM text.
  public var pem: String {
    get throws { try writeMemoryBIO { PEM_write_bio_X509($0, pointer) } }
  }

  /// The DER bytes.
  public var der: [UInt8] {
    var out: UnsafeMutablePointer<UInt8>?
    let length = i2d_X509(pointer, &out)
    guard length > 0, let out else { return [] }
    defer { evctl_free(out) }
    return Array(UnsafeBufferPointer(start: out, count: Int(length)))
  }

  public var subject: DistinguishedName { DistinguishedName(X509_get_subject_name(pointer)) }
  public var issuer: DistinguishedName { DistinguishedName(X509_get_issuer_name(pointer)) }

  /// The serial number in uppercase hexadecimal.
  public var serialHex: String {
    guard let number = ASN1_INTEGER_to_BN(X509_get_serialNumber(pointer), nil) else { return "" }
    defer { BN_free(number) }
    guard let text = BN_bn2hex(number) else { return "" }
    defer { evctl_free(text) }
    return String(cString: text)
  }

  public var notBefore: Timestamp {
    Timestamp(milliseconds: evctl_asn1_time_seconds(X509_get0_notBefore(pointer)) &* 1_000)
  }
  public var notAfter: Timestamp {
    Timestamp(milliseconds: evctl_asn1_time_seconds(X509_get0_notAfter(pointer)) &* 1_000)
  }

  /// The SHA-256 fingerprint, lowercase hex without separators.
  public var fingerprint: String { Crypto.hex(Crypto.sha256(der)) }

  /// Whether the certificate is a CA (basicConstraints CA:TRUE).
  public var isAuthority: Bool { X509_check_ca(pointer) != 0 }

  /// Whether `key` is this certificate's private key.
  public func matches(_ key: PrivateKey) -> Bool { X509_check_private_key(pointer, key.pointer) == 1 }

  /// Whether `issuer`'s key signed this certificate.
  public func isSigned(by issuer: Certificate) -> Bool {
    guard let key = X509_get0_pubkey(issuer.pointer) else { return false }
    return X509_verify(pointer, key) == 1
  }

  /// The public key's algorithm and size.
  public var keyInfo: PublicKeyInfo {
    PublicKeyInfo(X509_get0_pubkey(pointer))
  }

  /// OCPP's CertificateHashData of this certificate (SHA256 of the issuer's DER name and of the
  /// issuer's public key bits; `issuer` is the certificate itself for a root).
  public func hashData(issuer: Certificate? = nil) -> (issuerNameHash: String, issuerKeyHash: String, serialNumber: String) {
    let issuerName = X509_get_issuer_name(pointer)
    var nameOut: UnsafeMutablePointer<UInt8>?
    let nameLength = i2d_X509_NAME(issuerName, &nameOut)
    var nameHash = ""
    if nameLength > 0, let nameOut {
      nameHash = Crypto.hex(Crypto.sha256(Array(UnsafeBufferPointer(start: nameOut, count: Int(nameLength)))))
      evctl_free(nameOut)
    }
    var keyHash = ""
    if let bits = X509_get0_pubkey_bitstr((issuer ?? self).pointer), let data = ASN1_STRING_get0_data(bits) {
      keyHash = Crypto.hex(Crypto.sha256(Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(bits))))))
    }
    return (nameHash, keyHash, serialHex.lowercased())
  }
}

/// A PKCS#10 certificate signing request (SignCertificate's `csr`).
public final class CertificateRequest {
  let pointer: OpaquePointer

  init(owning pointer: OpaquePointer) { self.pointer = pointer }
  deinit { X509_REQ_free(pointer) }

  /// Reads a PEM CSR; a bare base64 body without the BEGIN/END lines is accepted too (lenient in
  /// what stations send).
  public convenience init(pem text: String) throws {
    var pem = text
    if !pem.contains("-----BEGIN") {
      let body = text.filter { !$0.isWhitespace }
      var lines: [String] = []
      var rest = Substring(body)
      while !rest.isEmpty {
        lines.append(String(rest.prefix(64)))
        rest = rest.dropFirst(64)
      }
      pem = "-----BEGIN CERTIFICATE REQUEST-----\n" + lines.joined(separator: "\n")
        + "\n-----END CERTIFICATE REQUEST-----\n"
    }
    let request = try withMemoryBIO(pem) { PEM_read_bio_X509_REQ($0, nil, nil, nil) }
    guard let request else { throw CertificateError("not a PEM certificate signing request") }
    self.init(owning: request)
  }

  public var subject: DistinguishedName { DistinguishedName(X509_REQ_get_subject_name(pointer)) }

  /// Whether the request is signed by the key it carries.
  public var signatureIsValid: Bool {
    guard let key = X509_REQ_get0_pubkey(pointer) else { return false }
    let verdict = X509_REQ_verify(pointer, key)
    ERR_clear_error()
    return verdict == 1
  }

  /// The public key's algorithm and size.
  public var keyInfo: PublicKeyInfo? {
    X509_REQ_get0_pubkey(pointer).map(PublicKeyInfo.init)
  }

  /// The requested public key, for the certificate.
  var publicKey: OpaquePointer? { X509_REQ_get0_pubkey(pointer) }
}

// MARK: Memory BIOs

func withMemoryBIO<T>(_ text: String, _ body: (OpaquePointer) throws -> T) throws -> T {
  let bytes = Array(text.utf8)
  return try bytes.withUnsafeBufferPointer { buffer in
    guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else {
      throw CertificateError("out of memory")
    }
    defer { BIO_free(bio) }
    return try body(bio)
  }
}

func writeMemoryBIO(_ body: (OpaquePointer) -> Int32) throws -> String {
  guard let bio = BIO_new(BIO_s_mem()) else { throw CertificateError("out of memory") }
  defer { BIO_free(bio) }
  guard body(bio) == 1 else { throw CertificateError("cannot write PEM") }
  var data: UnsafeMutablePointer<CChar>?
  let length = evctl_bio_data(bio, &data)
  guard length > 0, let data else { return "" }
  return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
}

func asn1Text(_ string: UnsafePointer<ASN1_STRING>?) -> String? {
  var utf8: UnsafeMutablePointer<UInt8>?
  let length = ASN1_STRING_to_UTF8(&utf8, string)
  guard length >= 0, let utf8 else { return nil }
  defer { evctl_free(utf8) }
  return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
}

extension String {
  var trimmedOfSpaces: String {
    var text = Substring(self)
    while text.first == " " { text = text.dropFirst() }
    while text.last == " " { text = text.dropLast() }
    return String(text)
  }

  func replacingAll(_ target: Character, with replacement: String) -> String {
    var out = ""
    for character in self { if character == target { out += replacement } else { out.append(character) } }
    return out
  }
}
