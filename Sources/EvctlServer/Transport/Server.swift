import CLinux
import EvctlCore
import Glibc

/// Wakes the event loop from another thread (a signal handler) to stop it.
public struct ServerStopper: Sendable {
  let fd: Int32
  let reloadFD: Int32

  /// Asks the server to read its TLS certificate and key again (SIGHUP); connections stay.
  public func reloadCertificates() {
    var one: UInt64 = 1
    _ = write(reloadFD, &one, 8)
  }

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
    /// The TLS channel of a connection accepted on the TLS listener.
    var tls: TLSChannel?
    /// A download streamed after ``pending`` drains, one bounded chunk at a time.
    var body: FileBody?
    /// When bytes last left for this link, so that a stalled download is dropped, a slow one never.
    var lastSentAt: Timestamp
    init(fd: Int32, session: ConnectionSession, now: Timestamp) {
      self.fd = fd
      self.session = session
      lastSentAt = now
    }
  }

  let central: CentralSystem
  /// The plain listener, or -1 when serve listens only for TLS.
  private let listenFD: Int32
  /// The TLS listener, or -1.
  private let tlsListenFD: Int32
  private let tlsContext: TLSContext?
  let epollFD: Int32
  private let wakeFD: Int32
  private let reloadFD: Int32
  var links: [Int32: Link] = [:]
  var byStation: [Int: Int32] = [:]
  private var pendingDisconnects: [(Int, String, String)] = []
  private var pendingAbandoned: [(RemoteCommand, Timestamp, String)] = []
  /// Commands handed to a session and not yet finished, so that a poll does not take them twice.
  private var dispatched: Set<Int> = []
  var lastCommandPoll = Timestamp(milliseconds: 0)
  /// The node's LISTEN connection and heartbeat times (several nodes on PostgreSQL).
  var nodeState = NodeLoopState()
  private var lastHousekeeping = Timestamp(milliseconds: 0)
  private var lastPrune = Timestamp(milliseconds: 0)
  private var lastHeartbeat = Timestamp(milliseconds: 0)
  /// Whether old commands remain to be deleted or trimmed, a bounded chunk a second.
  private var commandPruneDue = false
  /// The last time a failure inside a batch was logged, so that a repeating one cannot flood.
  private var lastFailureLog = Timestamp(milliseconds: 0)
  private var failuresNotLogged = 0
  private let descriptors = DescriptorGuard()
  /// Caps the TLS handshakes in flight (HandshakeGate.swift).
  private let handshakeGate = HandshakeGate.fromEnvironment()
  /// Handshakes finished since freed heap memory was last given back to the system.
  private var handshakesSinceTrim = 0
  private var lastTrim = Timestamp(milliseconds: 0)
  /// How often at most serve gives freed heap back (`malloc_trim`) after handshakes.
  static let trimIntervalMilliseconds: Int64 = 5_000
  /// Takes the write lock for each batch without waiting long (StoreLock.swift).
  private var storeLock = StoreLock()
  /// Rides out a lost PostgreSQL connection (StoreReconnect.swift).
  private var storeReconnect = StoreReconnect(
    environment: getenv("EVCTL_RECONNECT_SECONDS").map { ["EVCTL_RECONNECT_SECONDS": String(cString: $0)] } ?? [:])
  /// The port actually bound (useful with port 0): the plain listener's, else the TLS one's.
  public let port: UInt16
  /// The TLS listener's port, when there is one.
  public let tlsPort: UInt16?
  /// A handle that stops ``run()`` (or reloads certificates) from another thread.
  public var stopper: ServerStopper { ServerStopper(fd: wakeFD, reloadFD: reloadFD) }
  static let maxPendingBytes = 8 << 20
  /// How much of a download is read from disk at a time.
  static let fileChunkBytes = 256 << 10
  /// A download that takes no byte for this long is dropped.
  static let stalledDownloadMilliseconds: Int64 = 60_000

  /// Binds the listening socket.
  ///
  /// - Throws: ``SystemError`` when the address is in use or invalid.
  public init(central: CentralSystem) throws {
    self.central = central
    Server.raiseFileLimit()
    let config = central.configuration
    var plain: (fd: Int32, port: UInt16)?
    if config.plainListener {
      plain = try Listener.open(ListenAddress(host: config.host, port: config.port))
    }
    var secure: (fd: Int32, port: UInt16)?
    var context: TLSContext?
    if let settings = config.tls {
      do {
        context = try TLSContext(settings: settings)
        secure = try Listener.open(settings.address)
      } catch {
        if let plain { close(plain.fd) }
        throw error
      }
    }
    listenFD = plain?.fd ?? -1
    tlsListenFD = secure?.fd ?? -1
    tlsContext = context
    port = plain?.port ?? secure?.port ?? 0
    tlsPort = secure?.port
    epollFD = try syscall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    wakeFD = try syscall("eventfd") { eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC)) }
    reloadFD = try syscall("eventfd") { eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC)) }
    if listenFD >= 0 { try watch(listenFD, events: EPOLLIN.rawValue) }
    if tlsListenFD >= 0 { try watch(tlsListenFD, events: EPOLLIN.rawValue) }
    try watch(wakeFD, events: EPOLLIN.rawValue)
    try watch(reloadFD, events: EPOLLIN.rawValue)
  }

  deinit {
    if listenFD >= 0 { close(listenFD) }
    if tlsListenFD >= 0 { close(tlsListenFD) }
    close(epollFD)
    close(wakeFD)
    close(reloadFD)
  }

  /// Raises the soft open-file limit to the hard limit, so that many stations fit.
  static func raiseFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
  }

  func watch(_ fd: Int32, events: UInt32, modify: Bool = false) throws {
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
    openNodeListener()
    defer { central.stopNode() }
    // Acknowledged means durable even across power loss: every commit (one per batch) waits for
    // fsync of the WAL (issue 11 item 7).
    try central.store.makeCommitsDurable()
    let checkpointer = central.store.databasePath.map { Checkpointer(path: $0) }
    if checkpointer != nil { try central.store.disableAutomaticCheckpoints() }
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
      // A lost PostgreSQL connection: nothing is read or answered until it is back.
      var began = false
      if try storeReconnect.ready(central.store, now: now, log: central.log) {
        do {
          began = try storeLock.begin(central.store, now: now, log: central.log)
        } catch {
          // The connection went while idle: the next turn connects again.
          if !central.store.hasLostConnection { throw error }
        }
      }
      guard began else {
        // Another process holds the write lock: nothing is read or answered in this turn, and
        // the loop never waits long for it; epoll reports the same sockets again next turn.
        for index in 0..<max(Int(count), 0) where events[index].data.fd == wakeFD { stopping = true }
        continue
      }
      do {
        try flushDisconnects(now: now)
        for index in 0..<max(Int(count), 0) {
          let fd = events[index].data.fd
          let flags = events[index].events
          if fd == listenFD || fd == tlsListenFD {
            try acceptAll(from: fd, now: now)
          } else if fd == wakeFD {
            stopping = true
          } else if fd == reloadFD {
            reloadCertificates()
          } else if fd == nodeState.listenerFD {
            drainNodeListener()
          } else if let link = links[fd] {
            if flags & EPOLLOUT.rawValue != 0 { touched.append(link) }
            if flags & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
              if let tls = link.tls, tls.handshaking { tls.heardAt = now }
              // One station's failing frame rolls back only its own work and closes only it.
              if let error = isolated({ try readAll(link, buffer: &readBuffer, now: now) }) {
                fail(link, error: error, now: now)
              }
              touched.append(link)
            }
          }
        }
        if now.milliseconds - lastCommandPoll.milliseconds >= commandPollMilliseconds {
          lastCommandPoll = now
          touched += try deliverCommands(now: now)
          try central.noticeAllocationChanges(at: now)
        }
        if now.milliseconds - lastHousekeeping.milliseconds >= 1000 {
          lastHousekeeping = now
          touched += housekeeping(now: now)
          touched += closeDeletedStations(now: now)
          touched += nodeHousekeeping(now: now)
          if let paused = descriptors.pausedAt, now.milliseconds - paused.milliseconds >= 1000 { resumeListener() }
          if let error = isolated({ try reportExhaustion(now: now) }) {
            logFailure("reporting descriptor exhaustion failed: \(error)", now: now)
          }
          if let error = isolated({ try central.everySecond(at: now) }) {
            logFailure("housekeeping failed: \(error)", now: now)
          }
          // An import killed half-way: one chunk per second is finished or discarded.
          if let error = isolated({ try central.store.resumeInterruptedImports(maxChunks: 1, pausing: false) }) {
            logFailure("resuming an interrupted import failed: \(error)", now: now)
          }
          if now.milliseconds - lastHeartbeat.milliseconds >= Store.serveHeartbeatSeconds * 1000 {
            lastHeartbeat = now
            if !(try heartbeat()) { stopping = true }
          }
          if commandPruneDue { pruneCommandsStep(now: now) }
          if tlsListenFD >= 0 { trimAfterHandshakes(now: now) }
        }
        if now.milliseconds - lastPrune.milliseconds >= 3_600_000 {
          lastPrune = now
          try central.pruneMessageLog(at: now)
          commandPruneDue = true
        }
        if let error = isolated({ try central.flushLiveness() }) {
          central.discardPendingWrites()
          logFailure("message log and liveness not written: \(error)", now: now)
        }
        try central.store.commit()
      } catch {
        try? central.store.rollback()
        central.log("error: batch not committed, closing its connections: \(error)")
        // What the batch gathered in memory is dropped, and the disconnects it flushed were taken
        // off their list first (only the ones noted since are kept): a failure never repeats.
        central.discardPendingWrites()
        for link in touched {
          _ = link.session.takeOutput()
          closeLink(link, reason: "store error")
        }
        if (0..<max(Int(count), 0)).contains(where: { events[$0].data.fd == wakeFD }) { stopping = true }
        continue
      }
      for link in touched where links[link.fd] === link { flush(link) }
      if handshakeGate.hasWaiting { startWaitingHandshakes(now: now) }
    }
    shutdownAll()
  }

  private func acceptAll(from listener: Int32, now: Timestamp) throws {
    var handshaking = listener == tlsListenFD ? handshakeGate.active(now: now) : 0
    while true {
      let fd = accept(listener, nil, nil)
      if fd < 0 {
        let error = errno
        if error == EINTR || error == ECONNABORTED { continue }
        if DescriptorGuard.isExhaustion(error) {
          let outcome = descriptors.refuseOne(listener: listener, now: now)
          if !outcome.reserve { pauseListener(now: now) }
          try reportExhaustion(now: now)
          if outcome.refused && outcome.reserve { continue }
          return
        }
        if error != EAGAIN && error != EWOULDBLOCK {
          central.log("warning: accept failed: \(SystemError(operation: "accept", errno: error))")
        }
        return
      }
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      var yes: Int32 = 1
      setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
      let link = Link(fd: fd, session: ConnectionSession(central: central, now: now), now: now)
      link.session.peer = peerAddress(of: fd)
      if listener == tlsListenFD, let tlsContext {
        do {
          let channel = try tlsContext.channel(fd: fd, now: now)
          link.tls = channel
        } catch {
          central.log("warning: TLS connection not set up: \(error)")
          close(fd)
          continue
        }
      }
      links[fd] = link
      // Above the cap a TLS connection is accepted (the backlog stays short, so clients are not
      // left to SYN retransmits) but not read until a handshake slot is free.
      var events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
      if let channel = link.tls {
        if handshaking < handshakeGate.limit && !handshakeGate.hasWaiting {
          handshakeGate.admitted(fd: fd, channel)
          handshaking += 1
        } else {
          handshakeGate.wait(fd: fd, channel)
          events = 0
        }
      }
      do {
        try watch(fd, events: events)
      } catch {
        links[fd] = nil
        close(fd)
      }
    }
  }

  /// Stops polling the listeners: nothing can be accepted until a descriptor is freed.
  private func pauseListener(now: Timestamp) {
    guard descriptors.pausedAt == nil else { return }
    descriptors.paused(at: now)
    for listener in [listenFD, tlsListenFD] where listener >= 0 { try? watch(listener, events: 0, modify: true) }
  }

  private func resumeListener() {
    guard descriptors.pausedAt != nil else { return }
    descriptors.resumed()
    for listener in [listenFD, tlsListenFD] where listener >= 0 {
      try? watch(listener, events: EPOLLIN.rawValue, modify: true)
    }
  }

  /// Starts reading the TLS connections that waited for a handshake slot, oldest first.
  private func startWaitingHandshakes(now: Timestamp) {
    var free = handshakeGate.limit - handshakeGate.active(now: now)
    while free > 0, let (fd, channel) = handshakeGate.nextWaiting() {
      guard let link = links[fd], link.tls === channel, !link.closing else { continue }
      channel.queued = false
      channel.startedAt = now
      channel.heardAt = now
      handshakeGate.admitted(fd: fd, channel)
      try? watch(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue, modify: true)
      free -= 1
    }
  }

  /// Gives the heap that finished handshakes freed back to the system (glibc keeps it otherwise:
  /// ≈ 6 KiB per connection after a burst), at most every ``trimIntervalMilliseconds``.
  private func trimAfterHandshakes(now: Timestamp) {
    _ = handshakeGate.active(now: now)
    handshakesSinceTrim += handshakeGate.takeFinished()
    guard handshakesSinceTrim > 0, now.milliseconds - lastTrim.milliseconds >= Server.trimIntervalMilliseconds
    else { return }
    handshakesSinceTrim = 0
    lastTrim = now
    _ = malloc_trim(0)
  }

  /// Logs (at most once per interval) and alarms that connections are refused for lack of
  /// descriptors; clears the alarm once a whole interval passed without a refusal.
  private func reportExhaustion(now: Timestamp) throws {
    if let line = descriptors.logLine(now: now) {
      central.log(line)
      try central.raise(
        .resourceExhausted, stationID: nil, identity: "serve", code: "EMFILE",
        detail: "out of file descriptors: new connections are refused", at: now)
    } else if descriptors.recovered(now: now) {
      central.log("info: file descriptors available again; \(descriptors.refusedTotal) connections were refused in all")
      try central.store.clearUnattachedAlarms(identity: "serve", kind: .resourceExhausted, at: now)
    }
  }

  private func readAll(_ link: Link, buffer: inout [UInt8], now: Timestamp) throws {
    while true {
      switch link.receive(into: &buffer) {
      case .bytes(let received):
        let events = try link.session.receive(Array(buffer[0..<received]), now: now)
        try apply(events, link: link, now: now)
        if link.closing { return }
      case .secured(let security):
        link.session.channel = security
        if link.watchingWrites && link.pending.isEmpty {
          link.watchingWrites = false
          try? watch(link.fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue, modify: true)
        }
      case .wouldBlock:
        return
      case .wantsWrite:
        if !link.watchingWrites {
          link.watchingWrites = true
          try? watch(link.fd, events: EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue, modify: true)
        }
        return
      case .closed:
        link.closing = true
        noteClosed(link, reason: "connection closed by peer")
        return
      case .failed(let reason):
        link.closing = true
        if link.tls?.handshaking == true { central.log("info: refused connection: \(reason)") }
        noteClosed(link, reason: reason)
        return
      }
    }
  }

  /// Reads the TLS certificate and key again (SIGHUP): new handshakes get them, established
  /// connections keep theirs; a certificate that does not load leaves the old one in use.
  private func reloadCertificates() {
    var count: UInt64 = 0
    _ = read(reloadFD, &count, 8)
    guard let tlsContext else {
      central.log("info: SIGHUP: no TLS listener; nothing to reload")
      return
    }
    do {
      try tlsContext.reload()
      central.log("info: SIGHUP: TLS certificate and key reloaded from \(tlsContext.settings.certificatePath)")
    } catch {
      central.log("error: SIGHUP: TLS certificate not reloaded, the old one stays in use: \(error)")
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
        try central.noteChannel(stationID: stationID, channel: link.session.channel, at: now)
      case .close(let reason):
        link.closing = true
        if link.session.stationID == nil && !reason.hasSuffix(CentralSystem.quietRefusal) {
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
    // One a session could not claim (the station had moved to another node) is handed out
    // again: it may be back here while the command is still queued.
    dispatched.subtract(central.unclaimedCommands)
    central.unclaimedCommands.removeAll()
    let queuedCommands = try central.store.queuedCommands()
    for queued in queuedCommands where !dispatched.contains(queued.id) {
      if queued.expiresAt <= now {
        try central.store.expireIfQueued(
          queued.id, reason: "not delivered before \(queued.expiresAt.iso8601)")
        continue
      }
      guard let fd = byStation[queued.stationID], let link = links[fd], link.session.isOpen else {
        continue
      }
      dispatched.insert(queued.id)
      if let error = isolated({ try link.session.enqueue(try central.store.command(queued.id), now: now) }) {
        fail(link, error: error, now: now)
      }
      touched.append(link)
    }
    // Only a queued command can be dispatched twice; forget the ones that moved on.
    dispatched.formIntersection(queuedCommands.map(\.id))
    return touched
  }

  /// Runs `body` inside a savepoint: on failure only its own work is rolled back, and the error
  /// is returned for the caller to isolate.
  private func isolated(_ body: () throws -> Void) -> (any Error)? {
    let store = central.store
    do {
      try store.beginSavepoint("unit")
    } catch {
      return error
    }
    do {
      try body()
      try store.releaseSavepoint("unit")
      return nil
    } catch {
      try? store.rollbackToSavepoint("unit")
      try? store.releaseSavepoint("unit")
      return error
    }
  }

  /// Closes a connection whose work failed and was rolled back: the answers it produced are
  /// dropped (their data is not in the store) and it gets a 1011 close; the rest of the batch
  /// goes on.
  private func fail(_ link: Link, error: any Error, now: Timestamp) {
    _ = link.session.takeOutput()
    logFailure("\(link.session.identity ?? "connection") failed and is closed: \(error)", now: now)
    link.session.close(.internalError, reason: "internal error")
    link.closing = true
    noteClosed(link, reason: "store error")
  }

  /// Logs a failure, at most once a second with a count of the ones in between.
  private func logFailure(_ message: String, now: Timestamp) {
    guard now.milliseconds - lastFailureLog.milliseconds >= 1000 else {
      failuresNotLogged += 1
      return
    }
    lastFailureLog = now
    let more = failuresNotLogged > 0 ? " (and \(failuresNotLogged) more failures not logged)" : ""
    failuresNotLogged = 0
    central.log("error: " + message + more)
  }

  /// Closes the connections of stations deleted from the store (`station delete` while
  /// connected): 1008, no disconnect event (there is no station to record it for).
  private func closeDeletedStations(now: Timestamp) -> [Link] {
    guard !byStation.isEmpty, let existing = try? central.store.existingStationIDs(Array(byStation.keys))
    else { return [] }
    var touched: [Link] = []
    for (stationID, fd) in byStation where !existing.contains(stationID) {
      byStation[stationID] = nil
      guard let link = links[fd] else { continue }
      central.log("info: \(link.session.identity ?? "?") was deleted from the store; closing its connection")
      noteCommandsAbandoned(link, reason: "station deleted")
      link.session.close(.policyViolation, reason: "station deleted")
      link.closing = true
      touched.append(link)
    }
    return touched
  }

  /// Writes the serve lock's heartbeat; `false` when another process took the store over.
  private func heartbeat() throws -> Bool {
    guard let owner = central.configuration.lockOwner else { return true }
    if try central.store.serveHeartbeat(pid: owner.pid, host: owner.host) { return true }
    central.log("error: another process took over this store's serve lock; stopping")
    return false
  }

  /// Deletes and trims old commands in bounded chunks (`--command-retention`).
  private func pruneCommandsStep(now: Timestamp) {
    let configuration = central.configuration
    var done = (deleted: 0, trimmed: 0)
    let error = isolated {
      done = try central.store.pruneCommands(
        deleteBefore: now.adding(seconds: -configuration.commandRetentionSeconds),
        trimBefore: now.adding(seconds: -configuration.commandPayloadRetentionSeconds))
    }
    if let error { logFailure("command retention failed: \(error)", now: now) }
    if error != nil || (done.deleted < 5_000 && done.trimmed < 5_000) { commandPruneDue = false }
  }

  /// Records abandoned commands and disconnects, each on its own: one that fails (its station
  /// was deleted) is logged and dropped, never retried.
  private func flushDisconnects(now: Timestamp) throws {
    let abandoned = pendingAbandoned
    let disconnects = pendingDisconnects
    pendingAbandoned.removeAll()
    pendingDisconnects.removeAll()
    for (command, sentAt, reason) in abandoned {
      if let error = isolated({
        try central.commandFinished(
          command, state: .failed, status: nil, response: nil,
          error: "\(reason) before the station answered; outcome unknown", sentAt: sentAt, at: now)
      }) {
        logFailure("command \(command.id) not recorded as failed: \(error)", now: now)
      }
    }
    for (stationID, identity, reason) in disconnects {
      if let error = isolated({
        try central.disconnected(
          stationID: stationID, identity: identity, reason: reason,
          stillConnected: byStation[stationID] != nil, at: now)
      }) {
        logFailure("disconnect of \(identity) not recorded: \(error)", now: now)
      }
    }
  }

  private func housekeeping(now: Timestamp) -> [Link] {
    var touched: [Link] = []
    for link in links.values where link.session.isOpen {
      let session = link.session
      var expired = false
      if let error = isolated({ expired = try session.expireInFlight(now: now) }) {
        logFailure("\(session.identity ?? "?"): timing out a command failed: \(error)", now: now)
      }
      if expired { touched.append(link) }
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
    for link in links.values where !link.pending.isEmpty || link.body != nil {
      if now.milliseconds - link.lastSentAt.milliseconds > Server.stalledDownloadMilliseconds {
        noteClosed(link, reason: "no byte taken for \(Server.stalledDownloadMilliseconds / 1000) s")
        closeLink(link, reason: "stalled reader")
      }
    }
    if let timeout = central.configuration.tls?.handshakeTimeoutSeconds {
      for link in links.values where link.tls?.handshaking == true && link.tls?.queued == false && !link.closing {
        if let tls = link.tls, now.milliseconds - tls.startedAt.milliseconds > timeout * 1000 {
          link.closing = true
          touched.append(link)
        }
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

  func flush(_ link: Link) {
    if let tls = link.tls, tls.handshaking, !link.closing {
      // Nothing to send before the handshake is done; it may be waiting for writability.
      guard tls.handshakeWantsWrite else { return }
      var none: [UInt8] = []
      switch link.receive(into: &none) {
      case .secured(let security):
        link.session.channel = security
      case .failed(let reason):
        central.log("info: refused connection: \(reason)")
        link.closing = true
      case .closed:
        link.closing = true
      default:
        return
      }
    }
    link.pending += link.session.takeOutput()
    if let body = link.session.takeFileBody() { link.body = body }
    while true {
      if link.pending.isEmpty, let body = link.body {
        do {
          link.pending = try body.read(upTo: Server.fileChunkBytes)
        } catch {
          central.log("error: download cut off: \(error)")
          link.pending = []
          link.closing = true
        }
        if link.pending.isEmpty {
          body.close()
          link.body = nil
        }
      }
      if link.pending.isEmpty { break }
      let step = link.pending.withUnsafeBytes { link.transmit($0) }
      if case .bytes(let sent) = step {
        link.pending.removeFirst(sent)
        link.lastSentAt = .now()
        continue
      }
      if case .wouldBlock = step {
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
    if link.pending.isEmpty && link.body == nil && link.watchingWrites && !link.closing {
      link.watchingWrites = false
      try? watch(link.fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue, modify: true)
    }
    if link.closing { closeLink(link, reason: "closed") }
  }

  private func closeLink(_ link: Link, reason: String) {
    guard links[link.fd] === link else { return }
    noteCommandsAbandoned(link, reason: reason)
    epoll_ctl(epollFD, EPOLL_CTL_DEL, link.fd, nil)
    if let tls = link.tls { handshakeGate.forget(fd: link.fd, tls) }
    link.tls?.shutdown()
    close(link.fd)
    resumeListener()
    link.body?.close()
    link.body = nil
    links[link.fd] = nil
    if let station = link.session.stationID, byStation[station] == link.fd {
      byStation[station] = nil
      pendingDisconnects.append((station, link.session.identity ?? "", reason))
    }
  }

  func noteCommandsAbandoned(_ link: Link, reason: String) {
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
    try? central.store.atomically { try flushDisconnects(now: .now()) }
  }
}
