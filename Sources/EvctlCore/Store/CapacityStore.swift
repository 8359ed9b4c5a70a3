/// One row of a group's current plan, for `group allocation`.
public struct PlannedCharge: Sendable {
  public var transactionID: Int
  public var stationIdentity: String
  public var connectorID: Int
  public var groupPath: String?
  public var limit: Double
  public var phases: [Int]
  public var measured: [Double?]
  public var note: String?
  public var sentLimit: Double?
}

extension Store {
  /// The chargingProfileId smart charging uses on a connector; operators' profiles use their own ids.
  public static func allocationProfileID(connector: Int) -> Int { 2_000_000_000 + connector }

  /// Sets a group's whole capacity (tests and imports); see ``setCapacity(_:changes:)``.
  @discardableResult
  public func setCapacity(_ reference: String, _ capacity: GroupCapacity, allowBelowIECMinimum: Bool = false) throws -> GroupCapacity {
    var changes = CapacityChanges()
    changes.maxCurrent = capacity.maxCurrent
    changes.phases = capacity.phases
    changes.maxPowerKW = capacity.maxPowerKW
    changes.clearMaxPower = capacity.maxPowerKW == nil
    changes.safeCurrent = capacity.safeCurrent
    changes.clearSafeCurrent = capacity.safeCurrent == nil
    changes.minCurrent = capacity.minCurrent
    changes.alternateSeconds = capacity.alternateSeconds
    changes.meterIncludesChargers = capacity.meterIncludesChargers
    changes.handOnSeconds = capacity.handOnSeconds
    changes.allowBelowIECMinimum = allowBelowIECMinimum
    return try setCapacity(reference, changes: changes)
  }

  /// Sets or changes a group's capacity: the first time it needs a maximum current; later only
  /// the settings in `changes` change and the rest stay as they were.
  @discardableResult
  public func setCapacity(_ reference: String, changes: CapacityChanges) throws -> GroupCapacity {
    try require(.setCapacity)
    let group = try resolveGroup(reference)
    try requireDomain(group.id, what: "group '\(group.path)'")
    let old = try capacities().first { $0.groupID == group.id }
    let capacity = try changes.applied(to: old, groupID: group.id)
    guard capacity.maxCurrent > 0, capacity.maxCurrent <= 10_000 else {
      throw StoreError.invalid("--max-current must be between 0 and 10000 A")
    }
    guard capacity.phases == 1 || capacity.phases == 3 else { throw StoreError.invalid("--phases must be 1 or 3") }
    guard capacity.minCurrent >= 0, capacity.minCurrent <= capacity.maxCurrent else {
      throw StoreError.invalid("--min-current must be between 0 and --max-current")
    }
    if capacity.minCurrent < GroupCapacity.iecMinimumCurrent, !changes.allowBelowIECMinimum,
      capacity.minCurrent != old?.minCurrent
    {
      throw StoreError.invalid(
        "--min-current \(capacity.minCurrent == capacity.minCurrent.rounded() ? String(Int(capacity.minCurrent)) : String(capacity.minCurrent)) A is below IEC 61851's 6 A: most cars stop charging or fault below it; add --allow-below-iec-minimum for a test bench")
    }
    if let safe = capacity.safeCurrent, !(0...capacity.maxCurrent).contains(safe) {
      throw StoreError.invalid("--safe-current must be between 0 and --max-current")
    }
    if let kW = capacity.maxPowerKW, kW <= 0 { throw StoreError.invalid("--max-power must be positive") }
    guard capacity.alternateSeconds >= 5 else { throw StoreError.invalid("--alternate-every must be at least 5s") }
    guard capacity.handOnSeconds >= 0 else { throw StoreError.invalid("--hand-on-after must be 0 or more") }
    try db.transaction {
      try db.run(
        """
        INSERT INTO group_capacities (group_id, max_current, phases, max_power_kw, safe_current, min_current,
          alternate_seconds, meter_includes_chargers, hand_on_seconds, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (group_id) DO UPDATE SET max_current = excluded.max_current, phases = excluded.phases,
          max_power_kw = excluded.max_power_kw, safe_current = excluded.safe_current,
          min_current = excluded.min_current, alternate_seconds = excluded.alternate_seconds,
          meter_includes_chargers = excluded.meter_includes_chargers,
          hand_on_seconds = excluded.hand_on_seconds, updated_at = excluded.updated_at
        """,
        [group.id, capacity.maxCurrent, capacity.phases, capacity.maxPowerKW, capacity.safeCurrent,
         capacity.minCurrent, Int(capacity.alternateSeconds), capacity.meterIncludesChargers ? 1 : 0,
         Int(capacity.handOnSeconds), now().iso8601])
      try noteAllocationChange()
    }
    return try capacities().first { $0.groupID == group.id }!
  }

  /// Tells serve that something smart charging plans from has changed, so it replans within its
  /// next command poll (0.1 s) instead of its 5 s timer.
  public func noteAllocationChange() throws {
    try db.run(
      """
      INSERT INTO settings (key, value) VALUES ('allocation_changes', '1')
      ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(settings.value AS INTEGER) + 1 AS TEXT)
      """)
  }

  /// The change counter ``noteAllocationChange()`` bumps.
  public func allocationChangeCount() throws -> Int {
    try db.queryOne("SELECT CAST(value AS INTEGER) AS n FROM settings WHERE key = 'allocation_changes'")?.int("n") ?? 0
  }

  /// Removes a group's capacity.
  public func clearCapacity(_ reference: String) throws {
    try require(.setCapacity)
    let group = try resolveGroup(reference)
    try requireDomain(group.id, what: "group '\(group.path)'")
    guard try db.run("DELETE FROM group_capacities WHERE group_id = ?", [group.id]) > 0 else {
      throw StoreError.notFound(kind: "capacity", name: group.path)
    }
    try noteAllocationChange()
  }

  /// Every capacity.
  public func capacities() throws -> [GroupCapacity] {
    try db.query("SELECT * FROM group_capacities").map { row in
      GroupCapacity(
        groupID: row.int("group_id")!, maxCurrent: row.double("max_current") ?? 0,
        phases: row.int("phases") ?? 3, maxPowerKW: row.double("max_power_kw"),
        safeCurrent: row.double("safe_current"), minCurrent: row.double("min_current") ?? 6,
        alternateSeconds: Int64(row.int("alternate_seconds") ?? 900),
        meterIncludesChargers: row.bool("meter_includes_chargers"),
        handOnSeconds: Int64(row.int("hand_on_seconds") ?? 180))
    }
  }

  /// Records the other load on a group's connection, valid for `seconds`.
  public func reportLoad(_ reference: String, currents: [Double], validForSeconds seconds: Int64) throws {
    try require(.remoteCommand)
    let group = try resolveGroup(reference)
    try requireDomain(group.id, what: "group '\(group.path)'")
    // Negative is export (PV): headroom.
    guard currents.count == 3, currents.allSatisfy({ $0.isFinite && abs($0) < 10_000 }) else {
      throw StoreError.invalid("currents must be between -10000 and 10000 A (negative: export)")
    }
    try db.run(
      """
      INSERT INTO group_load_readings (group_id, l1, l2, l3, valid_until, reported_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (group_id) DO UPDATE SET l1 = excluded.l1, l2 = excluded.l2, l3 = excluded.l3,
        valid_until = excluded.valid_until, reported_at = excluded.reported_at
      """,
      [group.id, currents[0], currents[1], currents[2], now().adding(seconds: seconds).iso8601, now().iso8601])
    try noteAllocationChange()
  }

  /// The latest readings by group.
  public func loadReadings() throws -> [Int: LoadReading] {
    var readings: [Int: LoadReading] = [:]
    for row in try db.query("SELECT * FROM group_load_readings") {
      readings[row.int("group_id")!] = LoadReading(
        currents: [row.double("l1") ?? 0, row.double("l2") ?? 0, row.double("l3") ?? 0],
        validUntil: row.date("valid_until") ?? Timestamp(milliseconds: 0))
    }
    return readings
  }

  /// Pauses all charging below a group until `until` (or until resumed).
  public func suspendGroup(_ reference: String, until: Timestamp?) throws {
    try require(.remoteCommand)
    let group = try resolveGroup(reference)
    try requireDomain(group.id, what: "group '\(group.path)'")
    try db.run(
      """
      INSERT INTO group_suspensions (group_id, until, requested_by, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (group_id) DO UPDATE SET until = excluded.until, requested_by = excluded.requested_by,
        created_at = excluded.created_at
      """, [group.id, until?.iso8601, actor.displayName, now().iso8601])
    try noteAllocationChange()
  }

  /// Ends a suspension.
  public func resumeGroup(_ reference: String) throws {
    try require(.remoteCommand)
    let group = try resolveGroup(reference)
    try requireDomain(group.id, what: "group '\(group.path)'")
    guard try db.run("DELETE FROM group_suspensions WHERE group_id = ?", [group.id]) > 0 else {
      throw StoreError.conflict("group '\(group.path)' is not suspended")
    }
    try noteAllocationChange()
  }

  /// Groups suspended now (expired suspensions are removed).
  public func suspendedGroups(at time: Timestamp) throws -> Set<Int> {
    try db.run("DELETE FROM group_suspensions WHERE until IS NOT NULL AND until <= ?", [time.iso8601])
    return Set(try db.query("SELECT group_id FROM group_suspensions").compactMap { $0.int("group_id") })
  }

  /// The current plan for the transactions below a group.
  public func plan(for reference: String) throws -> [PlannedCharge] {
    let tree = try groupTree()
    let group = try resolveGroup(reference, in: tree)
    try requireDomain(group.id, what: "group '\(group.path)'")
    let subtree = tree.subtree(of: group.id)
    return try db.query(
      """
      SELECT a.*, s.identity, s.group_id FROM allocations a JOIN stations s ON s.id = a.station_id
      JOIN transactions t ON t.id = a.transaction_id WHERE t.state = 'active' ORDER BY s.identity, a.connector_id
      """
    ).filter { subtree.contains($0.int("group_id") ?? -1) }.map { row in
      let id = row.int("transaction_id")!
      return PlannedCharge(
        transactionID: id, stationIdentity: row.string("identity") ?? "",
        connectorID: row.int("connector_id") ?? 0,
        groupPath: row.int("group_id").flatMap { tree.byID[$0]?.path }, limit: row.double("limit_amps") ?? 0,
        phases: (row.string("phases") ?? "").split(separator: ",").compactMap { Int($0) },
        measured: try measuredCurrents(transaction: id), note: row.string("note"),
        sentLimit: row.double("sent_limit"))
    }
  }

  /// The latest `Current.Import` per phase (L1…L3) of a transaction; `nil` where never measured.
  public func measuredCurrents(transaction id: Int) throws -> [Double?] {
    var currents: [Double?] = [nil, nil, nil]
    for row in try db.query(
      """
      SELECT phase, numeric_value FROM meter_values WHERE id IN (SELECT max(id) FROM meter_values
        WHERE transaction_id = ? AND measurand = 'Current.Import' GROUP BY phase)
      """, [id])
    {
      let phase = row.string("phase") ?? "L1"
      let index: Int
      switch phase.prefix(2) {
      case "L2": index = 1
      case "L3": index = 2
      default: index = 0
      }
      currents[index] = row.double("numeric_value")
    }
    return currents
  }
}
