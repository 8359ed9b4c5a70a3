import EvctlCore

/// Central load balancing: turns capacity groups, readings and active transactions into
/// per-transaction limits (``Allocator``) and sends the changed ones as charging profiles.
extension CentralSystem {
  /// Asks for a new plan at the end of this second, with a reason for the events.
  func wantRebalance(_ reason: String) { rebalanceReasons.insert(reason) }

  /// The planning round: every node looks at every capacity group this often.
  static let planRoundMilliseconds: Int64 = 5_000

  /// Rebalances when asked, when a turn or a hand-on window ends, and every 5 seconds for
  /// stale readings and suspensions.
  func rebalanceIfDue(at now: Timestamp) throws {
    let due = now.milliseconds - lastRebalance.milliseconds >= Self.planRoundMilliseconds
      || nextRebalanceAt.map { now >= $0 } == true
    guard !rebalanceReasons.isEmpty || due else { return }
    let reason = rebalanceReasons.isEmpty ? "timer" : rebalanceReasons.sorted().joined(separator: ",")
    rebalanceReasons.removeAll()
    lastRebalance = now
    try rebalance(at: now, reason: reason)
  }

  /// Replans at once when a CLI process changed something allocation depends on (it bumps a
  /// counter in the store; called on serve's 0.1 s command poll).
  public func noticeAllocationChanges(at now: Timestamp) throws {
    let count = try store.allocationChangeCount()
    guard count != allocationChangeCount else { return }
    let first = allocationChangeCount == nil
    allocationChangeCount = count
    if first { return }  // the first look at start-up: the timer plans
    let reason = rebalanceReasons.isEmpty ? "timer" : rebalanceReasons.sorted().joined(separator: ",")
    rebalanceReasons.removeAll()
    lastRebalance = now
    try rebalance(at: now, reason: reason)
  }

  /// Computes the plan for every controlled transaction and sends what changed.
  public func rebalance(at now: Timestamp, reason given: String) throws {
    let capacities = try store.capacities()
    let suspended = try store.suspendedGroups(at: now)
    nextRebalanceAt = nil
    guard !capacities.isEmpty || !suspended.isEmpty else { return }
    let tree = try store.groupTree()
    let planned = Set(capacities.map(\.groupID)).union(suspended)
    let roots = try groupsToPlan(planned, tree: tree, given: given, at: now)
    guard !roots.isEmpty else { return }
    // Name what changed since the last plan, for the events.
    let readingsNow = try store.loadReadings()
    var reasons = given == "timer" ? [] : given.split(separator: ",").map(String.init)
    let readingMark = readingsNow.keys.sorted().map { key in
      "\(key):\(readingsNow[key]!.currents):\(readingsNow[key]!.validUntil > now)"
    }.joined(separator: ";")
    if readingMark != planMarks.readings { reasons.append("reading") }
    if suspended != planMarks.suspended { reasons.append(suspended.count > planMarks.suspended.count ? "suspend" : "resume") }
    if capacities.map(\.json.compact).sorted() != planMarks.capacities { reasons.append("capacity") }
    planMarks = (readingMark, suspended, capacities.map(\.json.compact).sorted())
    reasons = reasons.enumerated().filter { index, reason in !reasons[..<index].contains(reason) }.map(\.element)
    let minimumOf = Dictionary(capacities.map { ($0.groupID, $0.minCurrent) }, uniquingKeysWith: { a, _ in a })
    let handOnOf = Dictionary(capacities.map { ($0.groupID, $0.handOnSeconds) }, uniquingKeysWith: { a, _ in a })
    var handOns: [Int: HandOn] = [:]
    var wakeAt: Timestamp?
    var charges: [ActiveCharge] = []
    let stationMaximum = try store.stationMaxCurrents()
    var context: [Int: (stationID: Int, identity: String, connector: Int, sent: Double?, purpose: String)] = [:]
    for row in try store.activeChargeRows() {
      let groupID = row.int("group_id")
      guard roots.contains(where: { tree.contains(groupID, under: $0) }) else { continue }
      let groups = planned.filter { tree.contains(groupID, under: $0) }
      let id = row.int("id")!
      let stationID = row.int("station_id")!
      let connector = row.int("connector_id") ?? 1
      let measured = try store.measuredCurrents(transaction: id)
      let rotation = try phaseRotation(stationID: stationID, connector: connector)
      var phases = gridPhases(measured: measured, rotation: rotation)
      if phases.isEmpty {
        phases = (row.string("phases") ?? "1,2,3").split(separator: ",").compactMap { Int($0) }
      }
      var needsMore = row.bool("needs_higher_minimum")
      if !needsMore, let sent = row.double("sent_limit"), sent > 0, sent < 14, row.string("status") == "SuspendedEV",
        measured.allSatisfy({ ($0 ?? 0) < 0.5 }), measured.contains(where: { $0 != nil })
      {
        needsMore = true  // a car that will not charge below 14 A (brief: some cars need it)
      }
      let base = groups.compactMap { minimumOf[$0] }.max() ?? 6
      let minimum = needsMore ? max(base, 14) : base
      let startedAt = row.date("started_at") ?? now
      var (maximum, source) = try maximumFor(
        stationID: stationID, connector: connector, connectorMax: row.double("max_current"),
        transactionStart: startedAt, at: now)
      // Current the car leaves unused goes to others (Alfen SLB).
      let window = groups.compactMap { handOnOf[$0] }.min() ?? 0
      let draw = measured.compactMap { $0 }.max()
      let handOn = HandOn(underdrawSince: row.date("underdraw_since"), cap: row.double("hand_on_cap"))
        .next(draw: draw, limit: row.double("limit_amps"), minimum: minimum, windowSeconds: window, now: now)
      handOns[id] = handOn
      if let cap = handOn.cap, cap < (maximum ?? .infinity) {
        maximum = cap
        source = "its draw (\(format(draw ?? 0)) A; the rest handed on)"
      }
      if let end = handOn.windowEnds(windowSeconds: window), end > now { wakeAt = min(wakeAt ?? end, end) }
      // A session refused at StartTransaction gets no share: 0 A, in case the station lets the
      // car charge anyway (StopTransactionOnInvalidId false).
      if let status = row.string("authorization_status"), status != "Accepted" {
        maximum = 0
        source = "refused at StartTransaction (\(status))"
      }
      var charge = ActiveCharge(
        transactionID: id, groupID: groupID, startedAt: startedAt,
        phases: phases.isEmpty ? [1, 2, 3] : phases, minimum: minimum,
        maximum: maximum,
        chargingSince: row.double("limit_amps").map { $0 > 0 } == true ? row.date("charging_since") : nil,
        pausedSince: row.double("limit_amps") == 0 ? row.date("paused_since") : nil,
        maximumSource: source, measured: gridDraw(measured: measured, rotation: rotation))
      charge.stationID = stationID
      charge.stationMaximum = stationMaximum[stationID]
      charges.append(charge)
      context[id] = (stationID, row.string("identity") ?? "", connector, row.double("sent_limit"),
                     row.string("purpose") ?? "TxProfile")
      if needsMore != row.bool("needs_higher_minimum") {
        try store.markNeedsHigherMinimum(transactionID: id)
      }
    }
    let plan = Allocator.allocate(
      capacities: capacities, suspended: suspended, tree: tree, readings: readingsNow, charges: charges, now: now)
    // Wake at the next turn boundary while a car waits for its turn.
    if plan.values.contains(where: { $0.isPaused && $0.note.hasPrefix("waiting") }) {
      for end in plan.values.compactMap(\.turnEndsAt) where end > now { wakeAt = min(wakeAt ?? end, end) }
    }
    nextRebalanceAt = wakeAt
    // Lowered limits go out before raised ones, so that a turn boundary or a shift of shares
    // does not overshoot the capacity on the way.
    func lowers(_ charge: ActiveCharge) -> Bool {
      (plan[charge.transactionID]?.limit ?? 0) < (context[charge.transactionID]?.sent ?? .infinity)
    }
    for charge in charges.filter(lowers) + charges.filter({ !lowers($0) }) {
      guard let allocation = plan[charge.transactionID], let info = context[charge.transactionID] else { continue }
      try store.saveAllocation(
        Store.AllocationRecord(
          transactionID: charge.transactionID, stationID: info.stationID, connectorID: info.connector,
          limit: allocation.limit, phases: charge.phases.map(String.init).joined(separator: ","),
          chargingSince: allocation.chargingSince, pausedSince: allocation.pausedSince,
          note: allocation.note, purpose: info.purpose,
          underdrawSince: handOns[charge.transactionID]?.underdrawSince,
          handOnCap: handOns[charge.transactionID]?.cap),
        at: now)
      if let sent = info.sent, abs(sent - allocation.limit) < 0.05 { continue }
      var why = reasons
      if why.isEmpty {
        // Nothing outside changed: a car's turn began or ended.
        why = [(info.sent ?? 0) == 0 || allocation.limit == 0 ? "rotation" : "timer"]
      }
      try sendLimit(allocation, info: info, transactionID: charge.transactionID,
                    reason: why.joined(separator: ","), at: now)
    }
  }

  /// The top capacity groups this node plans now: nested capacity groups share their charges,
  /// so the top one stands for all beneath it. Exactly one node plans a group per round (several
  /// nodes on PostgreSQL, see ``Store/claimGroupPlan(_:node:at:requested:freshWithinMilliseconds:)``);
  /// its limits reach stations on other nodes through the command queue. A group another node
  /// plans right now is tried again next second: with this node's news (`given` is not the
  /// timer), since that plan may not see this node's uncommitted work, or as a timer round.
  private func groupsToPlan(_ planned: Set<Int>, tree: GroupTree, given: String, at now: Timestamp) throws -> Set<Int> {
    let tops = planned.filter { group in !planned.contains { $0 != group && tree.contains(group, under: $0) } }
    let requested = given != "timer"
    var roots: Set<Int> = []
    for top in tops.sorted() {
      switch try store.claimGroupPlan(
        top, node: configuration.nodeID ?? "", at: now, requested: requested,
        freshWithinMilliseconds: Self.planRoundMilliseconds * 3 / 2)
      {
      case .plan: roots.insert(top)
      case .busy where requested: rebalanceReasons.formUnion(given.split(separator: ",").map(String.init))
      case .busy:
        // Another node's transaction holds the group for a moment: look again next second
        // instead of a round later, so that the node planning the group keeps its rounds
        // (a missed round lets its record go stale and the group change hands).
        lastRebalance = Timestamp(milliseconds: now.milliseconds - Self.planRoundMilliseconds + 1_000)
      case .plannedElsewhere: break
      }
    }
    return roots
  }

  private func sendLimit(
    _ allocation: Allocation,
    info: (stationID: Int, identity: String, connector: Int, sent: Double?, purpose: String),
    transactionID: Int, reason: String, at now: Timestamp
  ) throws {
    let stack = try store.knownConfigurationValue(
      stationID: info.stationID, key: "ChargeProfileMaxStackLevel").flatMap(Int.init) ?? 1
    var profile: [String: JSONValue] = [
      "chargingProfileId": .int(Int64(Store.allocationProfileID(connector: info.connector))),
      "stackLevel": .int(Int64(stack)), "chargingProfilePurpose": .string(info.purpose),
      "chargingProfileKind": "Relative",
      "chargingSchedule": ["chargingRateUnit": "A", "chargingSchedulePeriod": [
        ["startPeriod": 0, "limit": .double(allocation.limit)]]],
    ]
    if info.purpose == "TxProfile" { profile["transactionId"] = .int(Int64(transactionID)) }
    let payload: JSONValue = ["connectorId": .int(Int64(info.connector)), "csChargingProfiles": .object(profile)]
    do {
      try store.enqueueCommand(station: info.identity, action: "SetChargingProfile", payload: payload)
    } catch StoreError.unavailable {
      return  // offline: the next plan after it reconnects sends it
    }
    try store.noteLimitSent(allocation.limit, transactionID: transactionID)
    try recordEvent(
      stationID: info.stationID, identity: info.identity, kind: "allocation",
      detail: "connector \(info.connector) transaction \(transactionID): \(info.sent.map { "\($0)" } ?? "-") → \(allocation.limit) A (\(reason); \(allocation.note))",
      at: now)
  }

  /// The connector's phase rotation from the station's `ConnectorPhaseRotation`: for each of
  /// its L1…L3, the grid phase (1…3); `nil` when unknown.
  func phaseRotation(stationID: Int, connector: Int) throws -> [Int]? {
    guard let rotation = try store.knownConfigurationValue(stationID: stationID, key: "ConnectorPhaseRotation")
    else { return nil }
    // "0.RST,1.RST,2.RTS": connector 2's L1 is grid R (L1), its L2 is grid T (L3) …
    for item in rotation.split(separator: ",") {
      let parts = item.split(separator: ".")
      guard parts.count == 2, Int(parts[0]) == connector, parts[1].count == 3 else { continue }
      let map = parts[1].map { ["R": 1, "S": 2, "T": 3][String($0)] ?? 0 }
      return Set(map) == [1, 2, 3] ? map : nil
    }
    return nil
  }

  /// The grid phases a car draws on, from its per-phase currents and the connector's phase rotation.
  func gridPhases(measured: [Double?], rotation: [Int]?) -> [Int] {
    let local = (0..<3).filter { (measured[$0] ?? 0) >= 1 }.map { $0 + 1 }
    guard let rotation else { return local }
    return local.map { rotation[$0 - 1] }.sorted()
  }

  /// What a car draws on grid L1, L2, L3.
  func gridDraw(measured: [Double?], rotation: [Int]?) -> [Double] {
    var draw = [0.0, 0.0, 0.0]
    for local in 0..<3 {
      let grid = rotation.map { $0[local] - 1 } ?? local
      draw[grid] += max(0, measured[local] ?? 0)
    }
    return draw
  }

  /// The most a connector may draw now: its own maximum and the operator-set profiles it holds,
  /// each read at `now` (recurrency included); the lowest wins, and says where it came from.
  func maximumFor(stationID: Int, connector: Int, connectorMax: Double?, transactionStart: Timestamp,
                  at now: Timestamp) throws -> (Double?, String?) {
    var limit = connectorMax
    var source: String? = connectorMax == nil ? nil : "the connector's maximum"
    for row in try store.operatorProfileRows(stationID: stationID, connectorID: connector) {
      guard let definition = try? JSONValue.parse(row.string("profile") ?? ""),
        let profile = ChargingProfile.installed(definition),
        let value = profile.limit(at: now, transactionStart: transactionStart, installedAt: row.date("installed_at"))
      else { continue }
      if value < (limit ?? .infinity) {
        limit = value
        source = "profile \(profile.id)"
      }
    }
    return (limit, source)
  }

  private func format(_ value: Double) -> String {
    let tenths = (value * 10).rounded() / 10
    return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
  }
}
