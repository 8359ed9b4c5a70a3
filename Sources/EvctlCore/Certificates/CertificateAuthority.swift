import Glibc

/// evctl's own certificate authority: the CSMS root (`evctl ca init`) or an intermediate under an
/// existing root (`evctl ca import`), kept in a folder beside the store (`STORE.ca/`, mode 0700)
/// as `key.pem` (0600, never printed), `certificate.pem` and `parents.pem` (the issuers up to
/// the root, for an intermediate).
///
/// It signs station CSRs (SignCertificate) and makes station key pairs for stations without
/// SignCertificate support (`station certificate issue`).
public final class CertificateAuthority {
  /// The certificate that signs station certificates.
  public let certificate: Certificate
  let key: PrivateKey
  /// The issuers of ``certificate`` up to the root, nearest first; empty for a root.
  public let parents: [Certificate]

  init(certificate: Certificate, key: PrivateKey, parents: [Certificate]) {
    self.certificate = certificate
    self.key = key
    self.parents = parents
  }

  /// The root that stations trust (InstallCertificate CentralSystemRootCertificate, and the CA
  /// a profile-3 TLS listener checks client certificates against).
  public var root: Certificate { parents.last ?? certificate }

  /// Whether this authority is an intermediate under an imported root.
  public var isIntermediate: Bool { !parents.isEmpty }

  /// The folder of the authority of the store at `storePath`.
  public static func folder(forStore storePath: String) -> String { storePath + ".ca" }

  /// The PEM file with the root certificate, for `serve --tls-client-ca` (profile 3).
  public static func rootFile(forStore storePath: String) -> String {
    folder(forStore: storePath) + "/root.pem"
  }

  /// The store's authority, or `nil` when `evctl ca init` (or `ca import`) has not been run.
  ///
  /// - Throws: ``CertificateError`` when the files are there but unreadable or do not match.
  public static func load(forStore storePath: String) throws -> CertificateAuthority? {
    let folder = folder(forStore: storePath)
    guard let keyText = try readFile(folder + "/key.pem") else { return nil }
    guard let certificateText = try readFile(folder + "/certificate.pem") else {
      throw CertificateError("\(folder)/certificate.pem is missing")
    }
    let key = try PrivateKey(pem: keyText)
    let certificate = try Certificate(pem: certificateText)
    guard certificate.matches(key) else {
      throw CertificateError("\(folder)/key.pem does not belong to certificate.pem")
    }
    let parents = try readFile(folder + "/parents.pem").map { try Certificate.all(pem: $0) } ?? []
    return CertificateAuthority(certificate: certificate, key: key, parents: parents)
  }

  /// Creates a self-signed root for the store (`evctl ca init`).
  ///
  /// - Throws: ``CertificateError`` when the store already has an authority.
  @discardableResult
  public static func createRoot(forStore storePath: String, subject: DistinguishedName, days: Int) throws
    -> CertificateAuthority
  {
    let key = try PrivateKey.generateEC(curve: "P-384")
    let certificate = try Certificate.issue(
      subject: subject, key: key.pointer, issuer: nil, days: days, authority: true, pathLength: -1)
    let authority = CertificateAuthority(certificate: certificate, key: key, parents: [])
    try authority.save(forStore: storePath)
    return authority
  }

  /// Creates an intermediate signed by an existing root (`evctl ca import`); the root's key is
  /// used once and not kept.
  ///
  /// - Throws: ``CertificateError`` when the root is not a CA, the key is not its key, or the
  ///   store already has an authority.
  @discardableResult
  public static func createIntermediate(
    forStore storePath: String, root: Certificate, rootParents: [Certificate], rootKey: PrivateKey,
    subject: DistinguishedName, days: Int
  ) throws -> CertificateAuthority {
    guard root.isAuthority else { throw CertificateError("the certificate '\(root.subject)' is not a CA certificate") }
    guard root.matches(rootKey) else { throw CertificateError("the key does not belong to '\(root.subject)'") }
    let key = try PrivateKey.generateEC(curve: "P-384")
    let certificate = try Certificate.issue(
      subject: subject, key: key.pointer, issuer: (root, rootKey), days: days, authority: true, pathLength: 0)
    let authority = CertificateAuthority(certificate: certificate, key: key, parents: [root] + rootParents)
    try authority.save(forStore: storePath)
    return authority
  }

  private func save(forStore storePath: String) throws {
    let folder = Self.folder(forStore: storePath)
    if mkdir(folder, 0o700) != 0 {
      if errno == EEXIST, access(folder + "/key.pem", F_OK) == 0 {
        throw CertificateError("the store already has a certificate authority in \(folder)", conflict: true)
      }
      if errno != EEXIST { throw CertificateError("cannot create \(folder): \(String(cString: strerror(errno)))") }
    }
    // The key first, exclusively: two `ca init` at once cannot both win.
    try Self.writeFile(folder + "/key.pem", try key.pem, exclusive: true)
    try Self.writeFile(folder + "/certificate.pem", try certificate.pem, exclusive: false)
    try Self.writeFile(folder + "/root.pem", try root.pem, exclusive: false)
    if !parents.isEmpty {
      try Self.writeFile(folder + "/parents.pem", try parents.map { try $0.pem }.joined(), exclusive: false)
    }
  }

  // MARK: Station certificates

  /// The default lifetime of a station certificate, in days.
  public static let stationDays = 365

  /// Why `request` may not be signed for the station `identity`, or `nil` when it may: the
  /// signature must verify, the CN equal the identity (case-insensitive, as identities are) and
  /// the key be RSA ≥ 2048 or EC P-256/P-384.
  public static func problem(with request: CertificateRequest, identity: String) -> String? {
    guard request.signatureIsValid else { return "the CSR's signature does not verify" }
    let name = request.subject.commonName
    guard let name, name.lowercased() == identity.lowercased() else {
      return "the CSR's CN is \(name.map { "'\($0)'" } ?? "missing"), not the station identity '\(identity)'"
    }
    guard let key = request.keyInfo, key.isAcceptableForStations else {
      return "the CSR's key is \(request.keyInfo?.summary ?? "unreadable"); RSA of at least 2048 bits or EC P-256/P-384 is required"
    }
    return nil
  }

  /// Signs a station's CSR (checked with ``problem(with:identity:)`` first).
  ///
  /// - Throws: ``CertificateError`` naming what is wrong with the request.
  public func sign(_ request: CertificateRequest, identity: String, days: Int = stationDays) throws -> Certificate {
    if let problem = Self.problem(with: request, identity: identity) { throw CertificateError(problem) }
    guard let publicKey = request.publicKey else { throw CertificateError("the CSR has no public key") }
    return try Certificate.issue(
      subject: request.subject, key: publicKey, issuer: (certificate, key), days: days, authority: false)
  }

  /// Makes a key pair and certificate for a station that cannot send SignCertificate.
  public func issue(identity: String, days: Int = stationDays) throws -> (certificate: Certificate, key: PrivateKey) {
    let stationKey = try PrivateKey.generateEC(curve: "P-256")
    var attributes: [(key: String, value: String)] = [("CN", identity)]
    if let organisation = certificate.subject.value("O") { attributes.append(("O", organisation)) }
    let made = try Certificate.issue(
      subject: DistinguishedName(attributes: attributes), key: stationKey.pointer,
      issuer: (certificate, key), days: days, authority: false)
    return (made, stationKey)
  }

  /// The PEM chain CertificateSigned carries: the station's certificate, then the intermediates
  /// (the root stays out: stations get it with InstallCertificate).
  public func chain(for leaf: Certificate) throws -> String {
    var text = try leaf.pem
    if isIntermediate {
      text += try certificate.pem
      for parent in parents.dropLast() { text += try parent.pem }
    }
    return text
  }

  // MARK: Files

  static func readFile(_ path: String) throws -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT { return nil }
      throw CertificateError("cannot read \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16_384)
    while true {
      let count = read(fd, &buffer, buffer.count)
      if count < 0 {
        if errno == EINTR { continue }
        throw CertificateError("cannot read \(path): \(String(cString: strerror(errno)))")
      }
      if count == 0 { break }
      bytes += buffer[0..<count]
      if bytes.count > 1 << 20 { throw CertificateError("\(path) is too large for a PEM file") }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Writes `text` to `path`, mode 0600 (certificates too: the folder is private anyway).
  public static func writeFile(_ path: String, _ text: String, exclusive: Bool) throws {
    let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
    let fd = open(path, flags, 0o600)
    guard fd >= 0 else {
      throw CertificateError(
        errno == EEXIST ? "\(path) already exists" : "cannot write \(path): \(String(cString: strerror(errno)))",
        conflict: errno == EEXIST)
    }
    defer { close(fd) }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
      let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      if written < 0 {
        if errno == EINTR { continue }
        throw CertificateError("cannot write \(path): \(String(cString: strerror(errno)))")
      }
      bytes = bytes.dropFirst(written)
    }
    guard fsync(fd) == 0 else { throw CertificateError("cannot write \(path): \(String(cString: strerror(errno)))") }
  }
}
