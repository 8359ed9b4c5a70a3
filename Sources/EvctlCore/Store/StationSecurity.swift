/// What `serve` needs to admit a connection for an identity.
public struct StationAdmission: Sendable {
  public var stationID: Int
  /// The identity as stored (its case).
  public var identity: String
  /// The PBKDF2 hash of the AuthorizationKey, when it has one.
  public var passwordHash: String?
  public var profile: SecurityProfile
}

/// A station that lets in whoever knows its identity, or that can never connect, for `db check`.
public struct WeakStation: Equatable, Sendable {
  public var identity: String
  public var profile: SecurityProfile
  /// What is wrong, in one phrase.
  public var problem: String
}

extension Store {
  /// A new AuthorizationKey: 20 random bytes as 40 hexadecimal digits, the whitepaper's
  /// recommended form and the longest key OCPP allows.
  public static func generateAuthorizationKey() -> String {
    Crypto.hex(Crypto.randomBytes(20))
  }

  /// The station `serve` admits a connection for, by identity (case-insensitive); `nil` when it
  /// is not registered.
  public func stationAdmission(identity: String) throws -> StationAdmission? {
    guard let row = try db.queryOne(
      "SELECT id, identity, password_hash, security_profile FROM stations WHERE identity = ?", [identity])
    else { return nil }
    return StationAdmission(
      stationID: row.int("id")!, identity: row.string("identity")!, passwordHash: row.string("password_hash"),
      profile: SecurityProfile(rawValue: row.int("security_profile") ?? 1) ?? .basic)
  }

  /// A station's security profile, by id.
  public func securityProfile(stationID: Int) throws -> SecurityProfile? {
    try db.queryOne("SELECT security_profile FROM stations WHERE id = ?", [stationID])?
      .int("security_profile").flatMap(SecurityProfile.init(rawValue:))
  }

  /// Sets a station's security profile (for `station update` and the upgrade flow); lowering
  /// it needs `allowDowngrade`.
  public func setSecurityProfile(_ identity: String, _ profile: SecurityProfile, allowDowngrade: Bool = false) throws {
    var changes = StationChanges()
    changes.securityProfile = profile
    changes.allowDowngrade = allowDowngrade
    try updateStation(identity, changes)
  }

  /// Refuses a profile change that would lower the profile without `allowDowngrade`, or that
  /// needs a password the station does not have. (Profile 0 drops the password: no
  /// authentication means none is checked, so none is kept.)
  func checkProfileChange(_ station: Station, to profile: SecurityProfile, allowDowngrade: Bool) throws {
    let current = SecurityProfile(rawValue: station.securityProfile) ?? .basic
    if profile < current && !allowDowngrade {
      throw StoreError.conflict(
        "station '\(station.identity)' is on security profile \(current.rawValue); lowering it to "
          + "\(profile.rawValue) lets weaker connections in: add --allow-downgrade if that is meant")
    }
    if profile.usesPassword && !station.hasPassword {
      throw StoreError.conflict(
        "security profile \(profile.rawValue) needs an AuthorizationKey, and station '\(station.identity)' "
          + "has none: set one with 'evctl station passwd \(station.identity) --password-stdin'")
    }
  }

  /// Stations that let anyone in who knows their identity (profile 0), and ones that can never
  /// connect (profile 1 or 2 without an AuthorizationKey), ordered by identity.
  public func weakStations() throws -> [WeakStation] {
    try db.query(
      """
      SELECT identity, security_profile, password_hash IS NOT NULL AS has_password FROM stations
      WHERE security_profile = 0 OR (security_profile IN (1, 2) AND password_hash IS NULL)
      ORDER BY identity \(dialect.nocase)
      """
    ).map { row in
      let profile = SecurityProfile(rawValue: row.int("security_profile") ?? 0) ?? .none
      return WeakStation(
        identity: row.string("identity")!, profile: profile,
        problem: profile == .none
          ? "security profile 0: anyone who knows the identity connects as this station"
          : "security profile \(profile.rawValue) without an AuthorizationKey: it cannot connect")
    }
  }
}
