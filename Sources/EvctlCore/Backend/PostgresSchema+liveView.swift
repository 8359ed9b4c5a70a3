extension PostgresSchema {
  /// The PostgreSQL twin of ``Schema/liveView``: one station's message log, events and alarms
  /// read by station and time.
  static let liveView = """
    CREATE INDEX message_log_station ON message_log (station_id, id);
    CREATE INDEX events_station ON events (station_id, at);
    CREATE INDEX alarms_station ON alarms (station_id, raised_at);
    """
}
