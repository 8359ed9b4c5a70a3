extension Store {
  /// How often `serve` writes its heartbeat.
  public static let serveHeartbeatSeconds: Int64 = 5
  /// A heartbeat older than this means `serve` is not running (readers show `unknown`).
  public static let serveStaleSeconds: Int64 = 30
  /// A lock held from another host whose heartbeat is older than this is taken over.
  public static let serveTakeOverSeconds: Int64 = 120

  /// The `serve` that owns this store (running or not), or `nil` if none ever ran.
  public func serveStatus() throws -> ServeStatus? {
    guard let row = try db.queryOne("SELECT * FROM serve_lock WHERE id = 1") else { return nil }
    let heartbeat = row.date("heartbeat_at") ?? Timestamp(milliseconds: 0)
    let pid = row.int("pid") ?? 0
    let host = row.string("host") ?? ""
    let stopped = row.date("stopped_at")
    let fresh = heartbeat.adding(seconds: Store.serveStaleSeconds) >= now()
    let alive = host != ProcessFacts.hostName || ProcessFacts.isAlive(pid)
    if dialect == .postgresql, !(stopped == nil && fresh && alive), let node = try runningNode() {
      return node  // several nodes share the row: any running node serves the store
    }
    return ServeStatus(
      pid: pid, host: host, listen: row.string("listen") ?? "",
      startedAt: row.date("started_at") ?? heartbeat, heartbeatAt: heartbeat, stoppedAt: stopped,
      running: stopped == nil && fresh && alive)
  }

  /// Takes the store for this `serve` process, or refuses when another one holds it.
  ///
  /// A lock is free when its owner stopped cleanly, when its pid no longer runs evctl on this
  /// host, or, for an owner on another host, when its heartbeat is older than
  /// ``serveTakeOverSeconds``. On PostgreSQL several `serve` nodes may share one database, so
  /// nothing is refused there: the row only says that a serve runs (the newest to start).
  ///
  /// - Throws: ``StoreError/unavailable(_:)`` "already served by pid N on HOST since T".
  public func acquireServeLock(pid: Int, host: String, listen: String) throws {
    try db.transaction {
      let now = now()
      if dialect == .sqlite, let row = try db.queryOne("SELECT * FROM serve_lock WHERE id = 1"),
        row.string("stopped_at") == nil
      {
        let owner = row.int("pid") ?? 0
        let ownerHost = row.string("host") ?? ""
        let heartbeat = row.date("heartbeat_at") ?? Timestamp(milliseconds: 0)
        // On this host the pid decides (a serve blocked by a long import is still alive); for
        // another host only the heartbeat can tell.
        let dead = ownerHost == host && (owner == pid || !ProcessFacts.isAlive(owner))
        let old = ownerHost != host && heartbeat.adding(seconds: Store.serveTakeOverSeconds) < now
        if !dead && !old {
          throw StoreError.unavailable(
            "store already served by pid \(owner) on \(ownerHost) since \(row.string("started_at") ?? "?") (listening on \(row.string("listen") ?? "?"), last heartbeat \(heartbeat.iso8601))")
        }
      }
      try db.run(
        """
        INSERT INTO serve_lock (id, pid, host, listen, started_at, heartbeat_at, stopped_at)
          VALUES (1, ?, ?, ?, ?, ?, NULL)
        ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, listen = excluded.listen,
          started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = NULL
        """, [pid, host, listen, now.iso8601, now.iso8601])
    }
  }

  /// Writes this `serve`'s heartbeat; returns `false` when another process took the lock over.
  /// On PostgreSQL, where nodes share the row, every running node keeps it fresh and running.
  public func serveHeartbeat(pid: Int, host: String) throws -> Bool {
    if dialect == .postgresql {
      try db.run(
        "UPDATE serve_lock SET heartbeat_at = ?, pid = ?, host = ?, stopped_at = NULL WHERE id = 1",
        [now().iso8601, pid, host])
      return true
    }
    return try db.run(
      "UPDATE serve_lock SET heartbeat_at = ? WHERE id = 1 AND pid = ? AND host = ? AND stopped_at IS NULL",
      [now().iso8601, pid, host]) > 0
  }

  /// Releases the lock at a clean stop; readers then say "serve not running since T".
  public func releaseServeLock(pid: Int, host: String) throws {
    let now = now().iso8601
    try db.run(
      "UPDATE serve_lock SET stopped_at = ?, heartbeat_at = ? WHERE id = 1 AND pid = ? AND host = ?",
      [now, now, pid, host])
  }
}

extension Store {
  /// Which of `ids` are still stations in the store (for `serve`, to close deleted ones).
  public func existingStationIDs(_ ids: [Int]) throws -> Set<Int> {
    var found: Set<Int> = []
    var index = 0
    while index < ids.count {
      let chunk = Array(ids[index..<min(index + 500, ids.count)])
      let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
      for row in try db.query("SELECT id FROM stations WHERE id IN (\(marks))", chunk) {
        if let id = row.int("id") { found.insert(id) }
      }
      index += chunk.count
    }
    return found
  }

  /// Records the address `serve` actually listens on (after binding port 0).
  public func setServeListen(_ listen: String, pid: Int, host: String) throws {
    try db.run("UPDATE serve_lock SET listen = ? WHERE id = 1 AND pid = ? AND host = ?", [listen, pid, host])
  }
}
