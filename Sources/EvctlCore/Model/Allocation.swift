/// A group's grid connection as smart charging sees it (Alfen's "Active Load Balancing" inputs).
public struct GroupCapacity: Equatable, Sendable {
  public var groupID: Int
  /// Amperes per phase the connection carries.
  public var maxCurrent: Double
  /// 1 or 3 phases.
  public var phases: Int
  /// Total power in kW, when the contract limits power rather than current.
  public var maxPowerKW: Double?
  /// Amperes per phase to fall back to when meter readings stop arriving.
  public var safeCurrent: Double?
  /// The least a car is given when it charges at all (IEC 61851: 6 A).
  public var minCurrent: Double
  /// How long a car charges before it yields to a waiting one when there is not enough for all.
  public var alternateSeconds: Int64
  /// Whether reported load readings include what this group's chargers draw (a meter at the
  /// grid connection); serve then subtracts the measured draw of its own cars.
  public var meterIncludesChargers: Bool
  /// How long a car must draw clearly less than its limit before the rest goes to others
  /// (Alfen's SLB: 3 minutes); 0 turns handing on off.
  public var handOnSeconds: Int64

  /// The IEC 61851 minimum a car charges at: 6 A.
  public static let iecMinimumCurrent = 6.0

  /// Creates a capacity.
  public init(groupID: Int, maxCurrent: Double, phases: Int = 3, maxPowerKW: Double? = nil,
              safeCurrent: Double? = nil, minCurrent: Double = 6, alternateSeconds: Int64 = 900,
              meterIncludesChargers: Bool = false, handOnSeconds: Int64 = 180) {
    self.groupID = groupID
    self.maxCurrent = maxCurrent
    self.phases = phases
    self.maxPowerKW = maxPowerKW
    self.safeCurrent = safeCurrent
    self.minCurrent = minCurrent
    self.alternateSeconds = alternateSeconds
    self.meterIncludesChargers = meterIncludesChargers
    self.handOnSeconds = handOnSeconds
  }

  /// The json form.
  public var json: JSONValue {
    ["group_id": .int(Int64(groupID)), "max_current": .double(maxCurrent), "phases": .int(Int64(phases)),
     "max_power_kw": .from(maxPowerKW), "safe_current": .from(safeCurrent),
     "min_current": .double(minCurrent), "alternate_seconds": .int(alternateSeconds),
     "meter_includes_chargers": .bool(meterIncludesChargers), "hand_on_seconds": .int(handOnSeconds)]
  }
}

/// What `group capacity set` changes: only the options given (merge semantics); `nil` keeps
/// the stored value, and the `clear…` flags remove an optional setting.
public struct CapacityChanges: Sendable {
  public var maxCurrent: Double?
  public var phases: Int?
  public var maxPowerKW: Double?
  public var clearMaxPower = false
  public var safeCurrent: Double?
  public var clearSafeCurrent = false
  public var minCurrent: Double?
  public var alternateSeconds: Int64?
  public var meterIncludesChargers: Bool?
  public var handOnSeconds: Int64?
  /// Allows `minCurrent` below IEC 61851's 6 A (test benches).
  public var allowBelowIECMinimum = false

  /// No changes.
  public init() {}

  /// Applies the changes to `old`, or to a new capacity when there is none yet (which needs a
  /// maximum current).
  public func applied(to old: GroupCapacity?, groupID: Int) throws -> GroupCapacity {
    guard var capacity = old ?? maxCurrent.map({ GroupCapacity(groupID: groupID, maxCurrent: $0) }) else {
      throw StoreError.invalid("the group has no capacity yet: give --max-current")
    }
    capacity.groupID = groupID
    if let maxCurrent { capacity.maxCurrent = maxCurrent }
    if let phases { capacity.phases = phases }
    if clearMaxPower { capacity.maxPowerKW = nil }
    if let maxPowerKW { capacity.maxPowerKW = maxPowerKW }
    if clearSafeCurrent { capacity.safeCurrent = nil }
    if let safeCurrent { capacity.safeCurrent = safeCurrent }
    if let minCurrent { capacity.minCurrent = minCurrent }
    if let alternateSeconds { capacity.alternateSeconds = alternateSeconds }
    if let meterIncludesChargers { capacity.meterIncludesChargers = meterIncludesChargers }
    if let handOnSeconds { capacity.handOnSeconds = handOnSeconds }
    return capacity
  }
}

/// Other load on a connection, reported by an energy management system or a meter script.
public struct LoadReading: Equatable, Sendable {
  /// Amperes on L1, L2, L3.
  public var currents: [Double]
  public var validUntil: Timestamp

  /// Creates a reading.
  public init(currents: [Double], validUntil: Timestamp) {
    self.currents = currents
    self.validUntil = validUntil
  }
}

/// One active transaction that smart charging controls.
public struct ActiveCharge: Equatable, Sendable {
  public var transactionID: Int
  public var groupID: Int?
  public var startedAt: Timestamp
  /// The grid phases (1…3) the car draws on.
  public var phases: [Int]
  /// The least this car charges at (6 A, or 14 A for cars found to need it).
  public var minimum: Double
  /// The most it may get: the station's own maximum and any operator-set profile (lowest wins).
  public var maximum: Double?
  /// Since when it has charged without a pause, or been paused, under the last plan.
  public var chargingSince: Timestamp?
  public var pausedSince: Timestamp?
  /// What sets ``maximum``, for the plan's note ("profile 12", "hand-on: draws 2 A").
  public var maximumSource: String?
  /// The measured draw on grid L1, L2, L3 (for meters that include the chargers).
  public var measured: [Double]
  /// The station it charges at and that station's own maximum current per phase (Alfen
  /// `Station-MaxCurrent`), shared by all its cars; `nil`: no station-level limit.
  public var stationID: Int? = nil
  public var stationMaximum: Double? = nil

  /// Creates an active charge.
  public init(transactionID: Int, groupID: Int?, startedAt: Timestamp, phases: [Int] = [1, 2, 3],
              minimum: Double = 6, maximum: Double? = nil, chargingSince: Timestamp? = nil,
              pausedSince: Timestamp? = nil, maximumSource: String? = nil, measured: [Double] = [0, 0, 0]) {
    self.maximumSource = maximumSource
    self.measured = measured
    self.transactionID = transactionID
    self.groupID = groupID
    self.startedAt = startedAt
    self.phases = phases
    self.minimum = minimum
    self.maximum = maximum
    self.chargingSince = chargingSince
    self.pausedSince = pausedSince
  }
}

/// The limit for one transaction: amperes per phase, 0 when paused for its turn.
public struct Allocation: Equatable, Sendable {
  public var transactionID: Int
  public var limit: Double
  public var chargingSince: Timestamp?
  public var pausedSince: Timestamp?
  /// Why, in words.
  public var note: String
  /// When this car's turn ends: charging, when it may have to yield; waiting, when it has
  /// waited a whole turn and may take one.
  public var turnEndsAt: Timestamp?

  /// Whether the car is paused.
  public var isPaused: Bool { limit == 0 }
}

/// Decides every controlled transaction's limit: deterministic, no I/O, tested rule by rule.
///
/// 1. Every capacity group constrains, per phase, the cars below it; nested groups all hold.
/// 2. Available current: the capacity (and kW cap), less other load from a valid reading
///    (negative readings, PV export, add headroom; a meter that includes the chargers has their
///    measured draw taken out); the safe current when readings went stale; nothing while the
///    group is suspended.
/// 3. Cars are admitted at their minimum in turn order (cars within their turn, then cars that
///    waited a whole turn, longest first, then cars whose turn is over, the longest-charging
///    last, then cars paused less than a turn ago); a car whose minimum does not fit waits at
///    0 A. So there is alternation only when there is not enough for everyone, and a paused car
///    stays paused for a whole turn.
/// 4. What is left is shared fairly (max-min), up to each car's own maximum, in 0.1 A steps
///    rounded down, so the sum never exceeds any capacity.
public enum Allocator {
  /// Computes the plan.
  public static func allocate(
    capacities: [GroupCapacity], suspended: Set<Int>, tree: GroupTree, readings: [Int: LoadReading],
    charges: [ActiveCharge], now: Timestamp
  ) -> [Int: Allocation] {
    var constraintGroups = capacities.map(\.groupID)
    for id in suspended where !constraintGroups.contains(id) { constraintGroups.append(id) }
    let capacityByGroup = Dictionary(capacities.map { ($0.groupID, $0) }, uniquingKeysWith: { a, _ in a })
    // Which groups, and which phases, each car loads.
    var groupsOf: [Int: [Int]] = [:]
    var phasesIn: [Int: [Int: [Int]]] = [:]
    for charge in charges {
      let groups = constraintGroups.filter { tree.contains(charge.groupID, under: $0) }
      groupsOf[charge.transactionID] = groups
      for group in groups {
        let singlePhase = capacityByGroup[group]?.phases == 1
        phasesIn[charge.transactionID, default: [:]][group] = singlePhase ? [1] : charge.phases
      }
    }
    // Available amperes per phase for each constraining group.
    var available: [Int: [Double]] = [:]
    var expired: [Int: Timestamp] = [:]
    for id in constraintGroups {
      guard let capacity = capacityByGroup[id], !suspended.contains(id) else {
        available[id] = [0, 0, 0]
        continue
      }
      var base = capacity.maxCurrent
      if let kW = capacity.maxPowerKW {
        base = min(base, kW * 1000 / (230 * Double(capacity.phases)))
      }
      var perPhase = capacity.phases == 1 ? [base, 0, 0] : [base, base, base]
      if let reading = readings[id] {
        if reading.validUntil > now {
          // Other load; negative is export (PV) and so headroom. A meter at the grid connection
          // also counts our own cars, whose measured draw is taken out again.
          var other = (0..<3).map { reading.currents.count > $0 ? reading.currents[$0] : 0 }
          if capacity.meterIncludesChargers {
            for charge in charges where groupsOf[charge.transactionID]?.contains(id) == true {
              for p in 0..<3 { other[p] -= charge.measured.count > p ? charge.measured[p] : 0 }
            }
          }
          for p in 0..<3 where capacity.phases == 3 || p == 0 { perPhase[p] = max(0, perPhase[p] - other[p]) }
        } else {
          expired[id] = reading.validUntil
          if let safe = capacity.safeCurrent { perPhase = perPhase.map { min($0, safe) } }
        }
      }
      available[id] = perPhase
    }
    // A station's own maximum holds for the sum of its controlled cars, like a small capacity
    // group of its own (keyed by the negated station id, so it never meets a group id).
    var stationKeys: [Int] = []
    var stationMaximumOf: [Int: Double] = [:]
    for charge in charges {
      guard let station = charge.stationID, let maximum = charge.stationMaximum,
        !(groupsOf[charge.transactionID] ?? []).isEmpty
      else { continue }
      let key = -station
      if stationMaximumOf[key] == nil {
        stationKeys.append(key)
        stationMaximumOf[key] = maximum
        available[key] = [maximum, maximum, maximum]
      }
      groupsOf[charge.transactionID]!.append(key)
      phasesIn[charge.transactionID, default: [:]][key] = charge.phases
    }
    func alternate(_ charge: ActiveCharge) -> Int64 {
      groupsOf[charge.transactionID]!.compactMap { capacityByGroup[$0]?.alternateSeconds }.min() ?? 900
    }
    // Turn order.
    func turnOver(_ c: ActiveCharge) -> Bool {
      guard let since = c.chargingSince else { return false }
      return now.milliseconds - since.milliseconds >= alternate(c) * 1000
    }
    func waitedFullTurn(_ c: ActiveCharge) -> Bool {
      guard let since = c.pausedSince else { return true }
      return now.milliseconds - since.milliseconds >= alternate(c) * 1000
    }
    // Cars within their turn first; then cars that have waited a whole turn (or never charged),
    // longest first; then cars whose turn is over, the one that has charged longest last; and
    // cars paused less than a turn ago only after those, so a paused car stays paused a whole
    // turn and each boundary changes each car once.
    let inTurn = charges.filter { $0.chargingSince != nil && !turnOver($0) }
      .sorted { ($0.chargingSince!, $0.transactionID) < ($1.chargingSince!, $1.transactionID) }
    let waitingAll = charges.filter { $0.chargingSince == nil }
      .sorted { ($0.pausedSince ?? $0.startedAt, $0.transactionID) < ($1.pausedSince ?? $1.startedAt, $1.transactionID) }
    let waiting = waitingAll.filter(waitedFullTurn)
    let justPaused = waitingAll.filter { !waitedFullTurn($0) }
    let overTurn = charges.filter { turnOver($0) }
      .sorted { ($0.chargingSince!, $0.transactionID) > ($1.chargingSince!, $1.transactionID) }
    // Admission at the minimum.
    var used: [Int: [Double]] = Dictionary((constraintGroups + stationKeys).map { ($0, [0, 0, 0]) }, uniquingKeysWith: { a, _ in a })
    var limits: [Int: Double] = [:]
    var admitted: [ActiveCharge] = []
    for charge in inTurn + waiting + overTurn + justPaused {
      let minimum = min(charge.minimum, charge.maximum ?? charge.minimum)
      let fits = groupsOf[charge.transactionID]!.allSatisfy { group in
        phasesIn[charge.transactionID]![group]!.allSatisfy { p in
          used[group]![p - 1] + minimum <= available[group]![p - 1] + 1e-9
        }
      }
      guard fits, minimum > 0 else { continue }
      for group in groupsOf[charge.transactionID]! {
        for p in phasesIn[charge.transactionID]![group]! { used[group]![p - 1] += minimum }
      }
      limits[charge.transactionID] = minimum
      admitted.append(charge)
    }
    // Max-min fair sharing of what is left.
    var growing = Set(admitted.map(\.transactionID)).filter { id in
      let charge = admitted.first { $0.transactionID == id }!
      return (charge.maximum ?? .infinity) > limits[id]! + 1e-9
    }
    // A car below no capacity group is not controlled; serve only passes controlled cars.
    growing.subtract(admitted.filter { groupsOf[$0.transactionID]!.isEmpty }.map(\.transactionID))
    var rounds = 0
    while !growing.isEmpty, rounds < 1000 {
      rounds += 1
      var step = Double.infinity
      var tight: Set<Int> = []
      for group in constraintGroups + stationKeys {
        for p in 1...3 {
          let members = growing.filter { phasesIn[$0]?[group]?.contains(p) == true }
          guard !members.isEmpty else { continue }
          let slack = available[group]![p - 1] - used[group]![p - 1]
          let share = slack / Double(members.count)
          if share < step - 1e-9 {
            step = share
            tight = members
          } else if abs(share - step) <= 1e-9 {
            tight.formUnion(members)
          }
        }
      }
      for id in growing {
        let charge = admitted.first { $0.transactionID == id }!
        let headroom = (charge.maximum ?? .infinity) - limits[id]!
        if headroom < step - 1e-9 {
          step = headroom
          tight = [id]
        } else if abs(headroom - step) <= 1e-9 {
          tight.insert(id)
        }
      }
      guard step.isFinite else { break }
      let increment = max(step, 0)
      for id in growing {
        limits[id]! += increment
        for group in groupsOf[id]! {
          for p in phasesIn[id]![group]! { used[group]![p - 1] += increment }
        }
      }
      growing.subtract(tight)
    }
    // Round down to 0.1 A and record turns.
    var plan: [Int: Allocation] = [:]
    for charge in charges {
      let groups = groupsOf[charge.transactionID]!
      let safeNote = groups.compactMap { group in expired[group].map { (group, $0) } }.first.map { group, at in
        capacityByGroup[group]?.safeCurrent == nil
          ? "readings expired at \(at.iso8601), no safe current set"
          : "safe current (readings expired at \(at.iso8601))"
      }
      if let limit = limits[charge.transactionID] {
        let rounded = (limit * 10 + 1e-9).rounded(.down) / 10
        var note = groups.isEmpty ? "no capacity group" : "fair share"
        if let maximum = charge.maximum, let source = charge.maximumSource, rounded >= maximum - 0.05 {
          note = "capped by \(source)"
        } else if let key = groups.first(where: { $0 < 0 }), let maximum = stationMaximumOf[key],
          let load = used[key], load.max() ?? 0 >= maximum - 0.05
        {
          note = "share of the station's maximum (\(Allocator.amps(maximum)) A)"
        }
        let since = charge.chargingSince ?? now
        plan[charge.transactionID] = Allocation(
          transactionID: charge.transactionID, limit: rounded,
          chargingSince: since, pausedSince: nil,
          note: [note, safeNote].compactMap { $0 }.joined(separator: "; "),
          turnEndsAt: since.adding(seconds: alternate(charge)))
      } else {
        let note = charge.maximum == 0
          ? "no share: \(charge.maximumSource ?? "its maximum is 0 A")"
          : suspendedNote(charge, groups, suspended)
            ?? "waiting for its turn: not enough capacity for every car's minimum"
        let since = charge.pausedSince ?? now
        plan[charge.transactionID] = Allocation(
          transactionID: charge.transactionID, limit: 0, chargingSince: nil,
          pausedSince: since,
          note: [note, safeNote].compactMap { $0 }.joined(separator: "; "),
          turnEndsAt: since.adding(seconds: alternate(charge)))
      }
    }
    return plan
  }

  /// `16` or `16.5`, for notes.
  static func amps(_ value: Double) -> String {
    let tenths = (value * 10).rounded() / 10
    return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
  }

  static func suspendedNote(_ charge: ActiveCharge, _ groups: [Int], _ suspended: Set<Int>) -> String? {
    groups.contains(where: suspended.contains) ? "paused: group suspended" : nil
  }
}
