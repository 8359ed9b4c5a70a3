import CLinux
import EvctlCore
import Glibc

/// Wakes the event loop from another thread (a signal handler) to stop it.
public struct ServerStopper: Sendable {
  let fd: Int32

  /// Asks the server to stop: connections are closed with 1001 after committed work.
  public func stop() {
    var one: UInt64 = 1
    _ = write(fd, &one, 8)
  }
}

/// The transport: a non-blocking listener and connections on one epoll loop.
///
/// This is the only code that touches file descriptors. Every loop iteration handles all ready
/// sockets inside one store transaction, commits, and only then sends the answers: group commit.
public final class Server {
  final class Link {
    let fd: Int32
    let session: ConnectionSession
    var pending: [UInt8] = []
    var closing = false
    var watchingWrites = false
    init(fd: Int32, session: ConnectionSession) {
      self.fd = fd
      self.session = session
    }
  }

  let central: CentralSystem
  private let listenFD: Int32
  private let epollFD: Int32
  private let wakeFD: Int32
  private var links: [Int32: Link] = [:]
  private var byStation: [Int: Int32] = [:]
  private var pendingDisconnects: [(Int, String, String)] = []
  private var pendingAbandoned: [(RemoteCommand, Timestamp, String)] = []
  /// Commands handed to a session and not yet finished, so that a poll does not take them twice.
  private var dispatched: Set<Int> = []
  private var lastCommandPoll = Timestamp(milliseconds: 0)
  private var lastHousekeeping = Timestamp(milliseconds: 0)
  private var lastPrune = Timestamp(milliseconds: 0)
  /// The port actually bound (useful with port 0).
  public let port: UInt16
  /// A handle that stops ``run()`` from another thread.
  public var stopper: ServerStopper { ServerStopper(fd: wakeFD) }
  static let maxPendingBytes = 8 << 20

  /// Binds the listening socket.
  ///
  /// - Throws: ``SystemError`` when the address is in use or invalid.
  public init(central: CentralSystem) throws {
    self.central = central
    Server.raiseFileLimit()
    let config = central.configuration
    let fd = try syscall("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
    var yes: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = config.port.bigEndian
    guard inet_pton(AF_INET, config.host, &address.sin_addr) == 1 else {
      close(fd)
      throw SystemError(operation: "parse listen address '\(config.host)'", errno: EINVAL)
    }
    do {
      _ = try withUnsafePointer(to: &address) { pointer in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw throws(SystemError) in
          try syscall("bind") { bind(fd, raw, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
      }
      try syscall("listen") { listen(fd, 4096) }
    } catch {
      close(fd)
      throw error
    }
    var bound = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    port = UInt16(bigEndian: bound.sin_port)
    listenFD = fd
    epollFD = try syscall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    wakeFD = try syscall("eventfd") { eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC)) }
    try watch(listenFD, events: EPOLLIN.rawValue)
    try watch(wakeFD, events: EPOLLIN.rawValue)
  }

  deinit {
    close(listenFD)
    close(epollFD)
    close(wakeFD)
  }

  /// Raises the soft open-file limit to the hard limit, so that many stations fit.
  static func raiseFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
  }

  private func watch(_ fd: Int32, events: UInt32, modify: Bool = false) throws {
    var event = epoll_event()
    event.events = events
    event.data.fd = fd
    try syscall("epoll_ctl") {
      epoll_ctl(epollFD, modify ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event)
    }
  }

  /// Serves until ``ServerStopper/stop()`` is called.
  public func run() throws {
    try central.resetConnections()
    try central.store.abandonSentCommands(at: .now())
    let checkpointer = central.store.databasePath.map { Checkpointer(path: $0) }
    if checkpointer != nil { try central.store.db.execute("PRAGMA wal_autocheckpoint = 0") }
    checkpointer?.start()
    defer { checkpointer?.stop() }
    var events = [epoll_event](repeating: epoll_event(), count: 1024)
    var readBuffer = [UInt8](repeating: 0, count: 65_536)
    var stopping = false
    while !stopping {
      let count = epoll_wait(epollFD, &events, Int32(events.count), 100)
      if count < 0 && errno != EINTR { throw SystemError(operation: "epoll_wait", errno: errno) }
      let now = Timestamp.now()
      var touched: [Link] = []
      do {
        try central.store.db.execute("BEGIN IMMEDIATE")
      } catch let error as SQLiteError where error.isBusy {
        // Another process holds the write lock past the busy timeout (a long import): nothing is
        // read or answered until it lets go; epoll reports the same sockets again.
        central.log("warning: store is locked by another process; waiting")
        if count > 0 && events[0].data.fd == wakeFD { stopping = true }
        continue
      }
      do {
        try flushDisconnects(now: now)
        for index in 0..<max(Int(count), 0) {
          let fd = events[index].data.fd
          let flags = events[index].events
          if fd == listenFD {
            try acceptAll(now: now)
          } else if fd == wakeFD {
            stopping = true
          } else if let link = links[fd] {
            if flags & EPOLLOUT.rawValue != 0 { touched.append(link) }
            if flags & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
              try readAll(link, buffer: &readBuffer, now: now)
              touched.append(link)
            }
          }
        }
        if now.milliseconds - lastCommandPoll.milliseconds >= 100 {
          lastCommandPoll = now
          touched += try deliverCommands(now: now)
        }
        if now.milliseconds - lastHousekeeping.milliseconds >= 1000 {
          lastHousekeeping = now
          touched += housekeeping(now: now)
          try central.everySecond(at: now)
        }
        if now.milliseconds - lastPrune.milliseconds >= 3_600_000 {
          lastPrune = now
          try central.pruneMessageLog(at: now)
        }
        try central.flushLiveness()
        try central.store.db.execute("COMMIT")
      } catch {
        try? central.store.db.execute("ROLLBACK")
        central.log("error: batch not committed, closing its connections: \(error)")
        for link in touched {
          _ = link.session.takeOutput()
          closeLink(link, reason: "store error")
        }
        continue
      }
      for link in touched where links[link.fd] === link { flush(link) }
    }
    shutdownAll()
  }

  private func acceptAll(now: Timestamp) throws {
    while true {
      let fd = accept(listenFD, nil, nil)
      if fd < 0 {
        if errno == EINTR { continue }
        if errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED {
          central.log("warning: accept failed: \(SystemError(operation: "accept", errno: errno))")
        }
        return
      }
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      var yes: Int32 = 1
      setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
      let link = Link(fd: fd, session: ConnectionSession(central: central, now: now))
      link.session.peer = peerAddress(of: fd)
      links[fd] = link
      do {
        try watch(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
      } catch {
        links[fd] = nil
        close(fd)
      }
    }
  }

  private func readAll(_ link: Link, buffer: inout [UInt8], now: Timestamp) throws {
    while true {
      let received = buffer.withUnsafeMutableBytes { read(link.fd, $0.baseAddress, $0.count) }
      if received > 0 {
        let events = try link.session.receive(Array(buffer[0..<received]), now: now)
        try apply(events, link: link, now: now)
        if link.closing { return }
        continue
      }
      if received == 0 {
        link.closing = true
        noteClosed(link, reason: "connection closed by peer")
        return
      }
      if errno == EINTR { continue }
      if errno == EAGAIN || errno == EWOULDBLOCK { return }
      link.closing = true
      noteClosed(link, reason: "read failed: \(String(cString: strerror(errno)))")
      return
    }
  }

  private func apply(_ events: [SessionEvent], link: Link, now: Timestamp) throws {
    for event in events {
      switch event {
      case .admitted(let stationID, let identity):
        var replaced = false
        if let oldFD = byStation[stationID], let old = links[oldFD], old !== link {
          noteCommandsAbandoned(old, reason: "connection replaced")
          old.session.close(.policyViolation, reason: "connection replaced")
          old.closing = true
          flush(old)
          replaced = true
          central.log("info: older connection replaced " + ServeLog.fields(
            ["identity": identity, "peer": old.session.peer]))
        }
        central.log("info: station connected " + ServeLog.fields(
          ["identity": identity, "peer": link.session.peer]))
        byStation[stationID] = link.fd
        try central.connected(stationID: stationID, identity: identity, replaced: replaced, at: now)
      case .close(let reason):
        link.closing = true
        if link.session.stationID == nil {
          let served = reason.hasSuffix(" answered")
          central.log((served ? "info: file request " : "warning: connection refused ")
            + ServeLog.fields(["peer": link.session.peer, "reason": reason]))
        }
        noteClosed(link, reason: reason)
      }
    }
  }

  private func noteClosed(_ link: Link, reason: String) {
    noteCommandsAbandoned(link, reason: reason)
    guard let stationID = link.session.stationID, let identity = link.session.identity else { return }
    central.log("info: station disconnected " + ServeLog.fields(
      ["identity": identity, "peer": link.session.peer, "reason": reason]))
    if byStation[stationID] == link.fd { byStation[stationID] = nil }
    pendingDisconnects.append((stationID, identity, reason))
  }

  /// Hands queued commands to the sessions of connected stations; expires the stale ones.
  private func deliverCommands(now: Timestamp) throws -> [Link] {
    var touched: [Link] = []
    for queued in try central.store.queuedCommands() where !dispatched.contains(queued.id) {
      if queued.expiresAt <= now {
        try central.store.finishCommand(
          queued.id, state: .expired, status: nil, response: nil,
          error: "not delivered before \(queued.expiresAt.iso8601)", at: now, latencyMilliseconds: nil)
        continue
      }
      guard let fd = byStation[queued.stationID], let link = links[fd], link.session.isOpen else {
        continue
      }
      dispatched.insert(queued.id)
      try link.session.enqueue(try central.store.command(queued.id), now: now)
      touched.append(link)
    }
    return touched
  }

  private func flushDisconnects(now: Timestamp) throws {
    for (command, sentAt, reason) in pendingAbandoned {
      try central.commandFinished(
        command, state: .failed, status: nil, response: nil,
        error: "\(reason) before the station answered; outcome unknown", sentAt: sentAt, at: now)
    }
    pendingAbandoned.removeAll()
    for (stationID, identity, reason) in pendingDisconnects {
      try central.disconnected(
        stationID: stationID, identity: identity, reason: reason,
        stillConnected: byStation[stationID] != nil, at: now)
    }
    pendingDisconnects.removeAll()
  }

  private func housekeeping(now: Timestamp) -> [Link] {
    var touched: [Link] = []
    for link in links.values where link.session.isOpen {
      let session = link.session
      if (try? session.expireInFlight(now: now)) == true { touched.append(link) }
      if let sent = session.pingSentAt, now.milliseconds - sent.milliseconds > central.configuration.pongTimeout * 1000 {
        session.close(.goingAway, reason: "no pong")
        link.closing = true
        noteClosed(link, reason: "no pong within \(central.configuration.pongTimeout) s")
        touched.append(link)
      } else if session.pingSentAt == nil,
        now.milliseconds - session.lastFrameAt.milliseconds > central.configuration.pingInterval * 1000
      {
        session.ping(now: now)
        touched.append(link)
      }
    }
    for link in links.values where !link.session.isOpen && !link.closing {
      if now.milliseconds - link.session.lastFrameAt.milliseconds > 30_000 {
        link.closing = true
        touched.append(link)
      }
    }
    return touched
  }

  private func flush(_ link: Link) {
    link.pending += link.session.takeOutput()
    while !link.pending.isEmpty {
      let sent = link.pending.withUnsafeBytes { send(link.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if sent > 0 {
        link.pending.removeFirst(sent)
        continue
      }
      if sent < 0 && errno == EINTR { continue }
      if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
        if link.pending.count > Server.maxPendingBytes {
          noteClosed(link, reason: "slow reader: more than \(Server.maxPendingBytes) bytes unsent")
          closeLink(link, reason: "slow reader")
          return
        }
        if !link.watchingWrites {
          link.watchingWrites = true
          try? watch(link.fd, events: EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue, modify: true)
        }
        return
      }
      link.closing = true
      break
    }
    if link.pending.isEmpty && link.watchingWrites && !link.closing {
      link.watchingWrites = false
      try? watch(link.fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue, modify: true)
    }
    if link.closing { closeLink(link, reason: "closed") }
  }

  private func closeLink(_ link: Link, reason: String) {
    guard links[link.fd] === link else { return }
    noteCommandsAbandoned(link, reason: reason)
    epoll_ctl(epollFD, EPOLL_CTL_DEL, link.fd, nil)
    close(link.fd)
    links[link.fd] = nil
    if let station = link.session.stationID, byStation[station] == link.fd {
      byStation[station] = nil
      pendingDisconnects.append((station, link.session.identity ?? "", reason))
    }
  }

  private func noteCommandsAbandoned(_ link: Link, reason: String) {
    let held = link.session.abandonCommands(reason: reason)
    for id in held.waiting { dispatched.remove(id) }
    if let command = held.inFlight, let sentAt = held.sentAt {
      dispatched.remove(command.id)
      pendingAbandoned.append((command, sentAt, reason))
    }
  }

  private func shutdownAll() {
    for link in Array(links.values) {
      link.session.close(.goingAway, reason: "server shutting down")
      link.closing = true
      noteClosed(link, reason: "server shutting down")
      flush(link)
    }
    try? central.store.db.transaction { try flushDisconnects(now: .now()) }
  }
}
