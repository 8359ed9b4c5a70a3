extension Schema {
  /// Issue 16 item 5: what the seeds name and evctl lacked. A station's address and coordinates
  /// (CTEK), an operator-set external id and a generated UUID on stations and connectors (CTEK's
  /// connector UUID for external services), a station-level maximum current the allocator holds
  /// (Alfen `Station-MaxCurrent`), and `updated_at` on groups.
  ///
  /// UUIDs (random, version 4) are filled in by triggers, so every path that inserts a station or
  /// a connector (CLI, import, serve meeting a new connector) gets one.
  static let stationDetails = """
    ALTER TABLE stations ADD COLUMN address TEXT;
    ALTER TABLE stations ADD COLUMN latitude REAL;
    ALTER TABLE stations ADD COLUMN longitude REAL;
    ALTER TABLE stations ADD COLUMN external_id TEXT;
    ALTER TABLE stations ADD COLUMN uuid TEXT;
    ALTER TABLE stations ADD COLUMN max_current REAL;
    ALTER TABLE connectors ADD COLUMN external_id TEXT;
    ALTER TABLE connectors ADD COLUMN uuid TEXT;
    ALTER TABLE groups ADD COLUMN updated_at TEXT;

    UPDATE groups SET updated_at = created_at;
    UPDATE stations SET uuid = \(uuidExpression);
    UPDATE connectors SET uuid = \(uuidExpression);

    CREATE UNIQUE INDEX stations_uuid ON stations (uuid);
    CREATE UNIQUE INDEX stations_external_id ON stations (external_id);
    CREATE UNIQUE INDEX connectors_uuid ON connectors (uuid);
    CREATE UNIQUE INDEX connectors_external_id ON connectors (external_id);

    CREATE TRIGGER stations_new_uuid AFTER INSERT ON stations WHEN NEW.uuid IS NULL
    BEGIN UPDATE stations SET uuid = \(uuidExpression) WHERE id = NEW.id; END;
    CREATE TRIGGER connectors_new_uuid AFTER INSERT ON connectors WHEN NEW.uuid IS NULL
    BEGIN
      UPDATE connectors SET uuid = \(uuidExpression)
      WHERE station_id = NEW.station_id AND connector_id = NEW.connector_id;
    END;
    CREATE TRIGGER groups_new_updated_at AFTER INSERT ON groups WHEN NEW.updated_at IS NULL
    BEGIN UPDATE groups SET updated_at = NEW.created_at WHERE id = NEW.id; END;
    """

  /// A random RFC 4122 version 4 UUID in lower case, as an SQLite expression.
  static let uuidExpression = """
    (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
      || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1)
      || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))
    """
}
