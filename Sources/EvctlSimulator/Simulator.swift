import CLinux
import EvctlCore
import EvctlServer
import Glibc

/// How a fleet of simulated stations behaves; one value for all of them.
public struct SimulatorOptions: Sendable {
  public var url: StationURL
  public var identities: [String]
  public var connectors = 1
  /// The Basic-auth password, the same for every station; `nil` sends no credentials.
  public var password: [UInt8]?
  public var vendor = "evctl"
  public var model = "evctl-sim"
  /// The serial number; `nil` uses the identity.
  public var serial: String?
  public var firmware = "evctl-sim-1.0"
  public var scenario = Scenario(steps: [], repeats: false)
  /// The id tag sessions use; `nil` gives station i the tag `TAG` and i in seven digits.
  public var idTag: String?
  /// Time acceleration: 60 makes a minute of simulated time pass in a second.
  public var speed: Double = 1
  /// Load mode: Heartbeat CALLs per second per station after boot; 0 sends the next one as soon as
  /// the answer arrives. `nil` behaves like chargers: heartbeats at the interval they are told.
  public var loadRate: Double?
  /// Spread the first connects over this many seconds.
  public var ramp: Double = 0
  /// Reconnect with backoff after a drop; `false` stops the station instead.
  public var reconnect = true
  /// Stop when every station has finished its (non-repeating) scenario.
  public var exitWhenDone = false
  /// Seconds to wait for an answer before counting a timeout.
  public var callTimeout: Double = 30
  /// Stop after this many real seconds; `nil` runs until stopped.
  public var duration: Double?
  /// Send StopTransaction for running sessions before leaving (demos), instead of vanishing
  /// mid-session as a charger losing power would.
  public var stopSessionsOnExit = false
  /// For wss://: the CA bundle to trust instead of the system's, and a client certificate.
  public var tlsCA: String?
  public var clientCertificate: String?
  public var clientKey: String?
  /// Field quirks to reproduce (`--misbehave`).
  public var misbehave: Set<Misbehaviour> = []
  /// Seconds after the last connect before the measured window of load mode starts.
  public var warmup: Double = 0
  /// For wss://: at most this many TLS handshakes under way at once; the rest wait their turn, as
  /// a connection pool would (0: no bound). Without it 10,000 stations started together all
  /// progress at once and all pass their connect timeout together.
  public var maxTLSHandshakes = 64

  public init(url: StationURL, identities: [String]) {
    self.url = url
    self.identities = identities
  }
}

/// Something a station saw, for the command's output and for `--check`.
public enum SimEvent: Equatable, Sendable {
  case connectFailed(String)
  case refused(status: Int, reason: String)
  case connected
  case disconnected(String)
  case sent(action: String)
  case answered(action: String, payload: JSONValue)
  case callError(action: String, code: String, description: String)
  case timedOut(action: String)
  case received(action: String, answer: JSONValue)
  case note(String)
  case scenarioDone
}

/// Wakes the loop from another thread (a signal handler) to stop it.
public struct SimulatorStopper: Sendable {
  let fd: Int32

  /// Asks the simulator to stop: every station closes with 1001.
  public func stop() {
    var one: UInt64 = 1
    _ = write(fd, &one, 8)
  }
}

/// Plays many OCPP 1.6J charge points against one central system from one thread on epoll.
public final class Simulator {
  let options: SimulatorOptions
  var stations: [SimStation] = []
  let epollFD: Int32
  let wakeFD: Int32
  var address: sockaddr_storage
  var addressLength: socklen_t
  var timers = TimerHeap()
  let tlsContext: TLSContext?
  var byFD: [Int32: Int] = [:]
  /// Connections between connect() and the open WebSocket that hold a TLS handshake slot.
  var handshakesInFlight = 0
  /// Stations waiting for a slot, first come first served (`waitingHead` is the next one).
  var waitingForSlot: [Int] = []
  var waitingHead = 0
  var random: RandomSource
  var stopping = false
  var startedAt: Double = 0
  var now: Double = 0
  let readBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 65_536)
  var done = 0
  /// What the run measured.
  public internal(set) var stats = SimulatorStats()
  /// Called with each station's events, on the loop's thread.
  public var onEvent: ((String, SimEvent) -> Void)?

  /// A handle that stops ``run()`` from another thread.
  public var stopper: SimulatorStopper { SimulatorStopper(fd: wakeFD) }

  /// Resolves the host and prepares the stations; nothing connects before ``run()``.
  ///
  /// - Throws: ``SimulatorError`` when the host does not resolve or the URL needs TLS.
  public init(options: SimulatorOptions) throws {
    self.options = options
    if options.url.secure {
      tlsContext = try TLSContext(
        caFile: options.tlsCA, certificateFile: options.clientCertificate, keyFile: options.clientKey)
    } else {
      tlsContext = nil
    }
    (address, addressLength) = try Simulator.resolve(options.url.host, port: options.url.port)
    Simulator.raiseFileLimit()
    // A peer that hangs up mid-write (a TLS alert, a reset) is an error to report, not a signal.
    signal(SIGPIPE, SIG_IGN)
    epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
    wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
    random = RandomSource(seed: Crypto.randomBytes(8))
    var event = epoll_event()
    event.events = EPOLLIN.rawValue
    event.data.fd = wakeFD
    epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event)
    for (index, identity) in options.identities.enumerated() {
      stations.append(SimStation(index: index, identity: identity, connectors: options.connectors))
    }
  }

  deinit {
    for station in stations where station.fd >= 0 { Glibc.close(station.fd) }
    Glibc.close(epollFD)
    Glibc.close(wakeFD)
    readBuffer.deallocate()
  }

  /// Runs until stopped, until `options.duration` has passed, or until every scenario is done
  /// with `exitWhenDone`.
  public func run() {
    runUntil(deadline: nil) { false }
  }

  /// Runs until stopped, until `deadline` (monotonic seconds), or until `finished` says so; it
  /// is asked after every round of events.
  func runUntil(deadline: Double?, finished: () -> Bool) {
    startedAt = Clock.now()
    now = startedAt
    stats.startedAt = startedAt
    stats.stations = stations.count
    let count = Double(stations.count)
    for station in stations {
      let offset = options.ramp > 0 ? options.ramp * Double(station.index) / count : 0
      station.reconnectAt = startedAt + offset
      schedule(station)
    }
    let end = deadline ?? options.duration.map { startedAt + $0 }
    var events = [epoll_event](repeating: epoll_event(), count: 1024)
    while !stopping {
      now = Clock.now()
      if let end, now >= end { break }
      var timeout = 200.0
      if let first = timers.peek() { timeout = min(timeout, max(0, (first.time - now) * 1000)) }
      if let end { timeout = min(timeout, max(0, (end - now) * 1000)) }
      let ready = epoll_wait(epollFD, &events, Int32(events.count), Int32(timeout.rounded(.up)))
      now = Clock.now()
      if ready > 0 {
        for index in 0..<Int(ready) {
          let fd = events[index].data.fd
          if fd == wakeFD { stopping = true; continue }
          guard let stationIndex = byFD[fd] else { continue }
          let station = stations[stationIndex]
          let flags = events[index].events
          if flags & EPOLLOUT.rawValue != 0 { writable(station) }
          if flags & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0, station.fd == fd {
            readable(station)
          }
          schedule(station)
        }
      }
      while let first = timers.peek(), first.time <= now {
        timers.pop()
        let station = stations[first.station]
        guard station.wakeAt == first.time else { continue }
        station.wakeAt = .infinity
        tick(station)
        schedule(station)
      }
      if options.exitWhenDone && done == stations.count
        && stations.allSatisfy({ $0.link != .open || ($0.inFlight.isEmpty && $0.queue.isEmpty) })
      {
        break
      }
      if finished() { break }
    }
    stats.endedAt = Clock.now()
    stats.heldAtEnd = stations.filter { $0.link == .open }.count
    if options.stopSessionsOnExit { stopSessions() }
    closeAll()
  }

  /// Stops every running session and waits up to two seconds for the answers.
  func stopSessions() {
    now = Clock.now()
    for station in stations where station.link == .open {
      for connector in station.connectors.indices where station.connectors[connector].transactionId != nil {
        stopTransaction(station, connector: connector, reason: "Local")
      }
    }
    let deadline = now + 2
    var events = [epoll_event](repeating: epoll_event(), count: 1024)
    while Clock.now() < deadline,
      stations.contains(where: { $0.link == .open && !($0.inFlight.isEmpty && $0.queue.isEmpty) })
    {
      let ready = epoll_wait(epollFD, &events, Int32(events.count), 50)
      now = Clock.now()
      for index in 0..<max(0, Int(ready)) {
        guard let stationIndex = byFD[events[index].data.fd] else { continue }
        let station = stations[stationIndex]
        if events[index].events & EPOLLOUT.rawValue != 0 { writable(station) }
        readable(station)
      }
    }
  }

  /// Sends 1001 to every open station and waits up to a second for the servers' close frames,
  /// so that no connection ends with a reset.
  func closeAll() {
    stopping = true
    var open = 0
    for station in stations where station.link != .down {
      if station.link == .open {
        send(station, ClientFrames.close(.goingAway, mask: random.mask()))
        station.link = .handshaking
        station.handshake = nil
        open += 1
      } else {
        closeSocket(station)
      }
    }
    let deadline = Clock.now() + 1
    var events = [epoll_event](repeating: epoll_event(), count: 1024)
    while open > 0 && Clock.now() < deadline {
      let ready = epoll_wait(epollFD, &events, Int32(events.count), 50)
      guard ready > 0 else { continue }
      for index in 0..<Int(ready) {
        guard let stationIndex = byFD[events[index].data.fd] else { continue }
        let station = stations[stationIndex]
        if events[index].events & EPOLLOUT.rawValue != 0 { flush(station) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(station.fd, &buffer, buffer.count)
        if count == 0 || (count < 0 && errno != EAGAIN) || events[index].events & EPOLLHUP.rawValue != 0 {
          closeSocket(station)
          open -= 1
        }
      }
    }
    for station in stations where station.link != .down { closeSocket(station) }
  }

  /// Stops the loop after the current event; for use from ``onEvent``.
  public func stop() { stopping = true }

  /// Recomputes when a station is next due and files it in the timer heap.
  func schedule(_ station: SimStation) {
    let next = station.nextDeadline(callTimeout: options.callTimeout)
    if next != station.wakeAt {
      station.wakeAt = next
      if next.isFinite { timers.push(time: next, station: station.index) }
    }
  }

  /// Everything due for a station now.
  func tick(_ station: SimStation) {
    if let at = station.connectDeadline, at <= now {
      station.connectDeadline = nil
      fail(station, event: .connectFailed("no connection within 20 s"), reason: "connect timeout")
      return
    }
    if let at = station.reconnectAt, at <= now {
      station.reconnectAt = nil
      connectWhenSlotFree(station)
    }
    if let at = station.rebootAt, at <= now {
      station.rebootAt = nil
      reboot(station)
    }
    expireCalls(station)
    guard station.link == .open else { return }
    if let at = station.bootAt, at <= now {
      station.bootAt = nil
      sendBoot(station)
    }
    if let at = station.heartbeatAt, at <= now {
      station.heartbeatAt = nil
      call(station, "Heartbeat", [:])
    }
    if let at = station.loadAt, at <= now {
      station.loadAt = nil
      station.loadSlot = at
      call(station, "Heartbeat", [:])
    }
    chargingTick(station)
    operationsTick(station)
    if let at = station.stepAt, at <= now {
      station.stepAt = nil
      advanceScenario(station)
    }
  }

  /// Reports an event to the observer.
  func emit(_ station: SimStation, _ event: SimEvent) {
    onEvent?(station.identity, event)
  }

  /// Real seconds from now for a span of simulated time.
  func after(_ simulatedSeconds: Double) -> Double { now + simulatedSeconds / options.speed }

  /// The wall-clock time stamped on messages.
  func wallClock() -> String { Timestamp.now().iso8601 }

  /// The id tag a station uses when a scenario names none.
  func defaultTag(_ station: SimStation) -> String {
    if let tag = options.idTag { return tag }
    let digits = String(station.index)
    return "TAG" + String(repeating: "0", count: max(0, 7 - digits.count)) + digits
  }

  static func raiseFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
  }

  static func resolve(_ host: String, port: UInt16) throws -> (sockaddr_storage, socklen_t) {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var result: UnsafeMutablePointer<addrinfo>?
    let name = host == "localhost" ? "127.0.0.1" : host
    let status = getaddrinfo(name, String(port), &hints, &result)
    guard status == 0, let first = result else {
      throw SimulatorError.unavailable("cannot resolve host '\(host)': \(String(cString: gai_strerror(status)))")
    }
    defer { freeaddrinfo(result) }
    var storage = sockaddr_storage()
    let length = first.pointee.ai_addrlen
    withUnsafeMutableBytes(of: &storage) { raw in
      raw.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(length)))
    }
    return (storage, length)
  }
}

/// Why the simulator cannot start.
public enum SimulatorError: Error, Equatable, CustomStringConvertible {
  case unsupported(String)
  case unavailable(String)

  public var description: String {
    switch self {
    case .unsupported(let message), .unavailable(let message): return message
    }
  }
}

/// The monotonic clock in seconds.
enum Clock {
  static func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
  }
}

/// A small fast generator (xorshift) for masks and jitter; seeded from OpenSSL.
struct RandomSource {
  var state: UInt64

  init(seed: [UInt8]) {
    var value: UInt64 = 0x9E37_79B9_7F4A_7C15
    for byte in seed { value = value << 8 | UInt64(byte) }
    state = value == 0 ? 1 : value
  }

  mutating func next() -> UInt64 {
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return state
  }

  mutating func mask() -> UInt32 { UInt32(truncatingIfNeeded: next()) }

  /// A number in [0, 1).
  mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// A binary min-heap of (time, station) entries; stale entries are skipped by the loop.
struct TimerHeap {
  private var items: [(time: Double, station: Int)] = []

  func peek() -> (time: Double, station: Int)? { items.first }

  mutating func push(time: Double, station: Int) {
    items.append((time, station))
    var child = items.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard items[child].time < items[parent].time else { break }
      items.swapAt(child, parent)
      child = parent
    }
  }

  mutating func pop() {
    guard !items.isEmpty else { return }
    items.swapAt(0, items.count - 1)
    items.removeLast()
    var parent = 0
    while true {
      let left = 2 * parent + 1
      let right = left + 1
      var smallest = parent
      if left < items.count && items[left].time < items[smallest].time { smallest = left }
      if right < items.count && items[right].time < items[smallest].time { smallest = right }
      if smallest == parent { break }
      items.swapAt(parent, smallest)
      parent = smallest
    }
  }
}
