extension Schema {
  /// evctl's certificate authority (issue 12 items 3–5): the certificate inventory, CSRs waiting
  /// for approval, how each station last connected, and the security profile an upgrade reached.
  static let ca = """
    CREATE TABLE station_certificates (
      id INTEGER PRIMARY KEY,
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      source TEXT NOT NULL CHECK (source IN ('issued', 'handshake', 'installed')),
      certificate_type TEXT NOT NULL,
      serial TEXT NOT NULL,
      subject TEXT,
      issuer TEXT,
      not_after TEXT,
      fingerprint TEXT,
      hash_algorithm TEXT,
      issuer_name_hash TEXT,
      issuer_key_hash TEXT,
      state TEXT,
      first_seen_at TEXT NOT NULL,
      last_seen_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX station_certificates_one ON station_certificates (station_id, source, certificate_type, serial);
    CREATE INDEX station_certificates_expiry ON station_certificates (not_after) WHERE not_after IS NOT NULL;

    CREATE TABLE certificate_requests (
      id INTEGER PRIMARY KEY,
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      csr TEXT NOT NULL,
      subject TEXT,
      key TEXT,
      state TEXT NOT NULL CHECK (state IN ('pending', 'signed', 'rejected', 'refused')),
      reason TEXT,
      received_at TEXT NOT NULL,
      decided_at TEXT,
      decided_by TEXT,
      certificate_id INTEGER REFERENCES station_certificates(id) ON DELETE SET NULL
    );
    CREATE INDEX certificate_requests_pending ON certificate_requests (station_id) WHERE state = 'pending';

    CREATE TABLE station_links (
      station_id INTEGER PRIMARY KEY REFERENCES stations(id) ON DELETE CASCADE,
      tls INTEGER NOT NULL,
      client_certificate TEXT,
      connected_at TEXT NOT NULL
    );

    CREATE TABLE station_security_profiles (
      station_id INTEGER PRIMARY KEY REFERENCES stations(id) ON DELETE CASCADE,
      profile INTEGER NOT NULL CHECK (profile BETWEEN 0 AND 3),
      updated_at TEXT NOT NULL
    );
    """
}
