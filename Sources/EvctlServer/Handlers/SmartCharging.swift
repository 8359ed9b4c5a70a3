import EvctlCore

/// Central load balancing: turns capacity groups, readings and active transactions into
/// per-transaction limits (``Allocator``) and sends the changed ones as charging profiles.
extension CentralSystem {
  /// Asks for a new plan at the end of this second, with a reason for the events.
  func wantRebalance(_ reason: String) { rebalanceReasons.insert(reason) }

  /// Rebalances when asked, and every 5 seconds for rotations, stale readings and suspensions.
  func rebalanceIfDue(at now: Timestamp) throws {
    let due = now.milliseconds - lastRebalance.milliseconds >= 5_000
    guard !rebalanceReasons.isEmpty || due else { return }
    let reason = rebalanceReasons.isEmpty ? "timer" : rebalanceReasons.sorted().joined(separator: ",")
    rebalanceReasons.removeAll()
    lastRebalance = now
    try rebalance(at: now, reason: reason)
  }

  /// Computes the plan for every controlled transaction and sends what changed.
  public func rebalance(at now: Timestamp, reason given: String) throws {
    let capacities = try store.capacities()
    let suspended = try store.suspendedGroups(at: now)
    guard !capacities.isEmpty || !suspended.isEmpty else { return }
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
    let tree = try store.groupTree()
    let roots = Set(capacities.map(\.groupID)).union(suspended)
    let minimumOf = Dictionary(capacities.map { ($0.groupID, $0.minCurrent) }, uniquingKeysWith: { a, _ in a })
    var charges: [ActiveCharge] = []
    var context: [Int: (stationID: Int, identity: String, connector: Int, sent: Double?, purpose: String)] = [:]
    for row in try store.db.query(
      """
      SELECT t.id, t.station_id, t.connector_id, t.started_at, s.identity, s.group_id, c.max_current, c.status,
        a.limit_amps, a.phases, a.charging_since, a.paused_since, a.needs_higher_minimum, a.sent_limit, a.purpose
      FROM transactions t JOIN stations s ON s.id = t.station_id
      LEFT JOIN connectors c ON c.station_id = t.station_id AND c.connector_id = t.connector_id
      LEFT JOIN allocations a ON a.transaction_id = t.id
      WHERE t.state = 'active'
      """)
    {
      let groupID = row.int("group_id")
      let groups = roots.filter { tree.contains(groupID, under: $0) }
      guard !groups.isEmpty else { continue }
      let id = row.int("id")!
      let stationID = row.int("station_id")!
      let connector = row.int("connector_id") ?? 1
      let measured = try store.measuredCurrents(transaction: id)
      var phases = try gridPhases(measured: measured, stationID: stationID, connector: connector)
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
      charges.append(ActiveCharge(
        transactionID: id, groupID: groupID, startedAt: row.date("started_at") ?? now,
        phases: phases.isEmpty ? [1, 2, 3] : phases, minimum: needsMore ? max(base, 14) : base,
        maximum: try maximumFor(stationID: stationID, connector: connector, connectorMax: row.double("max_current")),
        chargingSince: row.double("limit_amps").map { $0 > 0 } == true ? row.date("charging_since") : nil,
        pausedSince: row.double("limit_amps") == 0 ? row.date("paused_since") : nil))
      context[id] = (stationID, row.string("identity") ?? "", connector, row.double("sent_limit"),
                     row.string("purpose") ?? "TxProfile")
      if needsMore != row.bool("needs_higher_minimum") {
        try store.db.run("UPDATE allocations SET needs_higher_minimum = 1 WHERE transaction_id = ?", [id])
      }
    }
    let plan = Allocator.allocate(
      capacities: capacities, suspended: suspended, tree: tree, readings: readingsNow, charges: charges, now: now)
    for charge in charges {
      guard let allocation = plan[charge.transactionID], let info = context[charge.transactionID] else { continue }
      try store.db.run(
        """
        INSERT INTO allocations (transaction_id, station_id, connector_id, limit_amps, phases, charging_since,
          paused_since, note, purpose, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (transaction_id) DO UPDATE SET limit_amps = excluded.limit_amps, phases = excluded.phases,
          charging_since = excluded.charging_since, paused_since = excluded.paused_since,
          note = excluded.note, updated_at = excluded.updated_at
        """,
        [charge.transactionID, info.stationID, info.connector, allocation.limit,
         charge.phases.map(String.init).joined(separator: ","), allocation.chargingSince?.iso8601,
         allocation.pausedSince?.iso8601, allocation.note, info.purpose, now.iso8601])
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

  private func sendLimit(
    _ allocation: Allocation,
    info: (stationID: Int, identity: String, connector: Int, sent: Double?, purpose: String),
    transactionID: Int, reason: String, at now: Timestamp
  ) throws {
    let stack = try store.db.queryOne(
      "SELECT value FROM station_configuration WHERE station_id = ? AND key = 'ChargeProfileMaxStackLevel' AND known = 1",
      [info.stationID])?.string("value").flatMap(Int.init) ?? 1
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
    try store.db.run(
      "UPDATE allocations SET sent_limit = ? WHERE transaction_id = ?", [allocation.limit, transactionID])
    try recordEvent(
      stationID: info.stationID, identity: info.identity, kind: "allocation",
      detail: "connector \(info.connector) transaction \(transactionID): \(info.sent.map { "\($0)" } ?? "-") → \(allocation.limit) A (\(reason); \(allocation.note))",
      at: now)
  }

  /// The grid phases a car draws on, from its per-phase currents and the connector's phase rotation.
  func gridPhases(measured: [Double?], stationID: Int, connector: Int) throws -> [Int] {
    let local = (0..<3).filter { (measured[$0] ?? 0) >= 1 }.map { $0 + 1 }
    guard !local.isEmpty else { return [] }
    guard let rotation = try store.db.queryOne(
      "SELECT value FROM station_configuration WHERE station_id = ? AND key = 'ConnectorPhaseRotation' AND known = 1",
      [stationID])?.string("value")
    else { return local }
    // "0.RST,1.RST,2.RTS": connector 2's L1 is grid R (L1), its L2 is grid T (L3) …
    for item in rotation.split(separator: ",") {
      let parts = item.split(separator: ".")
      guard parts.count == 2, Int(parts[0]) == connector, parts[1].count == 3 else { continue }
      let map = parts[1].map { ["R": 1, "S": 2, "T": 3][String($0)] ?? 0 }
      guard Set(map) == [1, 2, 3] else { return local }
      return local.map { map[$0 - 1] }.sorted()
    }
    return local
  }

  /// The most a connector may draw: its own maximum and operator-set profiles (lowest wins).
  func maximumFor(stationID: Int, connector: Int, connectorMax: Double?) throws -> Double? {
    var limit = connectorMax
    for row in try store.db.query(
      """
      SELECT profile FROM installed_profiles WHERE station_id = ? AND connector_id IN (0, ?)
        AND charging_profile_id < 2000000000
      """, [stationID, connector])
    {
      guard let profile = try? JSONValue.parse(row.string("profile") ?? ""),
        let schedule = profile["chargingSchedule"],
        let first = schedule["chargingSchedulePeriod"]?[0], var value = first["limit"]?.doubleValue
      else { continue }
      if schedule["chargingRateUnit"]?.stringValue == "W" {
        value /= 230 * Double(first["numberPhases"]?.intValue ?? 3)
      }
      limit = min(limit ?? value, value)
    }
    return limit
  }
}
