extension PostgresSchema {
  /// The PostgreSQL twin of ``Schema/stationDetails`` (station address, coordinates, external ids,
  /// UUIDs, station maximum current, `groups.updated_at`).
  ///
  /// SQLite fills a missing UUID and `groups.updated_at` with `AFTER INSERT` triggers; here the
  /// UUIDs are column defaults (`gen_random_uuid()`, version 4, lower case, as text so `db copy`
  /// moves them unchanged either way) and `updated_at` a `BEFORE INSERT` trigger. As in SQLite,
  /// an explicit `NULL` UUID is filled in too.
  static let stationDetails = """
    ALTER TABLE stations ADD COLUMN address text;
    ALTER TABLE stations ADD COLUMN latitude double precision;
    ALTER TABLE stations ADD COLUMN longitude double precision;
    ALTER TABLE stations ADD COLUMN external_id text;
    ALTER TABLE stations ADD COLUMN uuid text DEFAULT gen_random_uuid()::text;
    ALTER TABLE stations ADD COLUMN max_current double precision;
    ALTER TABLE connectors ADD COLUMN external_id text;
    ALTER TABLE connectors ADD COLUMN uuid text DEFAULT gen_random_uuid()::text;
    ALTER TABLE groups ADD COLUMN updated_at timestamptz;

    UPDATE groups SET updated_at = created_at;
    UPDATE stations SET uuid = gen_random_uuid()::text WHERE uuid IS NULL;
    UPDATE connectors SET uuid = gen_random_uuid()::text WHERE uuid IS NULL;

    CREATE UNIQUE INDEX stations_uuid ON stations (uuid);
    CREATE UNIQUE INDEX stations_external_id ON stations (external_id);
    CREATE UNIQUE INDEX connectors_uuid ON connectors (uuid);
    CREATE UNIQUE INDEX connectors_external_id ON connectors (external_id);

    CREATE FUNCTION evctl_fill_new_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'groups' THEN
        NEW.updated_at := coalesce(NEW.updated_at, NEW.created_at);
      ELSE
        NEW.uuid := coalesce(NEW.uuid, gen_random_uuid()::text);
      END IF;
      RETURN NEW;
    END
    $$;
    CREATE TRIGGER stations_new_uuid BEFORE INSERT ON stations
      FOR EACH ROW WHEN (NEW.uuid IS NULL) EXECUTE FUNCTION evctl_fill_new_row();
    CREATE TRIGGER connectors_new_uuid BEFORE INSERT ON connectors
      FOR EACH ROW WHEN (NEW.uuid IS NULL) EXECUTE FUNCTION evctl_fill_new_row();
    CREATE TRIGGER groups_new_updated_at BEFORE INSERT ON groups
      FOR EACH ROW WHEN (NEW.updated_at IS NULL) EXECUTE FUNCTION evctl_fill_new_row();
    """
}
