/// A certificate evctl knows a station has: one it issued, one seen in a TLS handshake, or one
/// the station listed in its answer to GetInstalledCertificateIds (hash data only).
public struct StationCertificate: Equatable, Sendable {
  public enum Source: String, Sendable { case issued, handshake, installed }

  public var id: Int
  public var stationIdentity: String
  public var source: Source
  /// `ChargePointCertificate` for the station's own; the root type for installed ones.
  public var type: String
  public var serial: String
  public var subject: String?
  public var issuer: String?
  public var notAfter: Timestamp?
  public var fingerprint: String?
  public var issuerNameHash: String?
  public var issuerKeyHash: String?
  /// For issued certificates: `signed` (not yet delivered), `sent`, `accepted`, `rejected`.
  public var state: String?
  public var firstSeenAt: Timestamp
  public var lastSeenAt: Timestamp

  /// The stable JSON form.
  public var json: JSONValue {
    [
      "id": .int(Int64(id)), "station": .string(stationIdentity), "source": .string(source.rawValue),
      "type": .string(type), "serial": .string(serial), "subject": .from(subject), "issuer": .from(issuer),
      "not_after": .from(notAfter), "fingerprint": .from(fingerprint),
      "issuer_name_hash": .from(issuerNameHash), "issuer_key_hash": .from(issuerKeyHash),
      "state": .from(state), "first_seen_at": .from(firstSeenAt), "last_seen_at": .from(lastSeenAt),
    ]
  }
}

/// A CSR a station sent with SignCertificate, and what became of it.
public struct CertificateSigningRequest: Equatable, Sendable {
  public var id: Int
  public var stationIdentity: String
  public var csr: String
  public var subject: String?
  public var key: String?
  /// `pending` (waiting for `certificate approve|reject`), `signed`, `rejected` (by an operator),
  /// `refused` (the check failed).
  public var state: String
  public var reason: String?
  public var receivedAt: Timestamp
  public var decidedAt: Timestamp?
  public var decidedBy: String?

  /// The stable JSON form (without the CSR text).
  public var json: JSONValue {
    [
      "id": .int(Int64(id)), "station": .string(stationIdentity), "subject": .from(subject),
      "key": .from(key), "state": .string(state), "reason": .from(reason),
      "received_at": .from(receivedAt), "decided_at": .from(decidedAt), "decided_by": .from(decidedBy),
    ]
  }
}

/// How a station connected last: over TLS or not, and with which client certificate.
public struct StationLink: Equatable, Sendable {
  public var tls: Bool
  /// The SHA-256 fingerprint of the verified client certificate.
  public var clientCertificate: String?
  public var connectedAt: Timestamp
}

extension Store {
  static let certificateSelect = """
    SELECT c.*, s.identity FROM station_certificates c JOIN stations s ON s.id = c.station_id
    """

  func makeStationCertificate(_ row: Row) -> StationCertificate {
    StationCertificate(
      id: row.int("id")!, stationIdentity: row.string("identity") ?? "",
      source: StationCertificate.Source(rawValue: row.string("source") ?? "") ?? .issued,
      type: row.string("certificate_type") ?? "", serial: row.string("serial") ?? "",
      subject: row.string("subject"), issuer: row.string("issuer"), notAfter: row.date("not_after"),
      fingerprint: row.string("fingerprint"), issuerNameHash: row.string("issuer_name_hash"),
      issuerKeyHash: row.string("issuer_key_hash"), state: row.string("state"),
      firstSeenAt: row.date("first_seen_at") ?? Timestamp(milliseconds: 0),
      lastSeenAt: row.date("last_seen_at") ?? Timestamp(milliseconds: 0))
  }

  /// Records a station certificate evctl issued or saw in a handshake; seeing it again only
  /// updates when it was last seen (and the state, when given).
  @discardableResult
  public func recordStationCertificate(
    stationID: Int, source: StationCertificate.Source, certificate: Certificate, state: String? = nil,
    at now: Timestamp
  ) throws -> Int {
    try db.run(
      """
      INSERT INTO station_certificates (station_id, source, certificate_type, serial, subject, issuer,
        not_after, fingerprint, state, first_seen_at, last_seen_at)
      VALUES (?, ?, 'ChargePointCertificate', ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (station_id, source, certificate_type, serial) DO UPDATE SET
        last_seen_at = excluded.last_seen_at, state = coalesce(excluded.state, station_certificates.state)
      """,
      [stationID, source.rawValue, certificate.serialHex, certificate.subject.description,
       certificate.issuer.description, certificate.notAfter.iso8601, certificate.fingerprint, state,
       now.iso8601, now.iso8601])
    return try db.queryOne(
      "SELECT id FROM station_certificates WHERE station_id = ? AND source = ? AND certificate_type = 'ChargePointCertificate' AND serial = ?",
      [stationID, source.rawValue, certificate.serialHex])?.int("id") ?? 0
  }

  /// Sets the delivery state of an issued certificate, found by its SHA-256 fingerprint.
  public func setIssuedCertificateState(stationID: Int, fingerprint: String, state: String) throws {
    try db.run(
      "UPDATE station_certificates SET state = ? WHERE station_id = ? AND source = 'issued' AND fingerprint = ?",
      [state, stationID, fingerprint])
  }

  /// Replaces what the station last listed for `type` (GetInstalledCertificateIds).
  public func recordInstalledCertificates(
    stationID: Int, type: String,
    hashes: [(algorithm: String, issuerNameHash: String, issuerKeyHash: String, serial: String)],
    at now: Timestamp
  ) throws {
    try db.run(
      "DELETE FROM station_certificates WHERE station_id = ? AND source = 'installed' AND certificate_type = ?",
      [stationID, type])
    for hash in hashes {
      try db.run(
        """
        INSERT INTO station_certificates (station_id, source, certificate_type, serial, hash_algorithm,
          issuer_name_hash, issuer_key_hash, first_seen_at, last_seen_at) VALUES (?, 'installed', ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (station_id, source, certificate_type, serial) DO UPDATE SET last_seen_at = excluded.last_seen_at
        """,
        [stationID, type, hash.serial, hash.algorithm, hash.issuerNameHash, hash.issuerKeyHash,
         now.iso8601, now.iso8601])
    }
  }

  /// The certificate inventory of a station: ours (issued), seen in handshakes, and what it listed.
  public func stationCertificates(_ identity: String) throws -> [StationCertificate] {
    let station = try station(identity)
    return try db.query(
      Store.certificateSelect + " WHERE c.station_id = ? ORDER BY c.source, c.certificate_type, c.first_seen_at, c.id",
      [station.id]
    ).map(makeStationCertificate)
  }

  /// Per station with certificates of its own (issued or seen), the one that expires last, when
  /// that is before `before`: those stations need a new certificate. The last one is picked by a
  /// window (not SQLite's bare column beside `max()`, which PostgreSQL refuses with GROUP BY).
  public func stationsWithExpiringCertificates(before: Timestamp) throws
    -> [(stationID: Int, identity: String, serial: String, notAfter: Timestamp)]
  {
    try db.query(
      """
      SELECT station_id, identity, serial, not_after AS last_expiry FROM (
        SELECT c.station_id, s.identity, c.serial, c.not_after,
          row_number() OVER (PARTITION BY c.station_id ORDER BY c.not_after DESC, c.id DESC) AS newest
        FROM station_certificates c JOIN stations s ON s.id = c.station_id
        WHERE c.source IN ('issued', 'handshake') AND c.not_after IS NOT NULL
          AND coalesce(c.state, '') <> 'rejected'
      ) latest
      WHERE newest = 1 AND not_after < ?
      ORDER BY station_id
      """, [before.iso8601]
    ).compactMap { row in
      guard let id = row.int("station_id"), let expiry = row.date("last_expiry") else { return nil }
      return (id, row.string("identity") ?? "", row.string("serial") ?? "", expiry)
    }
  }

  /// Stations with certificates whose last one expires at or after `after` (to clear alarms).
  public func stationsWithValidCertificates(after: Timestamp) throws -> [Int] {
    try db.query(
      """
      SELECT station_id FROM station_certificates WHERE source IN ('issued', 'handshake')
        AND not_after IS NOT NULL AND coalesce(state, '') <> 'rejected'
      GROUP BY station_id HAVING max(not_after) >= ?
      """, [after.iso8601]
    ).compactMap { $0.int("station_id") }
  }

  // MARK: Signing requests

  func makeSigningRequest(_ row: Row) -> CertificateSigningRequest {
    CertificateSigningRequest(
      id: row.int("id")!, stationIdentity: row.string("identity") ?? "", csr: row.string("csr") ?? "",
      subject: row.string("subject"), key: row.string("key"), state: row.string("state") ?? "",
      reason: row.string("reason"), receivedAt: row.date("received_at") ?? Timestamp(milliseconds: 0),
      decidedAt: row.date("decided_at"), decidedBy: row.string("decided_by"))
  }

  /// Records a CSR a station sent and what was decided at once (`signed`, `refused`), or that it
  /// waits for an operator (`pending`).
  @discardableResult
  public func addSigningRequest(
    stationID: Int, csr: String, subject: String?, key: String?, state: String, reason: String?,
    at now: Timestamp
  ) throws -> Int {
    let newID = try db.insertReturningID(
      """
      INSERT INTO certificate_requests (station_id, csr, subject, key, state, reason, received_at, decided_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [stationID, csr, subject, key, state, reason, now.iso8601, state == "pending" ? nil : now.iso8601])
    return newID
  }

  /// CSRs, newest first: only those waiting for a decision unless `all`.
  public func signingRequests(all: Bool = false, station identity: String? = nil) throws -> [CertificateSigningRequest] {
    let visible = Set(try stations(StationFilter()).map(\.id))
    let stationID = try identity.map { try station($0).id }
    return try db.query(
      """
      SELECT r.*, s.identity FROM certificate_requests r JOIN stations s ON s.id = r.station_id
      WHERE (?1 OR r.state = 'pending') AND (CAST(?2 AS BIGINT) IS NULL OR r.station_id = ?2) ORDER BY r.id DESC
      """, [all, stationID]
    ).filter { visible.contains($0.int("station_id") ?? -1) }.map(makeSigningRequest)
  }

  /// One CSR by id, in the actor's domain.
  public func signingRequest(_ id: Int) throws -> CertificateSigningRequest {
    guard let row = try db.queryOne(
      "SELECT r.*, s.identity FROM certificate_requests r JOIN stations s ON s.id = r.station_id WHERE r.id = ?", [id])
    else { throw StoreError.notFound(kind: "certificate request", name: String(id)) }
    let request = makeSigningRequest(row)
    _ = try station(request.stationIdentity)  // domain check
    return request
  }

  /// Decides a pending CSR: `signed` or `rejected`, by the acting operator.
  ///
  /// - Throws: ``StoreError/conflict(_:)`` when it was decided already.
  public func decideSigningRequest(_ id: Int, state: String, reason: String?, certificateID: Int?) throws {
    try require(.updateStation)
    let request = try signingRequest(id)
    let changed = try db.run(
      """
      UPDATE certificate_requests SET state = ?, reason = ?, decided_at = ?, decided_by = ?, certificate_id = ?
      WHERE id = ? AND state = 'pending'
      """, [state, reason, now().iso8601, actor.displayName, certificateID, id])
    guard changed == 1 else {
      throw StoreError.conflict("certificate request \(id) of \(request.stationIdentity) is \(request.state), not pending")
    }
  }

  // MARK: Links and security profiles

  /// Notes how a station connected (serve, on admission).
  public func recordStationLink(stationID: Int, tls: Bool, clientCertificate: String?, at now: Timestamp) throws {
    try db.run(
      """
      INSERT INTO station_links (station_id, tls, client_certificate, connected_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (station_id) DO UPDATE SET tls = excluded.tls,
        client_certificate = excluded.client_certificate, connected_at = excluded.connected_at
      """, [stationID, tls, clientCertificate, now.iso8601])
  }

  /// How the station connected last, if serve has seen it since this was recorded.
  public func stationLink(stationID: Int) throws -> StationLink? {
    guard let row = try db.queryOne("SELECT * FROM station_links WHERE station_id = ?", [stationID]) else { return nil }
    return StationLink(
      tls: row.int("tls") == 1, clientCertificate: row.string("client_certificate"),
      connectedAt: row.date("connected_at") ?? Timestamp(milliseconds: 0))
  }

  /// The security profile the station is on: the one admission enforces
  /// (`stations.security_profile`, StationSecurity.swift).
  public func upgradedSecurityProfile(stationID: Int) throws -> Int? {
    try securityProfile(stationID: stationID)?.rawValue
  }

  /// Records the security profile a station reached (`station security upgrade`): from now on
  /// admission enforces it. `station_security_profiles` keeps when the upgrade flow set it.
  public func setUpgradedSecurityProfile(stationID: Int, profile: Int) throws {
    try require(.updateStation)
    try db.run(
      "UPDATE stations SET security_profile = ?, updated_at = ? WHERE id = ?", [profile, now().iso8601, stationID])
    try db.run(
      """
      INSERT INTO station_security_profiles (station_id, profile, updated_at) VALUES (?, ?, ?)
      ON CONFLICT (station_id) DO UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at
      """, [stationID, profile, now().iso8601])
  }

  /// Blanks the value of a ChangeConfiguration AuthorizationKey command in the audit log once it
  /// is answered: the key must not stay readable in the store.
  public func redactAuthorizationKey(commandID: Int) throws {
    if dialect == .postgresql {
      // The payload is text (not jsonb) on PostgreSQL: rewritten here rather than with json_set.
      guard let row = try db.queryOne(
        "SELECT payload FROM commands WHERE id = ? AND action = 'ChangeConfiguration'", [commandID]),
        let text = row.string("payload"), case .object(var fields)? = try? JSONValue.parse(Array(text.utf8)),
        fields["key"]?.stringValue == "AuthorizationKey"
      else { return }
      fields["value"] = .string("(redacted)")
      try db.run("UPDATE commands SET payload = ? WHERE id = ?", [JSONValue.object(fields).compact, commandID])
      return
    }
    try db.run(
      """
      UPDATE commands SET payload = json_set(payload, '$.value', '(redacted)')
      WHERE id = ? AND action = 'ChangeConfiguration' AND json_extract(payload, '$.key') = 'AuthorizationKey'
      """, [commandID])
  }
}
