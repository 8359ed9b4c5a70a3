extension Schema {
  /// `evctl top` and `station timeline` (issue 16 items 1-2): one station's message log and
  /// events, and its alarms cleared or not, are read by station and time instead of scanning
  /// the tables.
  static let liveView = """
    CREATE INDEX message_log_station ON message_log (station_id, id);
    CREATE INDEX events_station ON events (station_id, at);
    CREATE INDEX alarms_station ON alarms (station_id, raised_at);
    """
}
