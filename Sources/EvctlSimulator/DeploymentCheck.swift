import EvctlCore

/// `evctl simulate --check`: one station through boot, a short session and, within a wait, a
/// remote command; the first step that fails ends the check with its reason.
public final class DeploymentCheck {
  /// The step that failed and why.
  public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
    public var step: String
    public var reason: String
    public var description: String { "\(step): \(reason)" }
  }

  /// The session the check runs: plug, Authorize, a two-minute charge (sped up), unplug.
  public static let scenario = Scenario(
    steps: [.plug(connector: 1), .auth(tag: nil), .charge(connector: 1, watts: 7400, seconds: 120),
            .unplug(connector: 1)],
    repeats: false)

  /// Simulated seconds per real second during the check's session.
  public static let speed = 40.0

  let simulator: Simulator
  let wait: Double
  let timeout: Double
  /// Called with each passed step, such as `boot: Accepted, heartbeat every 300 s`.
  public var onStep: ((String) -> Void)?
  public private(set) var failure: Failure?
  private var meterValues = 0
  private var statusReports = 0
  private var scenarioDoneAt: Double?
  private var remoteSeen = false
  private var remoteSeenAt: Double?
  private var startedAt = 0.0
  private var pendingSince: Double?

  /// Prepares a check; `options` should name exactly one station.
  public init(options: SimulatorOptions, wait: Double, timeout: Double) throws {
    var options = options
    options.scenario = Self.scenario
    options.speed = Self.speed
    options.reconnect = false
    options.callTimeout = min(30, timeout)
    simulator = try Simulator(options: options)
    self.wait = wait
    self.timeout = timeout
  }

  /// The stopper of the underlying simulator, for signals.
  public var stopper: SimulatorStopper { simulator.stopper }

  /// Runs the check; returns normally when every step passed.
  public func run() throws(Failure) {
    startedAt = Clock.now()
    simulator.onEvent = { [unowned self] _, event in self.observe(event) }
    var options = simulator.options
    options.duration = timeout
    simulator.runUntil(deadline: startedAt + timeout) { [unowned self] in self.finished() }
    if let failure { throw failure }
    if scenarioDoneAt == nil {
      throw Failure(step: pendingSince != nil ? "boot" : "session",
                    reason: pendingSince != nil ? "still Pending after \(Int(timeout)) s" : "not finished within \(Int(timeout)) s (--timeout)")
    }
    if !remoteSeen && wait > 0 { onStep?("remote command: none arrived within \(Self.seconds(wait)) s") }
  }

  private func finished() -> Bool {
    if failure != nil { return true }
    guard let done = scenarioDoneAt else { return false }
    if let seen = remoteSeenAt {
      // What the command started (a remote start's StartTransaction) is answered before leaving.
      let station = simulator.stations[0]
      return (station.inFlight.isEmpty && station.queue.isEmpty) || Clock.now() >= seen + 5
    }
    return Clock.now() >= done + wait
  }

  private func fail(_ step: String, _ reason: String) {
    guard failure == nil else { return }
    failure = Failure(step: step, reason: reason)
    simulator.stop()
  }

  static func step(for action: String) -> String {
    switch action {
    case "BootNotification": return "boot"
    case "StatusNotification": return "status"
    case "Authorize": return "authorize"
    case "StartTransaction": return "start"
    case "MeterValues": return "meter"
    case "StopTransaction": return "stop"
    default: return action
    }
  }

  static func seconds(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
  }

  private func observe(_ event: SimEvent) {
    switch event {
    case .connectFailed(let reason):
      fail("connect", "\(simulator.options.url.description): \(reason)")
    case .refused(let status, let reason):
      var text = reason
      if status == 401 { text += " (wrong or missing password: pass it with --password-stdin)" }
      if status == 404 { text += " (the central system does not know this identity, or the URL path is wrong)" }
      fail("connect", text)
    case .connected:
      onStep?("connect: WebSocket open to \(simulator.options.url.target(for: simulator.options.identities[0]))")
    case .disconnected(let reason):
      fail(scenarioDoneAt == nil ? "session" : "wait", "connection lost: \(reason)")
    case .answered(let action, let payload):
      answered(action, payload)
    case .callError(let action, let code, let description):
      fail(Self.step(for: action), "CALLERROR \(code)" + (description.isEmpty ? "" : ": \(description)"))
    case .timedOut(let action):
      fail(Self.step(for: action), "no answer to \(action) within \(Int(simulator.options.callTimeout)) s")
    case .received(let action, let answer):
      guard scenarioDoneAt != nil || action != "GetConfiguration" else { return }
      if scenarioDoneAt != nil && !remoteSeen {
        remoteSeen = true
        remoteSeenAt = Clock.now()
      }
      let status = answer[2]?["status"]?.stringValue ?? (answer[0]?.intValue == 4 ? "CALLERROR \(answer[2]?.stringValue ?? "")" : "answered")
      onStep?("remote command: \(action) \(status)")
    case .note, .sent:
      break
    case .scenarioDone:
      scenarioDoneAt = Clock.now()
      if wait > 0 { onStep?("waiting up to \(Self.seconds(wait)) s for a remote command") }
    }
  }

  private func answered(_ action: String, _ payload: JSONValue) {
    switch action {
    case "BootNotification":
      let status = payload["status"]?.stringValue ?? "(no status)"
      switch status {
      case "Accepted":
        pendingSince = nil
        onStep?("boot: Accepted, heartbeat every \(payload["interval"]?.intValue ?? 0) s")
      case "Pending":
        if pendingSince == nil {
          pendingSince = Clock.now()
          onStep?("boot: Pending, retrying after \(payload["interval"]?.intValue ?? 0) s")
        }
      default:
        fail("boot", "the central system answered \(status)")
      }
    case "StatusNotification":
      statusReports += 1
      if statusReports == simulator.options.connectors + 1 {
        onStep?("status: \(statusReports) StatusNotifications accepted")
      }
    case "Authorize":
      let status = payload["idTagInfo"]?["status"]?.stringValue ?? "(no status)"
      let tag = simulator.defaultTag(simulator.stations[0])
      if status == "Accepted" { onStep?("authorize: \(tag) Accepted") } else {
        let hint = simulator.options.idTag == nil
          ? "the default tag of a simulated station; pass a token the central system knows with --id-tag"
          : "pass a token the central system knows with --id-tag"
        fail("authorize", "id tag \(tag) is \(status) (\(hint))")
      }
    case "StartTransaction":
      let status = payload["idTagInfo"]?["status"]?.stringValue ?? "(no status)"
      guard status == "Accepted", let id = payload["transactionId"]?.intValue else {
        fail("start", "StartTransaction answered \(status)")
        return
      }
      onStep?("start: transaction \(id)")
    case "MeterValues":
      meterValues += 1
    case "StopTransaction":
      onStep?("meter: \(meterValues) MeterValues accepted")
      onStep?("stop: StopTransaction accepted")
    default:
      break
    }
  }
}
