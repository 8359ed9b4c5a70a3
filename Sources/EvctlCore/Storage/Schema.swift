/// The store's schema, as numbered migrations.
///
/// Never edit a migration that has shipped: append a new one. Tests migrate from an empty file
/// and from every earlier version.
public enum Schema {
  /// Every migration, oldest first.
  public static let migrations: [String] = [v1, v2, v3, v4, pipeline, smartCharging, proto, transport, imports, mail, ca, stationDetails, sec, liveView, perf, history, nodes, groupPlans]

  /// The migrator for this schema.
  public static let migrator = Migrator(migrations: migrations)

  static let v1 = foundationTables + serverTables

  static let foundationTables = """
    CREATE TABLE groups (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      parent_id INTEGER REFERENCES groups(id),
      kind TEXT NOT NULL DEFAULT 'other' CHECK (kind IN ('site', 'floor', 'area', 'other')),
      address TEXT,
      latitude REAL,
      longitude REAL,
      created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX groups_sibling_name ON groups (coalesce(parent_id, 0), name COLLATE NOCASE);

    CREATE TABLE stations (
      id INTEGER PRIMARY KEY,
      identity TEXT NOT NULL COLLATE NOCASE UNIQUE,
      name TEXT NOT NULL,
      description TEXT,
      group_id INTEGER REFERENCES groups(id),
      password_hash TEXT,
      heartbeat_interval INTEGER NOT NULL DEFAULT 300,
      public INTEGER NOT NULL DEFAULT 1,
      registration_policy TEXT NOT NULL DEFAULT 'accept'
        CHECK (registration_policy IN ('accept', 'pending', 'reject')),
      registration_status TEXT,
      vendor TEXT,
      model TEXT,
      serial_number TEXT,
      charge_box_serial_number TEXT,
      firmware_version TEXT,
      iccid TEXT,
      imsi TEXT,
      meter_type TEXT,
      meter_serial_number TEXT,
      last_boot_at TEXT,
      last_seen_at TEXT,
      connected INTEGER NOT NULL DEFAULT 0,
      lenient_count INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX stations_group ON stations (group_id);

    CREATE TABLE connectors (
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      connector_id INTEGER NOT NULL CHECK (connector_id >= 0),
      type TEXT,
      max_current REAL,
      mode TEXT NOT NULL DEFAULT 'rfid' CHECK (mode IN ('open', 'rfid')),
      parking_space TEXT,
      status TEXT,
      error_code TEXT,
      info TEXT,
      vendor_error_code TEXT,
      status_at TEXT,
      PRIMARY KEY (station_id, connector_id)
    );

    CREATE TABLE operators (
      id INTEGER PRIMARY KEY,
      email TEXT NOT NULL COLLATE NOCASE UNIQUE,
      name TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('admin', 'support', 'basic')),
      base_group_id INTEGER REFERENCES groups(id),
      password_hash TEXT,
      active INTEGER NOT NULL DEFAULT 1,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );

    CREATE TABLE operator_credentials (
      id INTEGER PRIMARY KEY,
      operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
      kind TEXT NOT NULL CHECK (kind IN ('session', 'api')),
      name TEXT,
      secret_hash TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      expires_at TEXT
    );

    CREATE TABLE charging_users (
      id INTEGER PRIMARY KEY,
      email TEXT NOT NULL COLLATE NOCASE UNIQUE,
      first_name TEXT NOT NULL,
      last_name TEXT NOT NULL,
      phone TEXT,
      group_id INTEGER REFERENCES groups(id),
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );

    CREATE TABLE access_rights (
      id INTEGER PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES charging_users(id) ON DELETE CASCADE,
      group_id INTEGER REFERENCES groups(id) ON DELETE CASCADE,
      station_id INTEGER REFERENCES stations(id) ON DELETE CASCADE,
      created_at TEXT NOT NULL,
      CHECK ((group_id IS NULL) <> (station_id IS NULL))
    );
    CREATE UNIQUE INDEX access_rights_unique
      ON access_rights (user_id, coalesce(group_id, 0), coalesce(station_id, 0));

    CREATE TABLE tokens (
      id INTEGER PRIMARY KEY,
      id_tag TEXT NOT NULL COLLATE NOCASE UNIQUE,
      raw_id_tag TEXT NOT NULL,
      user_id INTEGER NOT NULL REFERENCES charging_users(id) ON DELETE RESTRICT,
      name TEXT,
      valid_from TEXT,
      valid_to TEXT,
      blocked INTEGER NOT NULL DEFAULT 0,
      parent_id_tag TEXT COLLATE NOCASE,
      allow_concurrent INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX tokens_user ON tokens (user_id);
    """

  static let serverTables = """
    CREATE TABLE transactions (
      id INTEGER PRIMARY KEY CHECK (id > 0 AND id <= 2147483647),
      station_id INTEGER NOT NULL REFERENCES stations(id),
      connector_id INTEGER NOT NULL,
      id_tag TEXT NOT NULL,
      token_id INTEGER REFERENCES tokens(id) ON DELETE SET NULL,
      parent_id_tag TEXT,
      authorization_status TEXT NOT NULL,
      meter_start INTEGER NOT NULL,
      started_at TEXT NOT NULL,
      start_timestamp_raw TEXT NOT NULL,
      reservation_id INTEGER,
      meter_stop INTEGER,
      stopped_at TEXT,
      stop_reason TEXT,
      stop_id_tag TEXT,
      state TEXT NOT NULL DEFAULT 'active'
        CHECK (state IN ('active', 'completed', 'superseded', 'closed_by_operator')),
      received_at TEXT NOT NULL,
      stop_received_at TEXT,
      UNIQUE (station_id, connector_id, id_tag, start_timestamp_raw, meter_start)
    );
    CREATE INDEX transactions_station_state ON transactions (station_id, state);
    CREATE INDEX transactions_started ON transactions (started_at);
    CREATE INDEX transactions_id_tag ON transactions (id_tag, state);

    CREATE TABLE orphan_stops (
      id INTEGER PRIMARY KEY,
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      transaction_id INTEGER NOT NULL,
      id_tag TEXT,
      meter_stop INTEGER,
      stopped_at TEXT,
      reason TEXT,
      received_at TEXT NOT NULL
    );

    CREATE TABLE meter_values (
      id INTEGER PRIMARY KEY,
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      connector_id INTEGER NOT NULL,
      transaction_id INTEGER,
      sampled_at TEXT NOT NULL,
      measurand TEXT NOT NULL,
      value TEXT NOT NULL,
      numeric_value REAL,
      unit TEXT,
      phase TEXT,
      context TEXT,
      location TEXT,
      format TEXT,
      energy_wh REAL
    );
    CREATE INDEX meter_values_transaction ON meter_values (transaction_id);

    CREATE TABLE status_events (
      id INTEGER PRIMARY KEY,
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      connector_id INTEGER NOT NULL,
      status TEXT NOT NULL,
      error_code TEXT,
      info TEXT,
      vendor_id TEXT,
      vendor_error_code TEXT,
      reported_at TEXT,
      received_at TEXT NOT NULL
    );
    CREATE INDEX status_events_station ON status_events (station_id, received_at);

    CREATE TABLE events (
      id INTEGER PRIMARY KEY,
      station_id INTEGER REFERENCES stations(id) ON DELETE CASCADE,
      identity TEXT,
      kind TEXT NOT NULL,
      detail TEXT,
      at TEXT NOT NULL
    );
    CREATE INDEX events_at ON events (at);

    CREATE TABLE message_log (
      id INTEGER PRIMARY KEY,
      station_id INTEGER NOT NULL,
      direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
      at TEXT NOT NULL,
      frame TEXT NOT NULL
    );

    CREATE TABLE station_data (
      id INTEGER PRIMARY KEY,
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      action TEXT NOT NULL,
      payload TEXT NOT NULL,
      received_at TEXT NOT NULL
    );
    """

  /// Remote commands and what their answers teach us (issue: remote commands).
  static let v2 = """
    CREATE TABLE commands (
      id INTEGER PRIMARY KEY,
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      action TEXT NOT NULL,
      payload TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'accepted',
        'rejected', 'failed', 'timed_out', 'expired')),
      requested_by TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      timeout_seconds INTEGER NOT NULL DEFAULT 30,
      sent_at TEXT,
      answered_at TEXT,
      message_id TEXT,
      response TEXT,
      status TEXT,
      error TEXT,
      latency_ms INTEGER
    );
    CREATE INDEX commands_open ON commands (state) WHERE state IN ('queued', 'sent');
    CREATE INDEX commands_station ON commands (station_id, id);

    CREATE TABLE station_configuration (
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      key TEXT NOT NULL,
      value TEXT,
      readonly INTEGER,
      known INTEGER NOT NULL DEFAULT 1,
      fetched_at TEXT NOT NULL,
      PRIMARY KEY (station_id, key)
    );

    CREATE TABLE local_list_contents (
      hash TEXT PRIMARY KEY,
      entries TEXT NOT NULL,
      entry_count INTEGER NOT NULL
    );

    CREATE TABLE local_lists (
      station_id INTEGER PRIMARY KEY REFERENCES stations(id) ON DELETE CASCADE,
      version INTEGER NOT NULL DEFAULT 0,
      reported_version INTEGER,
      content_hash TEXT REFERENCES local_list_contents(hash),
      updated_at TEXT NOT NULL
    );

    CREATE TABLE reservations (
      id INTEGER PRIMARY KEY CHECK (id > 0 AND id <= 2147483647),
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      connector_id INTEGER NOT NULL,
      id_tag TEXT NOT NULL,
      parent_id_tag TEXT,
      expires_at TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'active', 'rejected',
        'cancelled', 'used', 'expired')),
      status TEXT,
      transaction_id INTEGER,
      requested_by TEXT NOT NULL,
      created_at TEXT NOT NULL
    );

    CREATE TABLE charging_profiles (
      id INTEGER PRIMARY KEY CHECK (id > 0 AND id <= 2147483647),
      name TEXT NOT NULL COLLATE NOCASE UNIQUE,
      purpose TEXT NOT NULL,
      stack_level INTEGER NOT NULL,
      definition TEXT NOT NULL,
      created_at TEXT NOT NULL
    );

    CREATE TABLE settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );

    CREATE TABLE installed_profiles (
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      connector_id INTEGER NOT NULL,
      charging_profile_id INTEGER NOT NULL,
      purpose TEXT NOT NULL,
      stack_level INTEGER NOT NULL,
      transaction_id INTEGER,
      profile TEXT NOT NULL,
      installed_at TEXT NOT NULL,
      PRIMARY KEY (station_id, connector_id, charging_profile_id)
    );
    """

  /// Alarms, and operators closing ghost transactions (issue: reports, events and alarms).
  static let v3 = """
    CREATE TABLE alarms (
      id INTEGER PRIMARY KEY,
      station_id INTEGER REFERENCES stations(id) ON DELETE CASCADE,
      identity TEXT NOT NULL,
      kind TEXT NOT NULL,
      connector_id INTEGER,
      code TEXT,
      detail TEXT,
      raised_at TEXT NOT NULL,
      cleared_at TEXT,
      acknowledged_at TEXT,
      acknowledged_by TEXT
    );
    CREATE INDEX alarms_active ON alarms (station_id, kind, connector_id) WHERE cleared_at IS NULL;
    CREATE INDEX alarms_raised ON alarms (raised_at);

    ALTER TABLE transactions ADD COLUMN closed_by TEXT;
    CREATE INDEX status_events_received ON status_events (received_at);
    """

  /// Capacity groups and the plans smart charging makes for them.
  static let v4 = """
    CREATE TABLE group_capacities (
      group_id INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
      max_current REAL NOT NULL,
      phases INTEGER NOT NULL DEFAULT 3 CHECK (phases IN (1, 3)),
      max_power_kw REAL,
      safe_current REAL,
      min_current REAL NOT NULL DEFAULT 6,
      alternate_seconds INTEGER NOT NULL DEFAULT 900,
      updated_at TEXT NOT NULL
    );

    CREATE TABLE group_load_readings (
      group_id INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
      l1 REAL NOT NULL, l2 REAL NOT NULL, l3 REAL NOT NULL,
      valid_until TEXT NOT NULL,
      reported_at TEXT NOT NULL
    );

    CREATE TABLE group_suspensions (
      group_id INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
      until TEXT,
      requested_by TEXT NOT NULL,
      created_at TEXT NOT NULL
    );

    CREATE TABLE allocations (
      transaction_id INTEGER PRIMARY KEY REFERENCES transactions(id) ON DELETE CASCADE,
      station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
      connector_id INTEGER NOT NULL,
      limit_amps REAL NOT NULL,
      phases TEXT NOT NULL,
      charging_since TEXT,
      paused_since TEXT,
      needs_higher_minimum INTEGER NOT NULL DEFAULT 0,
      sent_limit REAL,
      purpose TEXT NOT NULL DEFAULT 'TxProfile',
      note TEXT,
      updated_at TEXT NOT NULL
    );
    """
}
