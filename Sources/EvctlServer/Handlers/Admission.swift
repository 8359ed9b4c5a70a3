import EvctlCore

extension CentralSystem {
  /// Checks a connection against the station's security profile; `nil` admits it.
  ///
  /// - Profile 0: anyone who knows the identity (only ever set explicitly).
  /// - Profile 1: Basic auth with the AuthorizationKey, over ws or wss.
  /// - Profile 2: TLS and Basic auth; plain ws is refused 403 (no downgrade).
  /// - Profile 3: TLS with a client certificate that verified against `--tls-client-ca` and
  ///   whose subject CN or serialNumber is the identity; refused 403 otherwise.
  ///
  /// Every refusal writes a `security` event; a downgrade or a certificate refusal also raises
  /// the station's `security` alarm (one, counting repeats); failed passwords raise it once
  /// guessing is being slowed down. While ``loginThrottle`` holds the door closed for the
  /// identity or the address, attempts are answered 429 without any check or write.
  func authenticate(_ station: StationAdmission, upgrade: UpgradeRequest, channel: ChannelSecurity,
                    peer: String) throws -> HandshakeDecision?
  {
    let profile = station.profile
    guard profile != .none else { return nil }
    let now = Timestamp.now()
    let address = LoginThrottle.address(ofPeer: peer)
    if let wait = loginThrottle.retryAfter(identity: station.identity, address: address, now: now) {
      loginThrottle.refused(stationID: station.stationID, identity: station.identity, address: address, now: now)
      return .reject(
        HandshakeRejection(status: 429, reason: "too many failed logins; try again later",
                           extraHeaders: ["Retry-After: \(wait)"]),
        // Not logged per attempt either (quiet): the alarm counts them.
        event: "slowed down: \(station.identity)" + CentralSystem.quietRefusal)
    }
    if let failure = Self.profileFailure(station, credentials: upgrade.credentials, channel: channel) {
      try recordEvent(stationID: station.stationID, identity: station.identity, kind: "security",
                      detail: "connection refused (security profile \(profile.rawValue)): \(failure.detail)", at: now)
      if failure.alarm {
        try raise(.security, stationID: station.stationID, identity: station.identity,
                  code: "SecurityProfile\(profile.rawValue)",
                  detail: "connection refused (security profile \(profile.rawValue)): \(failure.detail)", at: now)
      }
      for (key, detail) in loginThrottle.failed(
        stationID: station.stationID, identity: station.identity, address: address, now: now)
      {
        try raise(.security, stationID: key.stationID, identity: key.identity, code: "LoginThrottled",
                  detail: detail, at: now)
      }
      return .reject(failure.rejection, event: "\(failure.short): \(station.identity)")
    }
    loginThrottle.succeeded(identity: station.identity, address: address)
    return nil
  }

  /// Why a connection does not meet the station's profile, or `nil` when it does.
  static func profileFailure(_ station: StationAdmission, credentials: (username: String, password: [UInt8])?,
                             channel: ChannelSecurity)
    -> (rejection: HandshakeRejection, detail: String, short: String, alarm: Bool)?
  {
    let profile = station.profile
    if profile == .none { return nil }
    if profile.requiresTLS && !channel.tls {
      return (HandshakeRejection(status: 403, reason: "security profile \(profile.rawValue): connect over TLS (wss://)",
                                 extraHeaders: []),
              "plain ws offered where TLS is required (downgrade refused)", "downgrade refused", true)
    }
    if profile == .tlsClientCertificate {
      let forbidden = { (why: String) in
        (HandshakeRejection(status: 403, reason: "security profile 3: \(why)", extraHeaders: []),
         why, "client certificate refused", true)
      }
      if let problem = channel.clientCertificateProblem {
        return forbidden("client certificate did not verify: \(problem)")
      }
      let names = [channel.verifiedClientName, channel.verifiedClientSerial].compactMap { $0 }
      if names.isEmpty {
        return forbidden("a client certificate signed by the station CA is required")
      }
      guard names.contains(where: { $0.lowercased() == station.identity.lowercased() }) else {
        return forbidden("client certificate names '\(names.joined(separator: "', '"))', not '\(station.identity)'")
      }
      return nil
    }
    let unauthorized = { (why: String) in
      (HandshakeRejection(status: 401, reason: "authentication required",
                          extraHeaders: ["WWW-Authenticate: Basic realm=\"evctl\""]),
       why, "wrong credentials", false)
    }
    guard let hash = station.passwordHash else {
      return unauthorized("no AuthorizationKey is set for this station ('evctl station passwd')")
    }
    guard let credentials else {
      return unauthorized("missing Basic credentials")
    }
    guard credentials.username.lowercased() == station.identity.lowercased(),
      PasswordHash.verify(credentials.password, against: hash)
    else {
      return unauthorized("wrong Basic credentials")
    }
    return nil
  }

  /// Adds the attempts answered 429 to their alarm's count, once a second.
  func reportThrottledLogins(at now: Timestamp) throws {
    let pending = loginThrottle.refusedSinceReport
    loginThrottle.refusedSinceReport.removeAll()
    for (key, count) in pending {
      try raise(.security, stationID: key.stationID, identity: key.identity, code: "LoginThrottled",
                detail: "failed logins: further attempts are slowed down", occurrences: count, at: now)
    }
    loginThrottle.forgetIfDue(now: now)
  }
}
