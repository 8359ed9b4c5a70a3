extension PostgresSchema {
  /// The PostgreSQL twin of ``Schema/perf``: serve's periodic queries over running sessions read
  /// only the `active` rows through a partial index, flat as the store grows.
  static let perf = """
    CREATE INDEX transactions_active ON transactions (station_id, connector_id) WHERE state = 'active';
    """
}
