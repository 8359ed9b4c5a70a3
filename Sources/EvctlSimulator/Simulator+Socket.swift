import CLinux
import EvctlCore
import EvctlServer
import Glibc

extension Simulator {
  /// Opens a non-blocking TCP connection; the handshake follows when it is writable.
  func connect(_ station: SimStation) {
    let fd = socket(Int32(address.ss_family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else {
      fail(station, event: .connectFailed("socket: \(String(cString: strerror(errno)))"), reason: "socket")
      return
    }
    var yes: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
    let status = withUnsafePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, addressLength) }
    }
    if status != 0 && errno != EINPROGRESS {
      let reason = String(cString: strerror(errno))
      Glibc.close(fd)
      fail(station, event: .connectFailed(reason.lowercased()), reason: "connect")
      return
    }
    station.fd = fd
    station.link = .connecting
    station.input = []
    station.output = []
    station.connectStartedAt = now
    station.connectDeadline = now + 20
    takeHandshakeSlot(station)
    station.assembler = WebSocketMessageAssembler(maxMessage: 4 << 20)
    byFD[fd] = station.index
    var event = epoll_event()
    event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue
    event.data.fd = fd
    epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event)
    station.watchingWrites = true
  }

  /// The socket can take bytes: finish connecting, or flush what is queued.
  func writable(_ station: SimStation) {
    if station.link == .connecting {
      var error: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      getsockopt(station.fd, SOL_SOCKET, SO_ERROR, &error, &length)
      guard error == 0 else {
        fail(station, event: .connectFailed(String(cString: strerror(error)).lowercased()), reason: "connect")
        return
      }
      if let tlsContext {
        guard let session = tlsContext.session(fd: station.fd, host: options.url.host) else {
          fail(station, event: .connectFailed("TLS: cannot create a session"), reason: "TLS")
          return
        }
        station.tls = session
        station.link = .securing
        secure(station)
        return
      }
      upgrade(station)
      return
    }
    if station.link == .securing {
      secure(station)
      return
    }
    flush(station)
  }

  /// Advances the TLS handshake; the WebSocket upgrade follows it.
  func secure(_ station: SimStation) {
    guard let session = station.tls else { return }
    switch session.handshake() {
    case .done:
      upgrade(station)
    case .wantRead:
      watch(station, writes: false)
    case .wantWrite:
      watch(station, writes: true)
    case .failed(let reason):
      fail(station, event: .connectFailed("TLS: \(reason)"), reason: "TLS")
    }
  }

  func watch(_ station: SimStation, writes: Bool) {
    guard writes != station.watchingWrites else { return }
    var event = epoll_event()
    event.events = EPOLLIN.rawValue | (writes ? EPOLLOUT.rawValue : 0)
    event.data.fd = station.fd
    epoll_ctl(epollFD, EPOLL_CTL_MOD, station.fd, &event)
    station.watchingWrites = writes
  }

  /// Sends the WebSocket upgrade request.
  func upgrade(_ station: SimStation) {
    do {
      station.link = .handshaking
      let key = (0..<2).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
      let handshake = ClientHandshake(
        url: options.url, identity: station.identity, password: options.password, key: key,
        subprotocol: !options.misbehave.contains(.noSubprotocol))
      station.handshake = handshake
      send(station, handshake.request)
    }
  }

  /// Reads everything available and handles it.
  func readable(_ station: SimStation) {
    if station.link == .securing {
      secure(station)
      return
    }
    var closed = false
    while true {
      let count: Int
      if let tls = station.tls {
        count = tls.read(readBuffer, 65_536)
        if count == -1 { break }
        if count == -2 {
          closed = true
          break
        }
      } else {
        count = read(station.fd, readBuffer, 65_536)
      }
      if count > 0 {
        station.input.append(contentsOf: UnsafeBufferPointer(start: readBuffer, count: count))
        if count < 65_536 && station.tls == nil { break }
      } else if count == 0 {
        closed = true
        break
      } else {
        if errno == EAGAIN || errno == EWOULDBLOCK { break }
        if errno == EINTR { continue }
        if station.link == .connecting {
          fail(station, event: .connectFailed(String(cString: strerror(errno)).lowercased()), reason: "connect")
          return
        }
        closed = true
        break
      }
    }
    if station.link == .connecting {
      if closed {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(station.fd, SOL_SOCKET, SO_ERROR, &error, &length)
        fail(station, event: .connectFailed(String(cString: strerror(error == 0 ? ECONNREFUSED : error)).lowercased()), reason: "connect")
      }
      return
    }
    if station.link == .handshaking {
      guard let handshake = station.handshake else { return }
      switch handshake.read(station.input, closed: closed) {
      case .incomplete:
        return
      case .refused(let status, let reason):
        fail(station, event: .refused(status: status, reason: reason), reason: "HTTP \(status)")
        return
      case .invalid(let reason):
        fail(station, event: .refused(status: 0, reason: reason), reason: "handshake")
        return
      case .upgraded(_, let rest):
        station.input = rest
        opened(station)
      }
    }
    guard station.link == .open else { return }
    while station.link == .open {
      let frame: WebSocketFrame?
      do {
        frame = try ClientFrames.decode(&station.input)
      } catch {
        stats.count("protocol: \(error.reason)")
        send(station, ClientFrames.close(error.code, mask: random.mask()))
        dropped(station, reason: "protocol error from the server: \(error.reason)")
        return
      }
      guard let frame else { break }
      let event: WebSocketEvent?
      do {
        event = try station.assembler.receive(frame)
      } catch {
        stats.count("protocol: \(error.reason)")
        dropped(station, reason: "protocol error from the server: \(error.reason)")
        return
      }
      switch event {
      case .text(let text): receive(station, text)
      case .ping(let payload): send(station, ClientFrames.encode(.pong, payload, mask: random.mask()))
      case .close(let code):
        send(station, ClientFrames.close(code ?? .normal, mask: random.mask()))
        dropped(station, reason: "the server closed the connection" + (code.map { " (\($0.rawValue))" } ?? ""))
        return
      case .pong, nil: break
      }
    }
    if closed && station.link == .open { dropped(station, reason: "the server closed the connection") }
  }

  /// Queues bytes and writes as much as the socket takes.
  func send(_ station: SimStation, _ bytes: [UInt8]) {
    guard station.fd >= 0 else { return }
    station.output += bytes
    flush(station)
  }

  func flush(_ station: SimStation) {
    guard station.fd >= 0, station.link != .connecting, station.link != .securing else { return }
    while !station.output.isEmpty {
      let written: Int
      if let tls = station.tls {
        written = station.output.withUnsafeBytes { tls.write($0) }
        if written == -1 { break }
        if written == -2 {
          station.output = []
          break
        }
      } else {
        written = station.output.withUnsafeBytes { write(station.fd, $0.baseAddress, $0.count) }
      }
      if written > 0 {
        station.output.removeFirst(written)
      } else if written < 0 && errno == EINTR {
        continue
      } else {
        break
      }
    }
    watch(station, writes: !station.output.isEmpty)
  }

  /// The WebSocket is open: boot.
  func opened(_ station: SimStation) {
    station.link = .open
    station.connectDeadline = nil
    releaseHandshakeSlot(station)
    station.failures = 0
    stats.connected(connectSeconds: now - station.connectStartedAt, first: !station.everConnected, at: now)
    if station.everConnected { stats.reconnects += 1 }
    station.everConnected = true
    emit(station, .connected)
    station.registration = .none
    station.bootAt = now
  }

  /// A connection attempt failed: report it and try again later.
  func fail(_ station: SimStation, event: SimEvent, reason: String) {
    stats.count(reason)
    closeSocket(station)
    emit(station, event)
    retryLater(station)
  }

  /// An open connection ended.
  func dropped(_ station: SimStation, reason: String) {
    stats.count("disconnected")
    closeSocket(station)
    emit(station, .disconnected(reason))
    retryLater(station)
  }

  /// Backoff with jitter: 1, 2, 4 … 60 s, each drawn between half and the whole of it.
  func retryLater(_ station: SimStation) {
    guard options.reconnect, !stopping else { return }
    let base = min(60, pow(2, Double(min(station.failures, 6))))
    station.failures += 1
    station.reconnectAt = now + base * (0.5 + 0.5 * random.unit())
  }

  func closeSocket(_ station: SimStation) {
    if station.fd >= 0 {
      flush(station)
      epoll_ctl(epollFD, EPOLL_CTL_DEL, station.fd, nil)
      byFD[station.fd] = nil
      Glibc.close(station.fd)
    }
    station.fd = -1
    station.tls = nil
    station.link = .down
    station.connectDeadline = nil
    station.handshake = nil
    station.bootAt = nil
    station.heartbeatAt = nil
    station.loadAt = nil
    station.loadSlot = nil
    station.registration = .none
    station.output = []
    station.input = []
    if !stopping { for (_, call) in station.inFlight { stats.abandoned(call.action) } }
    station.inFlight = [:]
    // Transaction messages are kept and sent after the next boot, as chargers do [S16 §4.7].
    station.queue = station.queue.filter { Simulator.transactionActions.contains($0.action) }
    for index in station.connectors.indices { station.connectors[index].nextMeterAt = nil }
    releaseHandshakeSlot(station)
  }
}
