import EvctlCore

extension Commands {
  static let report: CommandSpec = CommandSpec(
    "report", aliases: ["reports"], abstract: "Session reports and energy statistics",
    subcommands: [reportSessions, reportEnergy])

  static let reportFilterArguments: [ArgumentSpec] = [
    .option("from", value: "time", help: "Sessions that started at or after this; points into the past (7d = 7 days ago; a date is midnight in --tz)"),
    .option("to", value: "time", help: "Sessions that started before this; points into the past (1d = a day ago)"),
    .option("station", value: "identity", help: "Only this station", repeating: true, completion: .stations),
    .option("group", value: "group", help: "Only stations in this group's subtree", repeating: true,
            completion: .groups),
    .option("token", value: "id-tag", help: "Only this token", repeating: true, completion: .tokens),
    .option("user", value: "email", help: "Only this user's tokens", repeating: true, completion: .users),
    .option("connector", value: "number", help: "Only this connector number", repeating: true),
    .option("authorization", value: "kind", help: "Only sessions authorized this way",
            choices: ["rfid", "remote", "anonymous"], repeating: true),
    .option("min-energy", value: "kwh", help: "Only sessions of at least this energy: 0.5, 500Wh or 2kWh"),
    .option("min-duration", value: "duration", help: "Only sessions at least this long: 90, 30m or 2h"),
  ]

  /// An energy such as `0.5` (kWh), `500Wh` or `2kWh`, in Wh.
  static func energyWh(_ text: String) -> Double? {
    let lowered = text.lowercased()
    let (number, factor): (Substring, Double) =
      lowered.hasSuffix("kwh") ? (lowered.dropLast(3), 1000)
      : lowered.hasSuffix("wh") ? (lowered.dropLast(2), 1) : (lowered[...], 1000)
    guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
    return value * factor
  }

  static func sessionFilter(_ inv: Invocation, zone: LocalTime) throws -> SessionFilter {
    func time(_ name: String) throws -> Timestamp? { try inv.time(name, pointing: .past) }
    if inv.arguments.flag("active"), inv.arguments.flag("completed") {
      throw UsageError(message: "give --active or --completed, not both", commandPath: inv.arguments.path)
    }
    let active: Bool? = inv.arguments.flag("active") ? true : (inv.arguments.flag("completed") ? false : nil)
    var filter = SessionFilter(from: try time("from"), to: try time("to"), active: active)
    filter.stations = inv.arguments.values("station")
    filter.groups = inv.arguments.values("group")
    filter.idTags = inv.arguments.values("token")
    filter.userEmails = inv.arguments.values("user")
    filter.authorizations = inv.arguments.values("authorization")
    filter.connectors = try inv.arguments.values("connector").map { text in
      guard let number = Int(text), number >= 0 else {
        throw UsageError(message: "invalid value '\(text)' for '--connector': expected a connector number",
                         commandPath: inv.arguments.path)
      }
      return number
    }
    if let text = inv.arguments.option("min-energy") {
      guard let wh = energyWh(text) else {
        throw UsageError(message: "invalid value '\(text)' for '--min-energy': use 0.5 (kWh), 500Wh or 2kWh",
                         commandPath: inv.arguments.path)
      }
      filter.minimumEnergyWh = wh
    }
    filter.minimumDurationSeconds = try inv.duration("min-duration")
    return filter
  }

  static func kWh(_ wh: Double?) -> String? {
    guard let wh else { return nil }
    let value = (wh / 10).rounded() / 100
    return String(format3(value))
  }

  /// The exact kWh of `wh` (no rounding), for machine formats.
  static func exactKWh(_ wh: Double?) -> String? {
    guard let wh, wh.isFinite else { return nil }
    return format3(wh / 1000)
  }

  /// `energy_kwh` in JSON: exact.
  static func kWhJSON(_ wh: Double?) -> JSONValue {
    guard let wh, wh.isFinite else { return .null }
    return .double(wh / 1000)
  }

  /// A session's `energy_kwh`: exact in machine formats, rounded to 0.01 in tables.
  static let energyColumn = Column<SessionRecord>("energy_kwh", human: { s, _ in kWh(s.energyWh) }) {
    exactKWh($0.energyWh)
  }

  /// Columns added later, at the end so that CSV and TSV positions never shift: the exact
  /// integer `energy_wh` and why readings were `implausible`.
  static let exactEnergyColumns: [Column<SessionRecord>] = [
    Column("energy_wh", brief: false) { $0.energyWhInteger.map(String.init) },
    Column("implausible", brief: false) { $0.implausible },
  ]

  /// Says on stderr how many sessions were left out of energy figures, with the first reason.
  static func warnImplausible(_ sessions: [(id: Int, reason: String)], console: Console) {
    guard let first = sessions.first else { return }
    console.diagnose(
      "warning: \(sessions.count) session(s) with implausible meter readings left out of energy figures "
        + "(transaction \(first.id): \(PrintableText.escaped(first.reason)))")
  }

  static func format3(_ value: Double) -> String {
    var text = String(value)
    if text.hasSuffix(".0") { text.removeLast(2) }
    return text
  }

  static let reportSessions: CommandSpec = CommandSpec(
    "sessions", abstract: "List charging sessions with energy, for spreadsheets and scripts",
    discussion: """
      One row per session: when, how long, how much energy (meter stop minus meter start, or from
      meter values when the stop is missing), where, and who. Output streams, so millions of
      sessions to CSV run in flat memory.
      """,
    arguments: reportFilterArguments + [
      .flag("active", help: "Only sessions still charging"),
      .flag("completed", help: "Only finished sessions"),
      .flag("anonymous", help: "Leave out id tags and user emails"),
      .flag("chart", help: "Also draw sessions per hour of day (when people charge), in --tz"),
    ],
    examples: [
      .init("When do people charge at HQ?", "evctl report sessions --group HQ --from 30d --tz Europe/Amsterdam --chart -o csv > /dev/null"),
      .init("Last month as CSV for a spreadsheet", "evctl report sessions --from 2026-10-01 --to 2026-11-01 --tz Europe/Amsterdam -o csv > october.csv"),
      .init("Energy per session of one site", "evctl report sessions --group HQ -o json | jq '.[].energy_kwh'"),
    ]
  ) { inv in
    let zone = try inv.context.zone()
    let filter = try sessionFilter(inv, zone: zone)
    let anonymous = inv.arguments.flag("anonymous")
    let store = try inv.context.openStore()
    let now = store.clock()
    let columns = sessionColumns(zone: zone, now: now, anonymous: anonymous)
    var implausible: [(id: Int, reason: String)] = []
    let chart = inv.arguments.flag("chart")
    var perHour = [Int](repeating: 0, count: 24)
    let writer = StreamingWriter(renderer: inv.context.renderer(), columns: columns, json: { s in
      [
        "id": .int(Int64(s.id)), "start": .string(zone.format(s.startedAt)),
        "end": s.stoppedAt.map { .string(zone.format($0)) } ?? .null,
        "duration_s": .int(s.durationSeconds(now: now)),
        "energy_kwh": kWhJSON(s.energyWh), "energy_wh": s.energyWhInteger.map { .int($0) } ?? .null,
        "implausible": .from(s.implausible),
        "station": .string(s.stationIdentity), "station_name": .string(s.stationName),
        "connector": .int(Int64(s.connectorID)), "group": .from(s.groupPath),
        "authorization": .string(s.authorization),
        "id_tag": anonymous ? .null : .string(s.idTag), "user": anonymous ? .null : .from(s.userEmail),
        "meter_start_wh": .int(Int64(s.meterStart)), "meter_stop_wh": .from(s.meterStop),
        "stop_reason": .from(s.stopReason), "state": .string(s.state),
        "received_at": .string(zone.format(s.receivedAt)), "closed_by": .from(s.closedBy),
      ]
    }, console: inv.context.console)
    if writer.renderer.format == .csv {
      // Straight from each row into the buffer: the same bytes as the columns above give.
      var groupFields: [Int: [UInt8]] = [:]
      try store.forEachSessionRow(filter) { s in
        if let reason = s.implausible { implausible.append((s.id, reason)) }
        if chart { perHour[hourOfDay(s.startedAt, zone: zone)] += 1 }
        try writer.writeBytes { out in
          writeSessionCSV(s, to: &out, zone: zone, now: now, anonymous: anonymous, groupFields: &groupFields)
        }
      }
    } else {
      try store.forEachSession(filter) { s in
        if let reason = s.implausible { implausible.append((s.id, reason)) }
        if chart { perHour[hourOfDay(s.startedAt, zone: zone)] += 1 }
        try writer.write(s)
      }
    }
    writer.finish()
    if chart {
      let renderer = inv.context.renderer()
      var out = ""
      ChartOutput.place(
        sessionsPerHourChart(perHour, zone: zone).render(width: renderer.width ?? 80), after: &out,
        renderer: renderer, console: inv.context.console)
      inv.context.console.writeOut(out)
    }
    warnImplausible(implausible, console: inv.context.console)
  }

  /// `report sessions`' columns; ``writeSessionCSV(_:to:zone:now:anonymous:groupFields:)`` writes
  /// the same in CSV straight from a row.
  static func sessionColumns(zone: LocalTime, now: Timestamp, anonymous: Bool) -> [Column<SessionRecord>] {
    [
      Column("id") { String($0.id) },
      Column("start", human: { s, people in people.time(s.startedAt) }) { zone.format($0.startedAt) },
      Column("end", human: { s, people in s.stoppedAt.map(people.time) }) { $0.stoppedAt.map(zone.format) },
      Column.duration("duration_s") { $0.durationSeconds(now: now) },
      energyColumn,
      Column("station") { $0.stationIdentity },
      Column("station_name", brief: false) { $0.stationName },
      Column("connector") { String($0.connectorID) },
      Column("group") { $0.groupPath },
      Column("authorization") { $0.authorization },
      Column("id_tag", brief: false) { anonymous ? nil : $0.idTag },
      Column("user", brief: !anonymous) { anonymous ? nil : $0.userEmail },
      Column("meter_start_wh", brief: false) { String($0.meterStart) },
      Column("meter_stop_wh", brief: false) { $0.meterStop.map(String.init) },
      Column("stop_reason", brief: false) { $0.stopReason },
      Column("state", brief: false) { $0.state },
      Column("received_at", brief: false) { zone.format($0.receivedAt) },
    ] + exactEnergyColumns
  }

  /// One `report sessions -o csv` line, the columns in the order `reportSessions` declares them.
  static func writeSessionCSV(
    _ s: SessionRow, to out: inout [UInt8], zone: LocalTime, now: Timestamp, anonymous: Bool,
    groupFields: inout [Int: [UInt8]]
  ) {
    typealias C = SessionRow.Column
    let comma: UInt8 = 0x2C
    func time(_ time: Timestamp) {
      let mark = out.count
      zone.write(time, into: &out)
      // A year before 1 starts with '-': the same care as any other field.
      if out[mark] == 0x2D {
        let text = Array(out[mark...])
        out.removeSubrange(mark...)
        text.withUnsafeBufferPointer { CSVWriter.appendField($0, to: &out) }
      }
    }
    func text(_ column: Int) { s.columns.withUTF8(column) { CSVWriter.appendField($0, to: &out) } }
    CSVWriter.appendInteger(Int64(s.id), to: &out)
    out.append(comma)
    time(s.startedAt)
    out.append(comma)
    if let stop = s.stoppedAt { time(stop) }
    out.append(comma)
    CSVWriter.appendInteger(s.durationSeconds(now: now), to: &out)
    out.append(comma)
    CSVWriter.appendField(exactKWh(s.energyWh), to: &out)
    out.append(comma)
    text(C.identity)
    out.append(comma)
    text(C.stationName)
    out.append(comma)
    CSVWriter.appendInteger(Int64(s.connectorID), to: &out)
    out.append(comma)
    if let groupID = s.groupID {
      if let field = groupFields[groupID] {
        out.append(contentsOf: field)
      } else {
        var field: [UInt8] = []
        CSVWriter.appendField(s.groupPath, to: &field)
        groupFields[groupID] = field
        out.append(contentsOf: field)
      }
    }
    out.append(comma)
    CSVWriter.appendField(s.authorization, to: &out)
    out.append(comma)
    if !anonymous { text(C.idTag) }
    out.append(comma)
    if !anonymous { text(C.userEmail) }
    out.append(comma)
    CSVWriter.appendInteger(Int64(s.meterStart), to: &out)
    out.append(comma)
    if let stop = s.meterStop { CSVWriter.appendInteger(Int64(stop), to: &out) }
    out.append(comma)
    text(C.stopReason)
    out.append(comma)
    text(C.state)
    out.append(comma)
    time(s.receivedAt)
    out.append(comma)
    if let wh = s.energyWhInteger { CSVWriter.appendInteger(wh, to: &out) }
    out.append(comma)
    CSVWriter.appendField(s.implausible, to: &out)
    out += [0x0D, 0x0A]
  }

  /// The local hour of the day (0–23) at `time`.
  static func hourOfDay(_ time: Timestamp, zone: LocalTime) -> Int {
    let local = time.seconds + Int64(zone.offset(at: time))
    return Int(((local % 86_400) + 86_400) % 86_400 / 3600)
  }

  /// Sessions started in each hour of the day, every hour shown.
  static func sessionsPerHourChart(_ counts: [Int], zone: LocalTime) -> BarChart {
    let bars = counts.enumerated().map { hour, count in
      BarChart.Bar(
        label: (hour < 10 ? "0" : "") + "\(hour):00", value: Double(count), text: String(count))
    }
    return BarChart(title: "sessions started per hour of day (\(zone.name))", bars: bars)
  }

  struct EnergyBucket {
    var key: String
    var sessions = 0
    var energyWh = 0.0
    var connectors: Set<String> = []
    /// Connectors used when counted by the database (``DayEnergy``) instead of ``connectors``.
    var connectorCount: Int? = nil
    var connectorsUsed: Int { connectorCount ?? connectors.count }
    var durationSeconds: Int64 = 0
    /// The first moment of a time bucket, for ordering hours across a DST change.
    var start: Timestamp? = nil

    mutating func add(_ s: SessionRecord, now: Timestamp) {
      sessions += 1
      energyWh += s.energyWh ?? 0
      connectors.insert("\(s.stationID)/\(s.connectorID)")
      addDuration(s.durationSeconds(now: now))
    }

    /// Adds one day's sums of ``DayEnergy`` (its connectors are set apart: they do not add up).
    mutating func add(_ row: DayEnergy.Row) {
      sessions += row.sessions
      energyWh += row.energyWh
      addDuration(row.durationSeconds)
    }

    private mutating func addDuration(_ seconds: Int64) {
      let (sum, overflow) = durationSeconds.addingReportingOverflow(seconds)
      durationSeconds = overflow ? Int64.max : sum
    }

    var averageDurationSeconds: Int64 { sessions == 0 ? 0 : durationSeconds / Int64(sessions) }
  }

  /// What `report energy --chart` draws per bucket.
  enum ChartMetric: String, CaseIterable {
    case energy, sessions, duration

    var title: String {
      switch self {
      case .energy: return "energy (kWh)"
      case .sessions: return "sessions"
      case .duration: return "average session duration"
      }
    }

    func bar(_ label: String, _ bucket: EnergyBucket) -> BarChart.Bar {
      switch self {
      case .energy:
        return BarChart.Bar(label: label, value: bucket.energyWh, text: (kWh(bucket.energyWh) ?? "0") + " kWh")
      case .sessions:
        return BarChart.Bar(label: label, value: Double(bucket.sessions), text: String(bucket.sessions))
      case .duration:
        let average = bucket.averageDurationSeconds
        return BarChart.Bar(
          label: label, value: Double(average),
          text: bucket.sessions == 0 ? "-" : DurationText.format(seconds: average))
      }
    }
  }

  /// Time buckets a chart may draw at most; more is refused (narrow the period or take larger buckets).
  static let chartBucketLimit = 1000

  static let reportEnergy: CommandSpec = CommandSpec(
    "energy", abstract: "Energy statistics per hour, day, week, month, station, group or user",
    discussion: """
      Rows list the buckets that have sessions. The chart (--chart) adapts to the terminal width
      and, by hour, day, week or month, shows every bucket from --from (else the first session) to
      --to (else now), at most \(chartBucketLimit). With -o csv, tsv or json it goes to stderr.
      """,
    arguments: [
      .option("by", value: "bucket", help: "How to group sessions",
              choices: ["hour", "day", "week", "month", "station", "group", "user"], required: true),
      .flag("chart", help: "Also draw a bar chart; by time, every bucket of the period, empty ones too"),
      .option("metric", value: "metric", help: "What the chart draws; default energy",
              choices: ChartMetric.allCases.map(\.rawValue)),
    ] + reportFilterArguments,
    examples: [
      .init("Energy per month this year", "evctl report energy --by month --from 2026-01-01 --tz Europe/Amsterdam"),
      .init("Which stations deliver most, as a chart", "evctl report energy --by station --chart"),
      .init("Sessions per day last month, empty days too", "evctl report energy --by day --from 2026-11-01 --to 2026-12-01 --chart --metric sessions"),
    ]
  ) { inv in
    let zone = try inv.context.zone()
    let filter = try sessionFilter(inv, zone: zone)
    let by = inv.arguments.option("by")!
    let chart = inv.arguments.flag("chart")
    let metric = inv.arguments.option("metric").flatMap(ChartMetric.init(rawValue:)) ?? .energy
    if inv.arguments.option("metric") != nil, !chart {
      throw UsageError(message: "'--metric' says what the chart draws: give it with '--chart'",
                       commandPath: inv.arguments.path)
    }
    let timeBuckets = TimeBuckets.Size(rawValue: by).map { TimeBuckets($0, zone: zone) }
    if chart, let timeBuckets, let from = filter.from, let to = filter.to,
      timeBuckets.starts(from: from, to: to, limit: chartBucketLimit) == nil
    {
      throw UsageError(
        message: "the chart would have more than \(chartBucketLimit) \(by) buckets: narrow --from/--to or use larger buckets",
        commandPath: inv.arguments.path)
    }
    let store = try inv.context.openStore()
    let now = store.clock()
    var buckets: [String: EnergyBucket] = [:]
    var byStart: [Timestamp: EnergyBucket] = [:]
    var total = EnergyBucket(key: "total")
    var implausible: [(id: Int, reason: String)] = []
    var first: Timestamp?
    var last: Timestamp?
    if by == "day", !chart, let sums = try store.energyByDay(filter, zone: zone) {
      // Summed per day in one pass by the store; the same buckets as the loop below.
      for row in sums.rows {
        var bucket = buckets[row.day, default: EnergyBucket(key: row.day)]
        bucket.add(row)
        bucket.connectorCount = row.connectors
        buckets[row.day] = bucket
        total.add(row)
      }
      implausible = sums.implausible.map { ($0.id, $0.reason) }
      total.connectorCount = sums.connectors
    } else {
    try store.forEachSession(filter) { s in
      if let reason = s.implausible { implausible.append((s.id, reason)) }
      let key: String
      var start: Timestamp?
      switch by {
      case "hour":
        start = timeBuckets!.start(of: s.startedAt)
        key = zone.format(start!)
      case "day": key = zone.day(s.startedAt)
      case "week": key = zone.week(s.startedAt)
      case "month": key = zone.month(s.startedAt)
      case "station": key = s.stationIdentity
      case "group": key = s.groupPath ?? "(no group)"
      default: key = s.userEmail ?? "(anonymous)"
      }
      buckets[key, default: EnergyBucket(key: key, start: start)].add(s, now: now)
      total.add(s, now: now)
      if chart, let timeBuckets {
        byStart[timeBuckets.start(of: s.startedAt), default: EnergyBucket(key: "")].add(s, now: now)
        first = min(first ?? s.startedAt, s.startedAt)
        last = max(last ?? s.startedAt, s.startedAt)
      }
    }
    }
    let ordered = buckets.values.sorted { ($0.start ?? Timestamp(milliseconds: 0), $0.key) < ($1.start ?? Timestamp(milliseconds: 0), $1.key) }
    let rows = ordered + [total]
    let renderer = inv.context.renderer()
    let columns: [Column<EnergyBucket>] = [
      Column(by) { $0.key },
      Column("sessions") { String($0.sessions) },
      Column("energy_kwh", human: { b, _ in kWh(b.energyWh) }) { exactKWh($0.energyWh) },
      Column("connectors_used") { String($0.connectorsUsed) },
      Column.duration("average_duration_s") { $0.averageDurationSeconds },
      Column("energy_wh", brief: false) { b in b.energyWh.isFinite ? String(Int64(b.energyWh.rounded())) : nil },
    ]
    var out = renderer.list(rows, columns: columns) { b in
      [by: .string(b.key), "sessions": .int(Int64(b.sessions)),
       "energy_kwh": kWhJSON(b.energyWh), "energy_wh": .int(Int64(b.energyWh.rounded())),
       "connectors_used": .int(Int64(b.connectorsUsed)),
       "average_duration_s": .int(b.averageDurationSeconds)]
    }
    if chart {
      // The chart is for people: after the table, or on stderr so machine output stays clean.
      var bars: [BarChart.Bar] = []
      var title = "\(metric.title) per \(by)"
      if let timeBuckets {
        let from = filter.from ?? first
        let to = filter.to ?? max(now, (last ?? now).adding(seconds: 1))
        title += ", \(zone.name)"
        if let from {
          guard let starts = timeBuckets.starts(from: from, to: to, limit: chartBucketLimit) else {
            throw UsageError(
              message: "the chart would have more than \(chartBucketLimit) \(by) buckets: give --from/--to or use larger buckets",
              commandPath: inv.arguments.path)
          }
          bars = zip(starts, timeBuckets.labels(starts)).map { start, label in
            metric.bar(label, byStart[start] ?? EnergyBucket(key: ""))
          }
        }
      } else {
        bars = ordered.map { metric.bar($0.key, $0) }
      }
      let drawn = bars.isEmpty ? "\(title): no sessions\n" : BarChart(title: title, bars: bars).render(width: renderer.width ?? 80)
      ChartOutput.place(drawn, after: &out, renderer: renderer, console: inv.context.console)
    }
    warnImplausible(implausible, console: inv.context.console)
    inv.context.console.writeOut(out)
  }
}
