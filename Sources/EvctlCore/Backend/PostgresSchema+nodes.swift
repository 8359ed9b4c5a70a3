extension PostgresSchema {
  /// The PostgreSQL twin of ``Schema/nodes``: the node registry and which node holds each
  /// connected station.
  static let nodes = """
    CREATE TABLE serve_nodes (
      id text PRIMARY KEY,
      host text NOT NULL,
      pid integer NOT NULL,
      listen text NOT NULL DEFAULT '',
      started_at timestamptz NOT NULL,
      heartbeat_at timestamptz NOT NULL,
      stopped_at timestamptz,
      stop_reason text
    );
    CREATE TABLE station_holders (
      station_id bigint PRIMARY KEY REFERENCES stations(id) ON DELETE CASCADE,
      node_id text NOT NULL REFERENCES serve_nodes(id) ON DELETE CASCADE,
      connected_at timestamptz NOT NULL
    );
    CREATE INDEX station_holders_node ON station_holders (node_id);
    """
}

extension PostgresSchema {
  /// The PostgreSQL twin of ``Schema/groupPlans``: the last plan of each top capacity group.
  static let groupPlans = """
    CREATE TABLE capacity_plans (
      group_id bigint PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
      planned_at timestamptz NOT NULL,
      planned_by text NOT NULL,
      change_count bigint NOT NULL DEFAULT 0
    );
    """
}
