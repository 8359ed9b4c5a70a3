extension Schema {
  /// Authorization and protocol (issue 9 items 10, 11, 18): anonymous sessions on open
  /// connectors, which stations saw which token (for ClearCache after a block), and the station's
  /// own time of an event next to ours.
  static let proto = """
    ALTER TABLE transactions ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;

    CREATE TABLE token_sightings (
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      id_tag TEXT NOT NULL COLLATE NOCASE,
      last_seen_at TEXT NOT NULL,
      PRIMARY KEY (station_id, id_tag)
    ) WITHOUT ROWID;
    CREATE INDEX token_sightings_tag ON token_sightings (id_tag);

    ALTER TABLE events ADD COLUMN reported_at TEXT;
    """
}
