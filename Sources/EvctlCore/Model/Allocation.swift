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

  /// Creates a capacity.
  public init(groupID: Int, maxCurrent: Double, phases: Int = 3, maxPowerKW: Double? = nil,
              safeCurrent: Double? = nil, minCurrent: Double = 6, alternateSeconds: Int64 = 900) {
    self.groupID = groupID
    self.maxCurrent = maxCurrent
    self.phases = phases
    self.maxPowerKW = maxPowerKW
    self.safeCurrent = safeCurrent
    self.minCurrent = minCurrent
    self.alternateSeconds = alternateSeconds
  }

  /// The json form.
  public var json: JSONValue {
    ["group_id": .int(Int64(groupID)), "max_current": .double(maxCurrent), "phases": .int(Int64(phases)),
     "max_power_kw": .from(maxPowerKW), "safe_current": .from(safeCurrent),
     "min_current": .double(minCurrent), "alternate_seconds": .int(alternateSeconds)]
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

  /// Creates an active charge.
  public init(transactionID: Int, groupID: Int?, startedAt: Timestamp, phases: [Int] = [1, 2, 3],
              minimum: Double = 6, maximum: Double? = nil, chargingSince: Timestamp? = nil,
              pausedSince: Timestamp? = nil) {
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

  /// Whether the car is paused.
  public var isPaused: Bool { limit == 0 }
}

/// Decides every controlled transaction's limit: deterministic, no I/O, tested rule by rule.
///
/// 1. Every capacity group constrains, per phase, the cars below it; nested groups all hold.
/// 2. Available current: the capacity (and kW cap), less other load from a valid reading; the
///    safe current when readings went stale; nothing while the group is suspended.
/// 3. Cars are admitted at their minimum in turn order (cars within their turn, then waiting
///    cars longest first, then cars whose turn is over); a car whose minimum does not fit waits
///    at 0 A. So there is alternation only when there is not enough for everyone.
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
    // Available amperes per phase for each constraining group.
    var available: [Int: [Double]] = [:]
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
          for p in 0..<3 { perPhase[p] = max(0, perPhase[p] - (reading.currents.count > p ? reading.currents[p] : 0)) }
        } else if let safe = capacity.safeCurrent {
          perPhase = perPhase.map { min($0, safe) }
        }
      }
      available[id] = perPhase
    }
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
    func alternate(_ charge: ActiveCharge) -> Int64 {
      groupsOf[charge.transactionID]!.compactMap { capacityByGroup[$0]?.alternateSeconds }.min() ?? 900
    }
    // Turn order.
    func turnOver(_ c: ActiveCharge) -> Bool {
      guard let since = c.chargingSince else { return false }
      return now.milliseconds - since.milliseconds >= alternate(c) * 1000
    }
    let inTurn = charges.filter { $0.chargingSince != nil && !turnOver($0) }
      .sorted { ($0.chargingSince!, $0.transactionID) < ($1.chargingSince!, $1.transactionID) }
    let waiting = charges.filter { $0.chargingSince == nil }
      .sorted { ($0.pausedSince ?? $0.startedAt, $0.transactionID) < ($1.pausedSince ?? $1.startedAt, $1.transactionID) }
    let overTurn = charges.filter { turnOver($0) }
      .sorted { ($0.chargingSince!, $0.transactionID) < ($1.chargingSince!, $1.transactionID) }
    // Admission at the minimum.
    var used: [Int: [Double]] = Dictionary(constraintGroups.map { ($0, [0, 0, 0]) }, uniquingKeysWith: { a, _ in a })
    var limits: [Int: Double] = [:]
    var admitted: [ActiveCharge] = []
    for charge in inTurn + waiting + overTurn {
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
      for group in constraintGroups {
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
      if let limit = limits[charge.transactionID] {
        let rounded = (limit * 10 + 1e-9).rounded(.down) / 10
        plan[charge.transactionID] = Allocation(
          transactionID: charge.transactionID, limit: rounded,
          chargingSince: charge.chargingSince ?? now, pausedSince: nil,
          note: groupsOf[charge.transactionID]!.isEmpty ? "no capacity group" : "fair share")
      } else {
        plan[charge.transactionID] = Allocation(
          transactionID: charge.transactionID, limit: 0, chargingSince: nil,
          pausedSince: charge.pausedSince ?? now,
          note: suspendedNote(charge, groupsOf[charge.transactionID]!, suspended)
            ?? "waiting for its turn: not enough capacity for every car's minimum")
      }
    }
    return plan
  }

  static func suspendedNote(_ charge: ActiveCharge, _ groups: [Int], _ suspended: Set<Int>) -> String? {
    groups.contains(where: suspended.contains) ? "paused: group suspended" : nil
  }
}
