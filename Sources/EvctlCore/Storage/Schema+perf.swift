extension Schema {
  /// serve's periodic queries over running sessions (stuck-transaction alarms every 30 s, the
  /// smart-charging plan) read only `state = 'active'` rows: a partial index keeps them from
  /// scanning every finished transaction, so their cost stays flat as the store grows (issue 15).
  static let perf = """
    CREATE INDEX transactions_active ON transactions (station_id, connector_id) WHERE state = 'active';
    """
}
