/// `report energy --by day` summed by the database: one row per local day instead of a record
/// per session.
public struct DayEnergy: Sendable {
  /// Sums per local day (`2026-11-21`), in day order.
  public struct Row: Sendable {
    public let day: String
    /// Distinct station connectors used.
    public let connectors: Int
    public let sessions: Int
    /// Whole-Wh energy of the sessions whose stop reading is plausible.
    public let energyWh: Double
    public let durationSeconds: Int64
  }

  /// A session the sums above leave for ``MeterPlausibility`` (no stop reading, or one that may
  /// be implausible), oldest first: its energy, or why it is left out.
  public struct Exception: Sendable {
    public let id: Int
    public let day: String
    public let energy: Result<Double?, MeterPlausibility.Implausible>
  }

  public let rows: [Row]
  public let exceptions: [Exception]
  /// Distinct station connectors used over all days.
  public let connectors: Int
}

extension Store {
  /// The day sums of ``DayEnergy`` for `filter` in `zone`, or `nil` when the filter or the stored
  /// times need the per-session path (``forEachSession(_:_:)``): filters SQL does not take,
  /// an actor limited to a group, times SQL's calendar functions do not read as Swift does.
  ///
  /// A local day is the UTC time plus the zone's offset at the session's start, the offset
  /// taken per quarter hour as ``LocalTime/offset(at:)`` takes it; the offsets in force over
  /// the stored period go to SQL as a `CASE` over their UTC boundaries.
  public func energyByDay(_ filter: SessionFilter, zone: LocalTime) throws -> DayEnergy? {
    guard actor.baseGroupID == nil, filter.groups.isEmpty, filter.stations.count <= 1, filter.idTags.isEmpty,
      filter.userEmails.isEmpty, filter.connectors.isEmpty, filter.authorizations.isEmpty,
      filter.minimumEnergyWh == nil, filter.minimumDurationSeconds == nil
    else { return nil }
    let stationID = try filter.stations.first.map { try station($0).id }
    let arguments: [any SQLiteBindable] = [
      filter.from?.iso8601, filter.to?.iso8601, stationID, filter.active.map { $0 ? 1 : 0 },
    ]
    let scope = """
      FROM transactions t JOIN stations s ON s.id = t.station_id
      WHERE (t.started_at >= ?1 OR ?1 IS NULL) AND (t.started_at < ?2 OR ?2 IS NULL)
        AND (t.station_id = ?3 OR ?3 IS NULL)
        AND (CASE WHEN t.state = 'active' THEN 1 ELSE 0 END = ?4 OR ?4 IS NULL)
      """
    let now = timeLiteral(now())
    let milliseconds: (String) -> String
    let integers: String
    switch dialect {
    case .sqlite:
      milliseconds = { "CAST(round((julianday(\($0)) - 2440587.5) * 86400000) AS INTEGER)" }
      // Readings SQLite kept as text or real are left to Swift, which reads them its own way.
      integers = "typeof(t.meter_start) = 'integer' AND typeof(t.meter_stop) = 'integer' AND "
    case .postgresql:
      milliseconds = { "CAST(round(extract(epoch FROM \($0)) * 1000) AS bigint)" }
      integers = ""
    }
    // Exactly the stop readings MeterPlausibility takes: both registers in [0, 10^12] Wh, the
    // stop not below the start, at most 10^7 Wh in the session.
    let plain = """
      (\(integers)t.meter_stop IS NOT NULL AND t.meter_start >= 0 AND t.meter_start <= 1000000000000
        AND t.meter_stop <= 1000000000000 AND t.meter_stop >= t.meter_start
        AND t.meter_stop - t.meter_start <= 10000000)
      """
    // One pass for the period, the connector numbers (for one integer key per connector), the
    // connectors over all days, and whether any session is left to MeterPlausibility.
    let key = "t.station_id * 2147483648 + t.connector_id"
    guard let range = try db.queryOne(
      """
      SELECT min(t.started_at), max(t.started_at), min(t.connector_id), max(t.connector_id),
        count(DISTINCT \(key)), sum(CASE WHEN \(plain) THEN 0 ELSE 1 END) \(scope)
      """, arguments)
    else { return nil }
    if range.values[0] == .null { return DayEnergy(rows: [], exceptions: [], connectors: 0) }
    guard let lowest = range.values[2].int, let highest = range.values[3].int, lowest >= 0, highest < 2_147_483_648
    else { return nil }
    let connectors = range.values[4].int ?? 0
    // Years SQLite's and PostgreSQL's calendars read as Swift's does.
    guard let first = range.values[0].string.flatMap(Timestamp.init(parsing:)),
      let last = range.values[1].string.flatMap(Timestamp.init(parsing:)),
      first.milliseconds >= -30_610_224_000_000, last.milliseconds < 221_845_392_000_000  // 1000-01-01, 9000-01-01
    else { return nil }
    let day = try dayExpression(zone: zone, first: first, last: last)
    guard let day else { return nil }
    let duration = "(\(milliseconds("coalesce(t.stopped_at, \(now))")) - \(milliseconds("t.started_at"))) / 1000"
    var rows: [DayEnergy.Row] = []
    var complete = true
    try db.forEachRawRow(
      """
      SELECT \(day) AS day, count(DISTINCT \(key)), count(*),
        sum(CASE WHEN \(plain) THEN t.meter_stop - t.meter_start ELSE 0 END), sum(\(duration)),
        sum(CASE WHEN \(duration) IS NULL THEN 1 ELSE 0 END)
      \(scope)
      GROUP BY 1 ORDER BY 1
      """, arguments
    ) { row in
      guard let day = row.string(0), row.int(5) == 0 else {
        complete = false
        return
      }
      rows.append(DayEnergy.Row(
        day: day, connectors: row.int(1) ?? 0, sessions: row.int(2) ?? 0,
        energyWh: row.double(3) ?? 0, durationSeconds: Int64(row.int(4) ?? 0)))
    }
    guard complete else { return nil }
    var exceptions: [DayEnergy.Exception] = []
    if range.values[5].int ?? 0 > 0 {
    try db.forEachRawRow(
      """
      SELECT t.id, \(day), t.meter_start, t.meter_stop,
        CASE WHEN t.meter_stop IS NULL THEN
          (SELECT max(energy_wh) FROM meter_values mv WHERE mv.transaction_id = t.id) END
      \(scope) AND CASE WHEN \(plain) THEN 0 ELSE 1 END = 1
      ORDER BY t.started_at, t.id
      """, arguments
    ) { row in
      exceptions.append(DayEnergy.Exception(
        id: row.int(0) ?? 0, day: row.string(1) ?? "",
        energy: MeterPlausibility.energy(meterStart: row.int(2) ?? 0, meterStop: row.int(3), maxEnergyWh: row.double(4))))
    }
    }
    return DayEnergy(rows: rows, exceptions: exceptions, connectors: connectors)
  }

  /// The local day of `t.started_at` in `zone` as SQL, for starts from `first` to `last`;
  /// `nil` when the zone changes its offset too often for one `CASE`.
  private func dayExpression(zone: LocalTime, first: Timestamp, last: Timestamp) throws -> String? {
    // Offsets in force from the first to the last start: (from this UTC millisecond on, offset).
    let slot: Int64 = 900_000
    var segments: [(from: Int64, offset: Int)] = []
    var at = first.milliseconds / slot * slot
    var current = zone.offset(at: Timestamp(milliseconds: at))
    segments.append((Int64.min, current))
    let end = last.milliseconds / slot * slot + slot
    while at < end {
      let next = min(at + 86_400_000, end)
      if zone.offset(at: Timestamp(milliseconds: next)) != current {
        // The change lies in (at, next]: find its quarter hour.
        var low = at, high = next
        while high - low > slot {
          let middle = low + (high - low) / 2 / slot * slot
          if zone.offset(at: Timestamp(milliseconds: middle)) == current { low = middle } else { high = middle }
        }
        current = zone.offset(at: Timestamp(milliseconds: high))
        segments.append((high, current))
        at = high
        if segments.count > 2_000 { return nil }
        continue
      }
      at = next
    }
    var offset = "\(segments.last!.offset)"
    if segments.count > 1 {
      offset = "CASE"
      for index in 1..<segments.count {
        offset += " WHEN t.started_at < \(timeLiteral(Timestamp(milliseconds: segments[index].from))) THEN \(segments[index - 1].offset)"
      }
      offset += " ELSE \(segments.last!.offset) END"
    }
    switch dialect {
    case .sqlite: return "strftime('%Y-%m-%d', t.started_at, (\(offset)) || ' seconds')"
    case .postgresql: return "to_char((t.started_at AT TIME ZONE 'UTC') + (\(offset)) * interval '1 second', 'YYYY-MM-DD')"
    }
  }

  /// `time` as an SQL literal comparable with stored times.
  private func timeLiteral(_ time: Timestamp) -> String {
    switch dialect {
    case .sqlite: return "'\(time.iso8601)'"
    case .postgresql: return "CAST('\(time.iso8601)' AS timestamptz)"
    }
  }
}
