import EvctlCore

/// Slows down password guessing (issue 12 item 6): failed logins are counted per station
/// identity and per peer address; past a few free failures each further one closes the door for
/// an exponentially growing, bounded time. Attempts while it is closed are answered 429 with
/// `Retry-After` without checking the password or writing anything, so guesses cost the guesser
/// time and cost serve almost nothing. A successful login resets both counters.
///
/// Memory is bounded: entries are forgotten after ``forgetAfterSeconds`` without a failure, and
/// at most ``maxTracked`` addresses are kept (the oldest is dropped first).
struct LoginThrottle {
  struct Entry {
    var failures = 0
    var lastFailure: Timestamp
    /// No attempt is checked before this time.
    var closedUntil: Timestamp?
    /// Whether its one alarm was raised since the last reset.
    var alarmed = false
  }

  /// Failures per identity before any delay (a mistyped key while commissioning).
  static let freeIdentityFailures = 3
  /// Failures per address before any delay: higher, since many stations can share one address
  /// (a NAT or a proxy in front of serve).
  static let freeAddressFailures = 10
  static let maxDelaySeconds: Int64 = 60
  static let forgetAfterSeconds: Int64 = 900
  static let maxTracked = 10_000

  private(set) var identities: [String: Entry] = [:]
  private(set) var addresses: [String: Entry] = [:]
  /// Attempts answered 429 since the last report, by alarm (station id or nil, identity).
  var refusedSinceReport: [AlarmKey: Int] = [:]

  struct AlarmKey: Hashable {
    var stationID: Int?
    var identity: String
  }

  /// The delay after `failures` failures when `free` are free: 1 s, 2 s, 4 s, … up to the bound.
  static func delaySeconds(failures: Int, free: Int) -> Int64 {
    guard failures > free else { return 0 }
    let exponent = min(failures - free - 1, 16)
    return min(Int64(1) << Int64(exponent), maxDelaySeconds)
  }

  /// Seconds until an attempt for `identity` from `address` is checked again; `nil` when now.
  func retryAfter(identity: String, address: String, now: Timestamp) -> Int64? {
    let waits = [identities[identity.lowercased()], addresses[address]].compactMap { entry -> Int64? in
      guard let until = entry?.closedUntil, until > now else { return nil }
      return max(1, (until.milliseconds - now.milliseconds + 999) / 1000)
    }
    return waits.max()
  }

  /// Counts a failed login; returns the alarms to raise now (once per identity or address until
  /// a success resets it).
  mutating func failed(stationID: Int, identity: String, address: String, now: Timestamp) -> [(AlarmKey, String)] {
    var alarms: [(AlarmKey, String)] = []
    let key = identity.lowercased()
    if let detail = Self.note(&identities[key], free: Self.freeIdentityFailures, now: now,
                              what: "failed logins as \(identity)") {
      alarms.append((AlarmKey(stationID: stationID, identity: identity), detail))
    }
    if address != "-", let detail = Self.note(&addresses[address], free: Self.freeAddressFailures, now: now,
                                              what: "failed logins from \(address)") {
      alarms.append((AlarmKey(stationID: nil, identity: address), detail))
    }
    if addresses.count > Self.maxTracked { forget(now: now, force: true) }
    return alarms
  }

  private static func note(_ entry: inout Entry?, free: Int, now: Timestamp, what: String) -> String? {
    var current = entry ?? Entry(lastFailure: now)
    current.failures += 1
    current.lastFailure = now
    let delay = delaySeconds(failures: current.failures, free: free)
    current.closedUntil = delay > 0 ? now.adding(seconds: delay) : nil
    var detail: String?
    if delay > 0 && !current.alarmed {
      current.alarmed = true
      detail = "\(current.failures) \(what): further attempts are slowed down (up to one per \(maxDelaySeconds) s)"
    }
    entry = current
    return detail
  }

  /// Notes an attempt answered 429, for the alarm's count.
  mutating func refused(stationID: Int, identity: String, address: String, now: Timestamp) {
    if identities[identity.lowercased()]?.alarmed == true {
      refusedSinceReport[AlarmKey(stationID: stationID, identity: identity), default: 0] += 1
    } else if addresses[address]?.alarmed == true {
      refusedSinceReport[AlarmKey(stationID: nil, identity: address), default: 0] += 1
    }
  }

  /// A successful login: both counters start again.
  mutating func succeeded(identity: String, address: String) {
    identities[identity.lowercased()] = nil
    addresses[address] = nil
  }

  private var lastForget = Timestamp(milliseconds: 0)

  /// ``forget(now:force:)`` once a minute.
  mutating func forgetIfDue(now: Timestamp) {
    guard now.milliseconds - lastForget.milliseconds >= 60_000 else { return }
    lastForget = now
    forget(now: now)
  }

  /// Drops entries idle for ``forgetAfterSeconds``; with `force`, also the oldest addresses
  /// until at most ``maxTracked`` remain.
  mutating func forget(now: Timestamp, force: Bool = false) {
    let cutoff = now.adding(seconds: -Self.forgetAfterSeconds)
    identities = identities.filter { $0.value.lastFailure > cutoff }
    addresses = addresses.filter { $0.value.lastFailure > cutoff }
    if force && addresses.count > Self.maxTracked {
      let oldest = addresses.sorted { $0.value.lastFailure < $1.value.lastFailure }
        .prefix(addresses.count - Self.maxTracked)
      for (address, _) in oldest { addresses[address] = nil }
    }
  }

  /// The address part of a peer (`10.0.0.5:41000` → `10.0.0.5`, `[::1]:41000` → `[::1]`).
  static func address(ofPeer peer: String) -> String {
    guard let colon = peer.lastIndex(of: ":"), !peer.hasSuffix("]") else { return peer }
    return String(peer[..<colon])
  }
}
