extension Schema {
  /// Several `serve` nodes on one database (issue 14 item 4): every node registers itself and
  /// keeps a heartbeat, and each connected station names the node that holds its connection.
  /// A SQLite store has one node at a time; the tables are the same so `db copy` moves them.
  static let nodes = """
    CREATE TABLE serve_nodes (
      id TEXT PRIMARY KEY,
      host TEXT NOT NULL,
      pid INTEGER NOT NULL,
      listen TEXT NOT NULL DEFAULT '',
      started_at TEXT NOT NULL,
      heartbeat_at TEXT NOT NULL,
      stopped_at TEXT,
      stop_reason TEXT
    );
    CREATE TABLE station_holders (
      station_id INTEGER PRIMARY KEY REFERENCES stations(id) ON DELETE CASCADE,
      node_id TEXT NOT NULL REFERENCES serve_nodes(id) ON DELETE CASCADE,
      connected_at TEXT NOT NULL
    );
    CREATE INDEX station_holders_node ON station_holders (node_id);
    """
}

extension Schema {
  /// Smart charging on several nodes (issue 14 item 4): the last plan of each top capacity
  /// group, when and by which node, and the allocation change counter it saw, so that exactly
  /// one node plans a group per round.
  static let groupPlans = """
    CREATE TABLE capacity_plans (
      group_id INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
      planned_at TEXT NOT NULL,
      planned_by TEXT NOT NULL,
      change_count INTEGER NOT NULL DEFAULT 0
    );
    """
}
