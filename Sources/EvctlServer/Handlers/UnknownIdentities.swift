import EvctlCore

/// Bounds what connection attempts from unregistered identities cost: each attempt is counted in
/// memory; the first of an identity is written at once, repeats once a second, as one
/// `not_registered` alarm per identity (with its count and last-seen time) and one event when
/// that alarm is new. At most
/// ``perInterval`` distinct identities are tracked per ``intervalMilliseconds`` and at most
/// ``maxActive`` such alarms are active; attempts beyond either cap only raise one summary alarm
/// (identity `*`). Nothing an unauthenticated client does costs more than a bounded amount of
/// work, disk or log.
struct UnknownIdentities {
  static let intervalMilliseconds: Int64 = 60_000
  static let perInterval = 100
  static let maxActive = 1_000
  /// The identity of the summary alarm.
  static let summaryIdentity = "*"

  private var windowStart = Timestamp(milliseconds: 0)
  /// Identities tracked in this window (at most ``perInterval``).
  private var tracked: Set<String> = []
  /// Attempts not yet written: identity → (count, last seen).
  private var pending: [String: (count: Int, last: Timestamp)] = [:]
  /// Attempts past the caps, not yet written, and in this window.
  private var overflowPending = 0
  private var overflowInWindow = 0
  private var warnedThisWindow = false
  /// Whether the active-alarm cap was reached when last checked.
  private var activeFull = false
  /// An identity is newly tracked: its alarm and event are written at once, not a second later.
  private(set) var needsFlush = false

  /// Counts one refused attempt. Returns the log line for it, if any: the first attempt of an
  /// identity in a window, and once per window when the cap is reached.
  mutating func note(_ identity: String, at now: Timestamp) -> String? {
    if now.milliseconds - windowStart.milliseconds >= Self.intervalMilliseconds {
      windowStart = now
      tracked.removeAll(keepingCapacity: true)
      overflowInWindow = 0
      warnedThisWindow = false
    }
    if tracked.contains(identity) {
      pending[identity, default: (0, now)].count += 1
      pending[identity]?.last = now
      return nil
    }
    if tracked.count < Self.perInterval && !activeFull {
      tracked.insert(identity)
      pending[identity] = (1, now)
      needsFlush = true
      return "info: refused connection: not registered: \(identity)"
    }
    overflowPending += 1
    overflowInWindow += 1
    guard !warnedThisWindow else { return nil }
    warnedThisWindow = true
    return "warning: more than \(Self.perInterval) unknown identities tried to connect within "
      + "\(Self.intervalMilliseconds / 1000) s (or \(Self.maxActive) are alarmed); further attempts are only counted"
  }

  /// Writes the counted attempts; called once a second inside the transport's transaction.
  mutating func flush(_ central: CentralSystem, at now: Timestamp) throws {
    needsFlush = false
    guard !pending.isEmpty || overflowPending > 0 else { return }
    for (identity, seen) in pending.sorted(by: { $0.key < $1.key }) {
      let raised = try central.raise(
        .notRegistered, stationID: nil, identity: identity,
        detail: "an unregistered station tried to connect", occurrences: seen.count, at: seen.last)
      if raised {
        try central.recordEvent(stationID: nil, identity: identity, kind: "not_registered",
                                detail: "unknown identity tried to connect", at: seen.last)
      }
    }
    pending.removeAll(keepingCapacity: true)
    if overflowPending > 0 {
      let raised = try central.raise(
        .notRegistered, stationID: nil, identity: Self.summaryIdentity, code: "flood",
        detail: "connection attempts from more unknown identities than are tracked "
          + "(\(Self.perInterval) per \(Self.intervalMilliseconds / 1000) s, \(Self.maxActive) alarmed)",
        occurrences: overflowPending, at: now)
      if raised {
        try central.recordEvent(stationID: nil, identity: Self.summaryIdentity, kind: "not_registered",
                                detail: "flood of unknown identities", at: now)
      }
      overflowPending = 0
    }
    activeFull = try central.store.activeUnknownIdentityAlarms() >= Self.maxActive
  }
}
