import EvctlCore

/// Whether serve signs station CSRs at once or queues them for an operator
/// (`serve --certificate-approval auto|manual`).
public enum CertificateApproval: String, CaseIterable, Sendable {
  case auto, manual
}

extension CentralSystem {
  /// How many days before a station certificate expires its `certificate_expiring` alarm is raised.
  public static let certificateExpiryWarningDays: Int64 = 30

  /// The store's certificate authority, read afresh so `evctl ca init` while serve runs counts.
  func certificateAuthority() throws -> CertificateAuthority? {
    guard let path = store.databasePath else { return nil }
    return try CertificateAuthority.load(forStore: path)
  }

  /// SignCertificate [security extension]: checks the CSR (signature, CN = identity, key
  /// strength), then signs it and queues CertificateSigned with the chain, or (with
  /// `--certificate-approval manual`) keeps it for `evctl certificate approve|reject`.
  ///
  /// A CSR that fails the check, or a store without a CA, is answered Rejected and recorded as a
  /// `security` event.
  func signCertificate(_ r: inout PayloadReader, payload: JSONValue, _ c: CallContext) throws -> JSONValue {
    let csrText = try r.string("csr", required: true, maxLength: 5_500) ?? ""
    try keep("SignCertificate", payload: payload, c)
    let request: CertificateRequest
    do {
      request = try CertificateRequest(pem: csrText)
    } catch {
      return try refuseSigning(csrText, subject: nil, key: nil, reason: "the CSR is not a PKCS#10 request", c)
    }
    let subject = request.subject.description
    let key = request.keyInfo?.summary
    if let problem = CertificateAuthority.problem(with: request, identity: c.identity) {
      return try refuseSigning(csrText, subject: subject, key: key, reason: problem, c)
    }
    let authority: CertificateAuthority?
    do {
      authority = try certificateAuthority()
    } catch {
      log("error: certificate authority: \(error)")
      return try refuseSigning(csrText, subject: subject, key: key, reason: "the certificate authority is unusable: \(error)", c)
    }
    guard let authority else {
      return try refuseSigning(csrText, subject: subject, key: key,
                               reason: "no certificate authority (run 'evctl ca init')", c)
    }
    if configuration.certificateApproval == .manual {
      let id = try store.addSigningRequest(
        stationID: c.stationID, csr: csrText, subject: subject, key: key, state: "pending", reason: nil, at: c.now)
      try recordEvent(stationID: c.stationID, identity: c.identity, kind: "certificate",
                      detail: "CSR \(id) waits for approval ('evctl certificate approve \(id)')", at: c.now)
      return ["status": "Accepted"]
    }
    let certificate = try authority.sign(request, identity: c.identity, days: configuration.stationCertificateDays)
    let certificateID = try store.recordStationCertificate(
      stationID: c.stationID, source: .issued, certificate: certificate, state: "signed", at: c.now)
    try store.addSigningRequest(
      stationID: c.stationID, csr: csrText, subject: subject, key: key, state: "signed", reason: nil, at: c.now)
    try store.enqueueCommand(
      station: c.identity, action: "CertificateSigned",
      payload: ["certificateChain": .string(try authority.chain(for: certificate))],
      timeoutSeconds: 60, queue: true, expires: c.now.adding(seconds: 86_400))
    try recordEvent(stationID: c.stationID, identity: c.identity, kind: "certificate",
                    detail: "signed certificate \(certificate.serialHex) (inventory \(certificateID)), valid until \(certificate.notAfter.iso8601)",
                    at: c.now)
    return ["status": "Accepted"]
  }

  private func refuseSigning(_ csr: String, subject: String?, key: String?, reason: String, _ c: CallContext)
    throws -> JSONValue
  {
    try store.addSigningRequest(
      stationID: c.stationID, csr: csr, subject: subject, key: key, state: "refused", reason: reason, at: c.now)
    try recordEvent(stationID: c.stationID, identity: c.identity, kind: "security",
                    detail: "SignCertificate rejected: \(reason)", at: c.now)
    return ["status": "Rejected"]
  }

  /// The message-log text of a command that carries a secret (ChangeConfiguration
  /// AuthorizationKey), with the secret blanked; `nil` for every other command.
  static func loggableFrame(_ command: RemoteCommand, messageID: String) -> String? {
    guard command.action == "ChangeConfiguration", command.payload["key"]?.stringValue == "AuthorizationKey"
    else { return nil }
    let redacted: JSONValue = ["key": "AuthorizationKey", "value": "(redacted)"]
    return JSONValue.array([2, .string(messageID), "ChangeConfiguration", redacted]).compact
  }

  /// Records how a station connected, and a verified client certificate in the inventory.
  public func noteChannel(stationID: Int, channel: ChannelSecurity, at now: Timestamp) throws {
    var fingerprint: String?
    if let der = channel.verifiedClientCertificate, let certificate = try? Certificate(der: der) {
      fingerprint = certificate.fingerprint
      try store.recordStationCertificate(stationID: stationID, source: .handshake, certificate: certificate, at: now)
    }
    try store.recordStationLink(stationID: stationID, tls: channel.tls, clientCertificate: fingerprint, at: now)
  }

  /// What the answers to certificate commands teach the store: the station's installed
  /// certificates (GetInstalledCertificateIds), whether it took our certificate
  /// (CertificateSigned); and an AuthorizationKey never stays readable in the audit log.
  func certificateFollowUp(_ command: RemoteCommand, state: CommandState, response: JSONValue?, at now: Timestamp) throws {
    switch command.action {
    case "GetInstalledCertificateIds":
      guard let response, let type = command.payload["certificateType"]?.stringValue else { return }
      let status = response["status"]?.stringValue?.lowercased()
      guard status == "accepted" || status == "notfound" else { return }
      let hashes = (response["certificateHashData"]?.arrayValue ?? []).compactMap { entry
        -> (algorithm: String, issuerNameHash: String, issuerKeyHash: String, serial: String)? in
        guard let serial = entry["serialNumber"]?.stringValue else { return nil }
        return (entry["hashAlgorithm"]?.stringValue ?? "SHA256", entry["issuerNameHash"]?.stringValue ?? "",
                entry["issuerKeyHash"]?.stringValue ?? "", serial)
      }
      try store.recordInstalledCertificates(stationID: command.stationID, type: type, hashes: hashes, at: now)
    case "CertificateSigned":
      guard let chain = command.payload["certificateChain"]?.stringValue,
        let leaf = try? Certificate(pem: chain)
      else { return }
      let accepted = state == .accepted
      try store.setIssuedCertificateState(
        stationID: command.stationID, fingerprint: leaf.fingerprint,
        state: accepted ? "accepted" : state == .rejected ? "rejected" : "sent")
      if accepted, leaf.notAfter > now.adding(seconds: Self.certificateExpiryWarningDays * 86_400) {
        try store.clearAlarms(stationID: command.stationID, kind: .certificateExpiring, at: now)
      }
    case "ChangeConfiguration" where command.payload["key"]?.stringValue == "AuthorizationKey":
      try store.redactAuthorizationKey(commandID: command.id)
    default:
      break
    }
  }

  /// Every 30 seconds: a `certificate_expiring` alarm for each station whose newest certificate
  /// expires within 30 days (or has expired); cleared once it has a newer one.
  func certificateExpiryAlarms(at now: Timestamp) throws {
    let horizon = now.adding(seconds: Self.certificateExpiryWarningDays * 86_400)
    for station in try store.stationsWithExpiringCertificates(before: horizon) {
      let expired = station.notAfter <= now
      try raise(
        .certificateExpiring, stationID: station.stationID, identity: station.identity, code: station.serial,
        detail: "station certificate \(station.serial) \(expired ? "expired" : "expires") at \(station.notAfter.iso8601); renew it with 'evctl station certificate renew \(station.identity)'",
        at: now)
    }
    for stationID in try store.stationsWithValidCertificates(after: horizon) {
      try store.clearAlarms(stationID: stationID, kind: .certificateExpiring, at: now)
    }
  }
}
