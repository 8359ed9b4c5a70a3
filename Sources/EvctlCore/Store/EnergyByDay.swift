import Foundation

/// `report energy --by day` folded in one pass over the sessions: one row per local day
/// instead of a ``SessionRecord`` per session.
public struct DayEnergy: Sendable {
  /// Sums per local day (`2026-11-21`), in day order.
  public struct Row: Sendable {
    public let day: String
    /// Distinct station connectors used.
    public let connectors: Int
    public let sessions: Int
    /// Energy of the sessions whose readings are plausible (``MeterPlausibility``).
    public let energyWh: Double
    public let durationSeconds: Int64
  }

  /// A session whose readings ``MeterPlausibility`` refuses: left out of the energy sums.
  public struct Implausible: Sendable {
    public let id: Int
    public let reason: String
  }

  public let rows: [Row]
  /// Oldest first (by start, then id), as the per-session reports list them.
  public let implausible: [Implausible]
  /// Distinct station connectors used over all days.
  public let connectors: Int
}

extension Store {
  /// The day sums of ``DayEnergy`` for `filter` in `zone`, or `nil` when the filter needs the
  /// per-session path (``forEachSession(_:_:)``): filters this pass does not take, or an actor
  /// limited to a group.
  ///
  /// One scan of the sessions with the few columns the sums need, in storage order, each row
  /// read in place and folded in Swift: times parsed as the per-session path parses them, the
  /// local day as ``LocalTime/day(_:)`` names it, the energy as ``MeterPlausibility`` takes it.
  /// The database does no calendar or grouping work (on SQLite that work cost 7 s per
  /// 1,000,000 sessions).
  ///
  /// A SQLite file with many sessions is scanned in `readers` halves of the id range at once,
  /// the second on its own read connection (default: two when there are two cores and over
  /// 200,000 ids). Each session is counted once, by its id; with `serve` writing meanwhile, the
  /// halves may see the store a moment apart, as two reports run one after the other would.
  public func energyByDay(_ filter: SessionFilter, zone: LocalTime, readers: Int? = nil) throws -> DayEnergy? {
    guard actor.baseGroupID == nil, filter.groups.isEmpty, filter.stations.count <= 1, filter.idTags.isEmpty,
      filter.userEmails.isEmpty, filter.connectors.isEmpty, filter.authorizations.isEmpty,
      filter.minimumEnergyWh == nil, filter.minimumDurationSeconds == nil
    else { return nil }
    let scope = DayScanScope(
      from: filter.from?.iso8601, to: filter.to?.iso8601,
      stationID: try filter.stations.first.map { try station($0).id }, active: filter.active.map { $0 ? 1 : 0 })
    let now = now()
    var fold = DayFold(zone: zone, now: now)
    guard let path = databasePath, let ids = try db.queryOne("SELECT min(id), max(id) FROM transactions"),
      let lowest = ids.values[0].int, let highest = ids.values[1].int
    else {
      try scope.fold(db, into: &fold, ids: nil)
      return fold.result()
    }
    let halves = readers ?? (ProcessInfo.processInfo.activeProcessorCount >= 2 && highest - lowest > 200_000 ? 2 : 1)
    guard halves >= 2, highest > lowest else {
      try scope.fold(db, into: &fold, ids: nil)
      return fold.result()
    }
    let middle = lowest + (highest - lowest) / 2
    let upper = DayScanResult()
    let zoneName = zone.name
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
      upper.set(Result {
        // Its own connection and its own zone (LocalTime's offset cache is one thread's).
        let reader = try Connection(.path(path))
        var fold = DayFold(zone: try LocalTime(identifier: zoneName), now: now)
        try scope.fold(reader, into: &fold, ids: (middle + 1, highest))
        return fold
      })
    }
    let lower = Result { try scope.fold(db, into: &fold, ids: (lowest, middle)) }
    group.wait()
    try lower.get()
    fold.merge(try upper.get())
    return fold.result()
  }
}

/// The conditions of a ``Store/energyByDay(_:zone:readers:)`` scan, as values a second reader's
/// thread may take.
private struct DayScanScope: Sendable {
  let from: String?
  let to: String?
  let stationID: Int?
  let active: Int?

  /// Folds the sessions in scope (with ids in `ids`, both ends included, when given) into `fold`.
  func fold(_ backend: any StoreBackend, into fold: inout DayFold, ids: (Int, Int)?) throws {
    // Only the conditions given: on SQLite each `?1 IS NULL` the sessions report writes costs a
    // column read per row, a third of this scan. No join: the foreign key keeps every
    // session's station.
    var conditions: [String] = []
    var arguments: [any SQLiteBindable] = []
    func condition(_ sql: String, _ value: (any SQLiteBindable)?) {
      guard let value else { return }
      arguments.append(value)
      conditions.append(sql.replacingOccurrences(of: "?", with: "?\(arguments.count)"))
    }
    condition("t.started_at >= ?", from)
    condition("t.started_at < ?", to)
    condition("t.station_id = ?", stationID)
    condition("CASE WHEN t.state = 'active' THEN 1 ELSE 0 END = ?", active)
    condition("t.id >= ?", ids?.0)
    condition("t.id <= ?", ids?.1)
    try backend.forEachRawRow(
      """
      SELECT t.id, t.started_at, t.stopped_at, t.station_id, t.connector_id, t.meter_start, t.meter_stop,
        CASE WHEN t.meter_stop IS NULL THEN
          (SELECT max(energy_wh) FROM meter_values mv WHERE mv.transaction_id = t.id) END
      FROM transactions t\(conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
      """,
      arguments
    ) { row in
      func time(_ index: Int) -> Timestamp? {
        row.withUTF8(index) { $0.flatMap(Timestamp.init(parsingUTF8:)) }
      }
      fold.add(
        id: row.int(0) ?? 0, startedAt: time(1) ?? Timestamp(milliseconds: 0), stoppedAt: time(2),
        stationID: row.int(3) ?? 0, connectorID: row.int(4) ?? 0,
        energy: MeterPlausibility.energy(meterStart: row.int(5) ?? 0, meterStop: row.int(6), maxEnergyWh: row.double(7)))
    }
  }
}

/// The second reader's fold, handed back to the thread that waits for it.
private final class DayScanResult: @unchecked Sendable {
  private let lock = NSLock()
  private var result: Result<DayFold, any Error>?

  func set(_ value: Result<DayFold, any Error>) {
    lock.withLock { result = value }
  }

  func get() throws -> DayFold {
    try lock.withLock { result! }.get()
  }
}

/// The running sums of ``Store/energyByDay(_:zone:)``, per local day number.
private struct DayFold {
  struct Day {
    var label: String
    var sessions = 0
    var energyWh = 0.0
    var durationSeconds: Int64 = 0
    var connectors = Connectors()

    mutating func add(_ other: Day) {
      sessions += other.sessions
      energyWh += other.energyWh
      let (sum, overflow) = durationSeconds.addingReportingOverflow(other.durationSeconds)
      durationSeconds = overflow ? Int64.max : sum
      connectors.formUnion(other.connectors)
    }
  }

  /// Distinct (station, connector) pairs: packed into one integer where both fit, which is
  /// every pair evctl stores; any other pair apart.
  struct Connectors {
    var packed = IntegerSet()
    var others: Set<[Int]> = []
    var count: Int { packed.count + others.count }

    mutating func insert(stationID: Int, connectorID: Int) {
      if stationID >= 0, stationID < 1 << 32, connectorID >= 0, connectorID < 1 << 31 {
        packed.insert(stationID << 31 | connectorID)
      } else {
        others.insert([stationID, connectorID])
      }
    }

    mutating func formUnion(_ other: Connectors) {
      packed.formUnion(other.packed)
      others.formUnion(other.others)
    }
  }

  struct Times: SessionTimes {
    let startedAt: Timestamp
    let stoppedAt: Timestamp?
    var energyWh: Double? { nil }
  }

  let zone: LocalTime
  let now: Timestamp
  var days: [Int: Day] = [:]
  var implausible: [(start: Timestamp, id: Int, reason: String)] = []
  /// Sessions come roughly in time order: the day last added to is kept out of the dictionary.
  var currentNumber: Int?
  var current = Day(label: "")

  init(zone: LocalTime, now: Timestamp) {
    self.zone = zone
    self.now = now
  }

  mutating func add(
    id: Int, startedAt: Timestamp, stoppedAt: Timestamp?, stationID: Int, connectorID: Int,
    energy: Result<Double?, MeterPlausibility.Implausible>
  ) {
    let number = zone.localDay(of: startedAt)
    if number != currentNumber {
      if let currentNumber { days[currentNumber] = current }
      current = days.removeValue(forKey: number) ?? Day(label: zone.day(startedAt))
      currentNumber = number
    }
    current.sessions += 1
    switch energy {
    case .success(let wh): current.energyWh += wh ?? 0
    case .failure(let problem): implausible.append((startedAt, id, problem.reason))
    }
    let (sum, overflow) = current.durationSeconds.addingReportingOverflow(
      Times(startedAt: startedAt, stoppedAt: stoppedAt).durationSeconds(now: now))
    current.durationSeconds = overflow ? Int64.max : sum
    current.connectors.insert(stationID: stationID, connectorID: connectorID)
  }

  /// Adds the sums of `other` (another part of the same scan).
  mutating func merge(_ other: DayFold) {
    var other = other
    other.flush()
    flush()
    for (number, day) in other.days {
      guard var mine = days[number] else {
        days[number] = day
        continue
      }
      mine.add(day)
      days[number] = mine
    }
    implausible += other.implausible
  }

  /// Puts the day being added to back among the others.
  private mutating func flush() {
    if let currentNumber { days[currentNumber] = current }
    currentNumber = nil
  }

  mutating func result() -> DayEnergy {
    flush()
    // Labels are unique per day number; merged by label all the same, as the per-session path keys.
    var byLabel: [String: Day] = [:]
    var allConnectors = Connectors()
    for day in days.values {
      allConnectors.formUnion(day.connectors)
      guard var merged = byLabel[day.label] else {
        byLabel[day.label] = day
        continue
      }
      merged.add(day)
      byLabel[day.label] = merged
    }
    let rows = byLabel.values.sorted { $0.label < $1.label }.map {
      DayEnergy.Row(
        day: $0.label, connectors: $0.connectors.count, sessions: $0.sessions, energyWh: $0.energyWh,
        durationSeconds: $0.durationSeconds)
    }
    let ordered = implausible.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
    return DayEnergy(
      rows: rows, implausible: ordered.map { DayEnergy.Implausible(id: $0.id, reason: $0.reason) },
      connectors: allConnectors.count)
  }
}
