extension PostgresSchema {
  /// The PostgreSQL twin of ``Schema/sec`` (security profiles per station, file grants).
  static let sec = """
    ALTER TABLE stations ADD COLUMN security_profile integer NOT NULL DEFAULT 1
      CHECK (security_profile BETWEEN 0 AND 3);
    UPDATE stations SET security_profile = 0 WHERE password_hash IS NULL;

    CREATE TABLE file_grants (
      token text PRIMARY KEY,
      station_id bigint NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('upload', 'firmware')),
      name text,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      closed_at timestamptz
    );
    CREATE INDEX file_grants_station ON file_grants (station_id, kind) WHERE closed_at IS NULL;
    """
}
