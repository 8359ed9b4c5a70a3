import Glibc

/// The node registry (issue 14 item 4): every `serve` process registers itself as a node,
/// keeps a heartbeat, and records the stations whose connection it holds. On PostgreSQL several
/// nodes share one database; on SQLite there is one node at a time.
extension Store {
  /// A `serve` node as recorded in the store.
  public struct Node: Sendable, Equatable {
    /// The node id (unique among nodes; `HOST:PID`).
    public let id: String
    /// The host it runs on.
    public let host: String
    /// Its process id on that host.
    public let pid: Int
    /// The address it listens on for stations.
    public let listen: String
    /// When it started.
    public let startedAt: Timestamp
    /// Its last heartbeat.
    public let heartbeatAt: Timestamp
    /// When it stopped or was found dead; `nil` while it runs.
    public let stoppedAt: Timestamp?
    /// Why it stopped (`stopped`, or that its heartbeat timed out).
    public let stopReason: String?
    /// How many stations it holds.
    public let stations: Int

    /// `running`, `stopped` or `dead` (found without a heartbeat by another node).
    public var state: String {
      guard stoppedAt != nil else { return "running" }
      return stopReason == Store.nodeStoppedReason ? "stopped" : "dead"
    }
  }

  /// The stop reason of a node that stopped cleanly.
  public static let nodeStoppedReason = "stopped"

  /// How often a node writes its heartbeat: every ``serveHeartbeatSeconds``, or
  /// `EVCTL_NODE_HEARTBEAT_MS` (at least 50; for tests).
  public static var nodeHeartbeatMilliseconds: Int64 {
    if let raw = getenv("EVCTL_NODE_HEARTBEAT_MS"), let value = Int64(String(cString: raw)), value >= 50 {
      return value
    }
    return serveHeartbeatSeconds * 1000
  }

  /// How long a node may go without a heartbeat before the others declare it dead: three of
  /// its heartbeats.
  public static var nodeTimeoutMilliseconds: Int64 { nodeHeartbeatMilliseconds * 3 }

  /// On SQLite, where only one `serve` runs: every node but `id` is marked stopped and holds
  /// nothing (a killed serve left its row running).
  public func retireOtherNodes(except id: String) throws {
    try db.run("DELETE FROM station_holders WHERE node_id <> ?", [id])
    try db.run(
      "UPDATE serve_nodes SET stopped_at = ?, stop_reason = 'replaced by node ' || ? WHERE id <> ? AND stopped_at IS NULL",
      [now().iso8601, id, id])
  }

  /// Registers (or re-registers) node `id` as running; an empty `listen` keeps the recorded one.
  /// Stopped nodes older than a day are forgotten.
  public func registerNode(id: String, host: String, pid: Int, listen: String) throws {
    let now = now()
    try db.transaction {
      try db.run(
        "DELETE FROM serve_nodes WHERE stopped_at IS NOT NULL AND stopped_at < ? AND id <> ?",
        [now.adding(seconds: -86_400).iso8601, id])
      try db.run(
        """
        INSERT INTO serve_nodes (id, host, pid, listen, started_at, heartbeat_at, stopped_at, stop_reason)
          VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)
        ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
          listen = CASE WHEN excluded.listen = '' THEN serve_nodes.listen ELSE excluded.listen END,
          heartbeat_at = excluded.heartbeat_at, stopped_at = NULL, stop_reason = NULL
        """, [id, host, pid, listen, now.iso8601, now.iso8601])
    }
  }

  /// Writes node `id`'s heartbeat; `false` when another node declared it dead meanwhile (its
  /// stations were then shown offline: the caller re-registers and holds them again).
  public func nodeHeartbeat(id: String) throws -> Bool {
    try db.run(
      "UPDATE serve_nodes SET heartbeat_at = ? WHERE id = ? AND stopped_at IS NULL", [now().iso8601, id]) > 0
  }

  /// Marks node `id` stopped cleanly; the stations it held are no longer held by anyone.
  public func stopNode(id: String) throws {
    try db.transaction {
      try db.run("DELETE FROM station_holders WHERE node_id = ?", [id])
      try db.run(
        "UPDATE serve_nodes SET stopped_at = ?, stop_reason = ? WHERE id = ?",
        [now().iso8601, Store.nodeStoppedReason, id])
    }
  }

  /// Every node, running ones first, then by id.
  public func nodes() throws -> [Node] {
    try db.query(
      """
      SELECT n.id, n.host, n.pid, n.listen, n.stop_reason,
        \(ServeSQL.isoText("n.started_at", dialect)) AS started_at,
        \(ServeSQL.isoText("n.heartbeat_at", dialect)) AS heartbeat_at,
        \(ServeSQL.isoText("n.stopped_at", dialect)) AS stopped_at,
        (SELECT count(*) FROM station_holders h WHERE h.node_id = n.id) AS held
        FROM serve_nodes n ORDER BY CASE WHEN n.stopped_at IS NULL THEN 0 ELSE 1 END, n.id
      """, []
    ).map { row in
      Node(
        id: row.string("id") ?? "", host: row.string("host") ?? "", pid: row.int("pid") ?? 0,
        listen: row.string("listen") ?? "", startedAt: row.date("started_at") ?? Timestamp(milliseconds: 0),
        heartbeatAt: row.date("heartbeat_at") ?? Timestamp(milliseconds: 0), stoppedAt: row.date("stopped_at"),
        stopReason: row.string("stop_reason"), stations: row.int("held") ?? 0)
    }
  }

  /// The node holding station `stationID`, if any.
  public func stationHolder(_ stationID: Int) throws -> String? {
    try db.queryOne("SELECT node_id FROM station_holders WHERE station_id = ?", [stationID])?.string("node_id")
  }

  /// Node `node` now holds station `stationID`: the newest connection wins across nodes. When
  /// another node held it, the commands that node had sent to the station and not seen answered
  /// are settled as outcome-unknown (`failed`), so they are never sent again.
  ///
  /// - Returns: the node that held the station before, when it was another one.
  @discardableResult
  public func holdStation(_ stationID: Int, node: String, at time: Timestamp) throws -> String? {
    let previous = try stationHolder(stationID)
    try db.run(
      """
      INSERT INTO station_holders (station_id, node_id, connected_at) VALUES (?, ?, ?)
      ON CONFLICT (station_id) DO UPDATE SET node_id = excluded.node_id, connected_at = excluded.connected_at
      """, [stationID, node, time.iso8601])
    guard let previous, previous != node else { return nil }
    try db.run(
      """
      UPDATE commands SET state = 'failed', answered_at = ?,
        error = 'the station moved to node ' || ? || ' before it answered node ' || ? || '; outcome unknown'
        WHERE station_id = ? AND state = 'sent'
      """, [time.iso8601, node, previous, stationID])
    return previous
  }

  /// Node `node` no longer holds station `stationID` (its connection closed).
  ///
  /// - Returns: whether the station is now held by no node (`false` when another node holds it:
  ///   the station is still connected there and must not be shown offline).
  public func releaseStation(_ stationID: Int, node: String) throws -> Bool {
    try db.run("DELETE FROM station_holders WHERE station_id = ? AND node_id = ?", [stationID, node])
    return try stationHolder(stationID) == nil
  }

  /// Which of `ids` (stations node `node` has a connection to) another node holds now, and which.
  public func stationsHeldElsewhere(_ ids: [Int], node: String) throws -> [Int: String] {
    var found: [Int: String] = [:]
    var index = 0
    while index < ids.count {
      let chunk = Array(ids[index..<min(index + 500, ids.count)])
      let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
      let arguments: [any SQLiteBindable] = [node] + chunk
      for row in try db.query(
        "SELECT station_id, node_id FROM station_holders WHERE node_id <> ? AND station_id IN (\(marks))",
        arguments)
      {
        if let id = row.int("station_id"), let holder = row.string("node_id") { found[id] = holder }
      }
      index += chunk.count
    }
    return found
  }

  /// A node found dead by ``reapDeadNodes(except:at:)``.
  public struct DeadNode: Sendable {
    /// Its id.
    public let id: String
    /// Its last heartbeat.
    public let heartbeatAt: Timestamp
    /// The stations it held, now shown offline: (id, identity).
    public let stations: [(id: Int, identity: String)]
  }

  /// Declares dead every running node but `node` whose heartbeat is older than
  /// ``nodeTimeoutMilliseconds``: its stations are shown offline (until they reconnect to
  /// another node), held by no one, and the commands sent to them are settled outcome-unknown.
  /// One statement both finds and marks the dead nodes, with the heartbeat condition in its
  /// `WHERE`: a heartbeat that lands meanwhile (PostgreSQL rechecks a row it waited for) keeps
  /// its node alive, and two nodes reaping at once settle each node once.
  public func reapDeadNodes(except node: String, at time: Timestamp) throws -> [DeadNode] {
    let cutoff = Timestamp(milliseconds: time.milliseconds - Store.nodeTimeoutMilliseconds)
    var dead: [DeadNode] = []
    let reaped = try db.query(
      """
      UPDATE serve_nodes SET stopped_at = ?, stop_reason = 'no heartbeat since ' || \(ServeSQL.isoText("heartbeat_at", dialect))
        WHERE stopped_at IS NULL AND id <> ? AND heartbeat_at < ?
        RETURNING id, \(ServeSQL.isoText("heartbeat_at", dialect)) AS heartbeat_at
      """, [time.iso8601, node, cutoff.iso8601])
    for row in reaped {
      guard let id = row.string("id") else { continue }
      let heartbeat = row.date("heartbeat_at") ?? cutoff
      let stations = try db.query(
        """
        SELECT s.id, s.identity FROM station_holders h JOIN stations s ON s.id = h.station_id
          WHERE h.node_id = ? ORDER BY s.id
        """, [id]
      ).compactMap { row -> (id: Int, identity: String)? in
        guard let stationID = row.int("id") else { return nil }
        return (stationID, row.string("identity") ?? "")
      }
      try db.run(
        "UPDATE stations SET connected = FALSE WHERE id IN (SELECT station_id FROM station_holders WHERE node_id = ?)",
        [id])
      try db.run(
        """
        UPDATE commands SET state = 'failed', answered_at = ?,
          error = 'node ' || ? || ' died before the station answered; outcome unknown'
          WHERE state = 'sent' AND station_id IN (SELECT station_id FROM station_holders WHERE node_id = ?)
        """, [time.iso8601, id, id])
      try db.run("DELETE FROM station_holders WHERE node_id = ?", [id])
      dead.append(DeadNode(id: id, heartbeatAt: heartbeat, stations: stations))
    }
    return dead
  }

  /// Marks disconnected every station no running node holds (at a node's start: what nobody
  /// holds is not connected; on SQLite that is every station).
  public func markUnheldStationsDisconnected() throws {
    try db.run(
      """
      UPDATE stations SET connected = FALSE WHERE connected = TRUE AND id NOT IN (
        SELECT h.station_id FROM station_holders h JOIN serve_nodes n ON n.id = h.node_id
          WHERE n.stopped_at IS NULL)
      """, [])
  }
}

extension Store {
  /// The advisory-lock class of capacity-group plans (the first of PostgreSQL's two keys).
  static let groupPlanLockClass = 0x4556_0001
  /// The advisory-lock class of the periodic alarm scan.
  static let periodicAlarmLockClass = 0x4556_0002

  /// Whether this node may plan capacity group `groupID` in the current transaction: on
  /// PostgreSQL a transaction-scoped advisory lock per group, so exactly one node at a time
  /// computes a group's allocation (another node trying meanwhile skips the group this round).
  /// Always `true` on SQLite, where one `serve` runs.
  public func tryLockGroupPlan(_ groupID: Int) throws -> Bool {
    try tryAdvisoryTransactionLock(Store.groupPlanLockClass, groupID)
  }

  /// What ``claimGroupPlan(_:node:at:requested:freshWithinMilliseconds:)`` decided.
  public enum GroupPlanClaim: Equatable, Sendable {
    /// Plan the group now (recorded as this node's plan of the round).
    case plan
    /// Another node plans it right now (its transaction holds the group's lock).
    case busy
    /// Another node planned it in this round, after the last allocation change: skip it.
    case plannedElsewhere(by: String)
  }

  /// Whether node `node` plans capacity group `groupID` (a top one: nested capacity groups are
  /// planned together) in this round, in the current transaction. Under the group's lock (see
  /// ``tryLockGroupPlan(_:)``) the group's last plan is read: one by another node less than
  /// `freshWithinMilliseconds` ago that saw the current allocation change counter makes this
  /// round's plan, unless `requested` (this node has news the other plan may not have seen: a
  /// transaction started or stopped, a reading, a status). Otherwise this node's plan is
  /// recorded, so the others skip the group until it is stale: exactly one node plans a group
  /// per round, and another takes over within a round when it stops.
  public func claimGroupPlan(
    _ groupID: Int, node: String, at time: Timestamp, requested: Bool, freshWithinMilliseconds: Int64
  ) throws -> GroupPlanClaim {
    guard try tryLockGroupPlan(groupID) else { return .busy }
    let changes = try allocationChangeCount()
    if !requested, let last = try db.queryOne(
      """
      SELECT planned_by FROM capacity_plans WHERE group_id = ? AND planned_by <> ? AND planned_at > ?
        AND change_count >= ?
      """, [groupID, node, Timestamp(milliseconds: time.milliseconds - freshWithinMilliseconds).iso8601, changes])
    {
      return .plannedElsewhere(by: last.string("planned_by") ?? "")
    }
    try db.run(
      """
      INSERT INTO capacity_plans (group_id, planned_at, planned_by, change_count) VALUES (?, ?, ?, ?)
      ON CONFLICT (group_id) DO UPDATE SET planned_at = excluded.planned_at, planned_by = excluded.planned_by,
        change_count = excluded.change_count
      """, [groupID, time.iso8601, node, changes])
    return .plan
  }

  /// Whether this node runs the periodic, store-wide alarm scan now (one node at a time on
  /// PostgreSQL, so an alarm is raised once, not once per node).
  public func tryLockPeriodicAlarms() throws -> Bool {
    try tryAdvisoryTransactionLock(Store.periodicAlarmLockClass, 0)
  }

  private func tryAdvisoryTransactionLock(_ lockClass: Int, _ key: Int) throws -> Bool {
    guard dialect == .postgresql else { return true }
    let row = try db.queryOne(
      "SELECT CASE WHEN pg_try_advisory_xact_lock(CAST(? AS integer), CAST(? AS integer)) THEN 1 ELSE 0 END AS locked",
      [lockClass, Int(Int32(truncatingIfNeeded: key))])
    return row?.int("locked") == 1
  }
}

extension Store {
  /// A running node with a fresh heartbeat, as a ``ServeStatus`` (the newest started first):
  /// with several nodes, the store is served while any of them runs.
  func runningNode() throws -> ServeStatus? {
    let fresh = Timestamp(milliseconds: now().milliseconds - Store.nodeTimeoutMilliseconds)
    guard let row = try db.queryOne(
      """
      SELECT pid, host, listen, \(ServeSQL.isoText("started_at", dialect)) AS started_at,
        \(ServeSQL.isoText("heartbeat_at", dialect)) AS heartbeat_at
        FROM serve_nodes WHERE stopped_at IS NULL AND heartbeat_at >= ? ORDER BY started_at DESC LIMIT 1
      """, [fresh.iso8601])
    else { return nil }
    let host = row.string("host") ?? ""
    let pid = row.int("pid") ?? 0
    guard host != ProcessFacts.hostName || ProcessFacts.isAlive(pid) else { return nil }
    let heartbeat = row.date("heartbeat_at") ?? now()
    return ServeStatus(
      pid: pid, host: host, listen: row.string("listen") ?? "", startedAt: row.date("started_at") ?? heartbeat,
      heartbeatAt: heartbeat, stoppedAt: nil, running: true)
  }
}
