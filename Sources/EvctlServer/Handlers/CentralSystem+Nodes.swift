import EvctlCore

/// This `serve` as one node of several on one PostgreSQL database (issue 14 item 4): the node
/// registry, the stations it holds, takeover when a station reconnects elsewhere, and dead
/// nodes. On SQLite the same bookkeeping runs for the one node there is.
extension CentralSystem {
  /// The node id that claims commands: only on PostgreSQL, where several nodes may run.
  var claimNode: String? { store.dialect == .postgresql ? configuration.nodeID : nil }

  /// At start-up: declares dead the nodes that stopped answering, registers this node, and
  /// marks offline every station that no running node holds.
  func startNode() throws {
    guard let node = configuration.nodeID else { return }
    let owner = configuration.lockOwner ?? ServeLockOwner(pid: ProcessFacts.pid, host: ProcessFacts.hostName)
    try reportDeadNodes(try store.reapDeadNodes(except: node, at: .now()), at: .now())
    try store.registerNode(id: node, host: owner.host, pid: owner.pid, listen: "")
    try store.markUnheldStationsDisconnected()
  }

  /// Registers this node with the address it listens on (before ``Server/run()``).
  public func noteNodeListen(_ listen: String) {
    guard let node = configuration.nodeID else { return }
    let owner = configuration.lockOwner ?? ServeLockOwner(pid: ProcessFacts.pid, host: ProcessFacts.hostName)
    do { try store.registerNode(id: node, host: owner.host, pid: owner.pid, listen: listen) } catch {
      log("warning: node listen address not recorded: \(error)")
    }
  }

  /// This node now holds the station's connection (the newest connection wins across nodes).
  func nodeHolds(stationID: Int, identity: String, at now: Timestamp) throws {
    guard let node = configuration.nodeID else { return }
    if let previous = try store.holdStation(stationID, node: node, at: now) {
      log("info: station taken over from another node " + ServeLog.fields(
        ["identity": identity, "from": previous, "node": node]))
    }
  }

  /// The station's connection to this node closed: whether it is now offline (`false` when
  /// another node holds it).
  func nodeReleases(stationID: Int) throws -> Bool {
    guard let node = configuration.nodeID else { return true }
    return try store.releaseStation(stationID, node: node)
  }

  /// Once per node heartbeat: writes it (re-registering and holding `held` again when another
  /// node had declared this one dead), declares dead the nodes silent for the timeout, and
  /// returns which of `held` another node took over, for the transport to close.
  public func nodeTick(held: [Int: String], at now: Timestamp) throws -> [Int: String] {
    guard let node = configuration.nodeID else { return [:] }
    if !(try store.nodeHeartbeat(id: node)) {
      log("warning: another node declared this node dead; registering again " + ServeLog.fields(["node": node]))
      let owner = configuration.lockOwner ?? ServeLockOwner(pid: ProcessFacts.pid, host: ProcessFacts.hostName)
      let listen = try store.nodes().first { $0.id == node }?.listen ?? ""
      try store.registerNode(id: node, host: owner.host, pid: owner.pid, listen: listen)
      let elsewhere = try store.stationsHeldElsewhere(Array(held.keys), node: node)
      for (stationID, _) in held where elsewhere[stationID] == nil {
        try store.holdStation(stationID, node: node, at: now)
        try store.markStationConnected(stationID, at: now)
      }
    }
    try reportDeadNodes(try store.reapDeadNodes(except: node, at: now), at: now)
    return try store.stationsHeldElsewhere(Array(held.keys), node: node)
  }

  /// Marks this node stopped at a clean shutdown.
  public func stopNode() {
    guard let node = configuration.nodeID else { return }
    do { try store.stopNode(id: node) } catch { log("warning: node not marked stopped: \(error)") }
  }

  private func reportDeadNodes(_ dead: [Store.DeadNode], at now: Timestamp) throws {
    for gone in dead {
      log("warning: node declared dead, its stations shown offline " + ServeLog.fields(
        ["node": gone.id, "heartbeat": gone.heartbeatAt.iso8601, "stations": String(gone.stations.count)]))
      for station in gone.stations {
        try recordEvent(stationID: station.id, identity: station.identity, kind: "disconnected",
                        detail: "node \(gone.id) stopped answering (no heartbeat since \(gone.heartbeatAt.iso8601))",
                        at: now)
      }
    }
  }
}
