extension Schema {
  /// The command pipeline and serve's lifecycle (issue 9 items 20-23, issue 11 item 5):
  /// one lock row for the `serve` that owns the store, with its heartbeat; a sequence for
  /// transaction ids that never goes back; an index for command retention.
  static let pipeline = """
    CREATE TABLE serve_lock (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      pid INTEGER NOT NULL,
      host TEXT NOT NULL,
      listen TEXT NOT NULL,
      started_at TEXT NOT NULL,
      heartbeat_at TEXT NOT NULL,
      stopped_at TEXT
    );

    CREATE TABLE id_sequences (
      name TEXT PRIMARY KEY,
      value INTEGER NOT NULL
    );
    INSERT INTO id_sequences (name, value)
      SELECT 'transactions', coalesce(max(id), 0) FROM transactions;

    CREATE INDEX commands_created ON commands (created_at);
    CREATE INDEX commands_untrimmed ON commands (created_at) WHERE payload <> '';
    """
}
