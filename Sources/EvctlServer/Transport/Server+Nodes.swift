import CLinux
import EvctlCore
import Glibc

/// What the event loop keeps for the node registry: the LISTEN connection that wakes command
/// delivery on PostgreSQL, and when the node last wrote its heartbeat.
struct NodeLoopState {
  var listener: PostgresListener?
  var lastTick = Timestamp(milliseconds: 0)
  var lastListenAttempt = Timestamp(milliseconds: 0)
  /// The listener's socket, or -1 without one.
  var listenerFD: Int32 { listener?.descriptor ?? -1 }
}

extension Server {
  /// How often queued commands are looked for: every 0.1 s on SQLite; on PostgreSQL a
  /// notification wakes delivery at once, and the poll is only a safety net.
  var commandPollMilliseconds: Int64 { nodeState.listener == nil ? 100 : 1_000 }

  /// Opens the LISTEN connection when the store is on PostgreSQL; without it the node polls.
  func openNodeListener() {
    guard nodeState.listener == nil, let url = central.configuration.notificationURL else { return }
    nodeState.lastListenAttempt = .now()
    do {
      let listener = try PostgresListener(url: url, channel: Store.commandChannel)
      try watch(listener.descriptor, events: EPOLLIN.rawValue)
      nodeState.listener = listener
      lastCommandPoll = Timestamp(milliseconds: 0)  // what was queued before LISTEN began
    } catch {
      central.log("warning: cannot LISTEN for queued commands, polling every 0.1 s instead: \(error)")
    }
  }

  /// A notification arrived (or the connection changed): deliver queued commands this turn.
  func drainNodeListener() {
    guard let listener = nodeState.listener else { return }
    do {
      _ = try listener.drain()
    } catch {
      central.log("warning: \(error); polling until it is back")
      epoll_ctl(epollFD, EPOLL_CTL_DEL, listener.descriptor, nil)
      nodeState.listener = nil
    }
    lastCommandPoll = Timestamp(milliseconds: 0)
  }

  /// Once per node heartbeat: the heartbeat, dead nodes, and the connections of stations that
  /// reconnected to another node, which are closed here (their commands in flight are settled
  /// outcome-unknown; the station is not marked offline, the other node holds it).
  func nodeHousekeeping(now: Timestamp) -> [Link] {
    guard central.configuration.nodeID != nil,
      now.milliseconds - nodeState.lastTick.milliseconds >= Store.nodeHeartbeatMilliseconds
    else { return [] }
    nodeState.lastTick = now
    if nodeState.listener == nil, central.configuration.notificationURL != nil,
      now.milliseconds - nodeState.lastListenAttempt.milliseconds >= 5_000
    {
      openNodeListener()
    }
    var held: [Int: String] = [:]
    for (stationID, fd) in byStation { held[stationID] = links[fd]?.session.identity ?? "" }
    let elsewhere: [Int: String]
    do {
      try central.store.beginSavepoint("node")
      do {
        elsewhere = try central.nodeTick(held: held, at: now)
        try central.store.releaseSavepoint("node")
      } catch {
        try? central.store.rollbackToSavepoint("node")
        try? central.store.releaseSavepoint("node")
        throw error
      }
    } catch {
      central.log("error: node heartbeat failed: \(error)")
      return []
    }
    var touched: [Link] = []
    for (stationID, holder) in elsewhere {
      guard let fd = byStation[stationID], let link = links[fd] else { continue }
      byStation[stationID] = nil
      let reason = "taken over by node \(holder)"
      central.log("info: station reconnected to another node, closing this connection " + ServeLog.fields(
        ["identity": link.session.identity ?? "?", "node": holder]))
      noteCommandsAbandoned(link, reason: reason)
      link.session.close(.policyViolation, reason: reason)
      link.closing = true
      touched.append(link)
    }
    return touched
  }
}
