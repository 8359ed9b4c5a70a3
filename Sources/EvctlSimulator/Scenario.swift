/// What a simulated station does once it has booted: one step a line.
///
/// The text format, one step a line, `#` starts a comment:
/// ```
/// plug 1                    # the EV is plugged into connector 1 (Preparing)
/// auth TAG1                 # Authorize TAG1 (the tag the next charge uses)
/// charge 1 7.4kW 30m        # StartTransaction, MeterValues, StopTransaction after 30 minutes
/// fault 1 GroundFailure     # StatusNotification Faulted with that error code
/// clear 1                   # the fault is gone (Available, or Preparing when plugged)
/// unplug 1                  # the EV leaves (stops a running transaction first)
/// wait 5m                   # do nothing for five minutes
/// repeat                    # start again from the first step (last line only)
/// ```
public struct Scenario: Equatable, Sendable {
  /// One step of a scenario.
  public enum Step: Equatable, Sendable {
    case plug(connector: Int)
    case unplug(connector: Int)
    case auth(tag: String?)
    case charge(connector: Int, watts: Double, seconds: Double)
    case fault(connector: Int, errorCode: String)
    case clear(connector: Int)
    case wait(seconds: Double)
  }

  public var steps: [Step]
  /// Whether the steps start again after the last one.
  public var repeats: Bool

  public init(steps: [Step], repeats: Bool) {
    self.steps = steps
    self.repeats = repeats
  }

  /// A line that is not a valid step: `FILE:LINE: reason`.
  public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var reason: String
    public var description: String { "\(file):\(line): \(reason)" }
  }

  /// The built-in scenarios: `idle` (boot and heartbeats), `session` (one charging session on
  /// connector 1), `busy` (sessions one after another, for ever).
  public static func builtIn(_ name: String) -> Scenario? {
    switch name {
    case "idle": return Scenario(steps: [], repeats: false)
    case "session":
      return Scenario(
        steps: [.wait(seconds: 5), .plug(connector: 1), .auth(tag: nil),
                .charge(connector: 1, watts: 7400, seconds: 1800), .unplug(connector: 1)],
        repeats: false)
    case "busy":
      return Scenario(
        steps: [.plug(connector: 1), .auth(tag: nil),
                .charge(connector: 1, watts: 11_000, seconds: 1200), .unplug(connector: 1),
                .wait(seconds: 300)],
        repeats: true)
    default: return nil
    }
  }

  /// The names of the built-in scenarios.
  public static let builtInNames = ["idle", "session", "busy"]

  /// Parses scenario text; `connectors` bounds the connector numbers.
  public static func parse(_ text: String, file: String, connectors: Int) throws(ParseError) -> Scenario {
    var steps: [Step] = []
    var repeats = false
    var number = 0
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      number += 1
      var line = Substring(raw)
      if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
      let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
      guard let verb = words.first else { continue }
      func fail(_ reason: String) -> ParseError { ParseError(file: file, line: number, reason: reason) }
      guard !repeats else { throw fail("nothing may follow 'repeat'") }
      func arity(_ count: Int, _ usage: String) throws(ParseError) {
        guard words.count == count else { throw fail("expected '\(usage)'") }
      }
      func connector(_ word: String) throws(ParseError) -> Int {
        guard let value = Int(word), value >= 1 else {
          throw fail("invalid connector '\(word)': expected a number from 1")
        }
        guard value <= connectors else {
          throw fail("connector \(value) does not exist: the station has \(connectors) (--connectors)")
        }
        return value
      }
      switch verb.lowercased() {
      case "plug":
        try arity(2, "plug CONNECTOR")
        steps.append(.plug(connector: try connector(words[1])))
      case "unplug":
        try arity(2, "unplug CONNECTOR")
        steps.append(.unplug(connector: try connector(words[1])))
      case "auth":
        guard words.count <= 2 else { throw fail("expected 'auth [TAG]'") }
        if words.count == 2, words[1].utf8.count > 20 {
          throw fail("id tag '\(words[1])' is longer than 20 characters (OCPP 1.6 CiString20)")
        }
        steps.append(.auth(tag: words.count == 2 ? words[1] : nil))
      case "charge":
        try arity(4, "charge CONNECTOR POWER DURATION, such as 'charge 1 7.4kW 30m'")
        let c = try connector(words[1])
        guard let watts = parsePower(words[2]) else {
          throw fail("invalid power '\(words[2])': use watts or kilowatts, such as 7400W or 7.4kW")
        }
        guard let seconds = parseDuration(words[3]), seconds > 0 else {
          throw fail("invalid duration '\(words[3])': use 90s, 30m or 2h")
        }
        steps.append(.charge(connector: c, watts: watts, seconds: seconds))
      case "fault":
        try arity(3, "fault CONNECTOR ERRORCODE")
        let c = try connector(words[1])
        guard errorCodes.contains(words[2]) else {
          throw fail("unknown error code '\(words[2])': one of \(errorCodes.joined(separator: ", "))")
        }
        steps.append(.fault(connector: c, errorCode: words[2]))
      case "clear":
        try arity(2, "clear CONNECTOR")
        steps.append(.clear(connector: try connector(words[1])))
      case "wait":
        try arity(2, "wait DURATION")
        guard let seconds = parseDuration(words[1]) else {
          throw fail("invalid duration '\(words[1])': use 90s, 30m or 2h")
        }
        steps.append(.wait(seconds: seconds))
      case "repeat":
        try arity(1, "repeat")
        guard !steps.isEmpty else { throw fail("'repeat' needs steps before it") }
        repeats = true
      default:
        throw fail("unknown step '\(verb)': expected plug, unplug, auth, charge, fault, clear, wait or repeat")
      }
    }
    return Scenario(steps: steps, repeats: repeats)
  }

  /// The ChargePointErrorCode values of OCPP 1.6 other than NoError.
  public static let errorCodes = [
    "ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
    "InternalError", "LocalListConflict", "OtherError", "OverCurrentFailure", "OverVoltage",
    "PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure", "ResetFailure", "UnderVoltage",
    "WeakSignal",
  ]

  /// `7.4kW`, `7400W`, `7400` (watts).
  static func parsePower(_ text: String) -> Double? {
    let lower = text.lowercased()
    let value: Double?
    if lower.hasSuffix("kw") { value = Double(lower.dropLast(2)).map { $0 * 1000 } } else if lower.hasSuffix("w") {
      value = Double(lower.dropLast())
    } else { value = Double(lower) }
    guard let value, value > 0, value <= 1_000_000 else { return nil }
    return value
  }

  /// `90`, `90s`, `30m`, `2h`, `1.5h` in seconds.
  public static func parseDuration(_ text: String) -> Double? {
    guard let last = text.last else { return nil }
    let factor: Double
    var number = Substring(text)
    switch last {
    case "s": factor = 1; number.removeLast()
    case "m": factor = 60; number.removeLast()
    case "h": factor = 3600; number.removeLast()
    case "d": factor = 86_400; number.removeLast()
    default: factor = 1
    }
    guard let value = Double(number), value >= 0, value.isFinite else { return nil }
    return value * factor
  }
}
