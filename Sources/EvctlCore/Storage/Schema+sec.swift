extension Schema {
  /// A security profile per station (OCPP 1.6 security whitepaper): 0 no authentication, 1 Basic
  /// auth, 2 TLS + Basic auth, 3 TLS with a client certificate. Stations that exist without a
  /// password keep connecting as before (profile 0, listed by `db check`); every other one is
  /// profile 1. `file_grants` are the unguessable, expiring paths of serve's file service: one
  /// per diagnostics or log request (uploads) and per firmware update (downloads). Nothing in a migration may depend on another helper's migration.
  static let sec = """
    ALTER TABLE stations ADD COLUMN security_profile INTEGER NOT NULL DEFAULT 1
      CHECK (security_profile BETWEEN 0 AND 3);
    UPDATE stations SET security_profile = 0 WHERE password_hash IS NULL;

    CREATE TABLE file_grants (
      token TEXT PRIMARY KEY,
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      kind TEXT NOT NULL CHECK (kind IN ('upload', 'firmware')),
      name TEXT,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      closed_at TEXT
    );
    CREATE INDEX file_grants_station ON file_grants (station_id, kind) WHERE closed_at IS NULL;
    """
}
