import EvctlCore

/// Decides which new alarms reach `serve --alarm-command`: the same alarm (kind, identity,
/// connector, code) at most once per ``repeatMilliseconds`` (a flapping connector runs it once),
/// and at most ``perMinute`` runs a minute. What is held back is counted and logged once a minute.
struct AlarmThrottle {
  static let perMinute = 10
  static let repeatMilliseconds: Int64 = 600_000
  private var windowStart = Timestamp(milliseconds: 0)
  private var runsInWindow = 0
  private var suppressed = 0
  private var lastRun: [String: Int64] = [:]

  /// Whether `alarm` should run the command now.
  mutating func admit(_ alarm: Alarm, at now: Timestamp) -> Bool {
    rollWindow(now)
    let key = "\(alarm.kind)\u{0}\(alarm.identity)\u{0}\(alarm.connectorID ?? -1)\u{0}\(alarm.code ?? "")"
    if let last = lastRun[key], now.milliseconds - last < Self.repeatMilliseconds {
      suppressed += 1
      return false
    }
    guard runsInWindow < Self.perMinute else {
      suppressed += 1
      return false
    }
    runsInWindow += 1
    lastRun[key] = now.milliseconds
    return true
  }

  /// The log line about alarms held back in the minute that ended, if any.
  mutating func report(at now: Timestamp) -> String? {
    guard now.milliseconds - windowStart.milliseconds >= 60_000, suppressed > 0 else { return nil }
    let line = "warning: --alarm-command not run for \(suppressed) alarm\(suppressed == 1 ? "" : "s") "
      + "(repeats within \(Self.repeatMilliseconds / 60_000) min, or more than \(Self.perMinute) a minute); see 'evctl alarm list'"
    suppressed = 0
    rollWindow(now)
    return line
  }

  private mutating func rollWindow(_ now: Timestamp) {
    guard now.milliseconds - windowStart.milliseconds >= 60_000 else { return }
    windowStart = now
    runsInWindow = 0
    if lastRun.count > 10_000 {
      lastRun = lastRun.filter { now.milliseconds - $0.value < Self.repeatMilliseconds }
    }
  }
}
