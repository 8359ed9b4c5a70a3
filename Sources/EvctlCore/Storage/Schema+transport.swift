extension Schema {
  /// Alarms that repeat count their occurrences instead of piling up; lookups of an active alarm
  /// by identity (unknown stations, serve itself) and the retention of cleared alarms use indexes.
  static let transport = """
    ALTER TABLE alarms ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE alarms ADD COLUMN last_seen_at TEXT;
    CREATE INDEX alarms_active_unattached ON alarms (identity, kind) WHERE cleared_at IS NULL AND station_id IS NULL;
    CREATE INDEX alarms_cleared ON alarms (cleared_at) WHERE cleared_at IS NOT NULL;
    """
}
