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
    ],
    examples: [
      .init("Last month as CSV for a spreadsheet", "evctl report sessions --from 2026-10-01 --to 2026-11-01 --tz Europe/Amsterdam -o csv > october.csv"),
      .init("Energy per session of one site", "evctl report sessions --group HQ -o json | jq '.[].energy_kwh'"),
    ]
  ) { inv in
    let zone = try inv.context.zone()
    let filter = try sessionFilter(inv, zone: zone)
    let anonymous = inv.arguments.flag("anonymous")
    let store = try inv.context.openStore()
    let now = store.clock()
    let columns: [Column<SessionRecord>] = [
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
    var implausible: [(id: Int, reason: String)] = []
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
    try store.forEachSession(filter) { s in
      if let reason = s.implausible { implausible.append((s.id, reason)) }
      try writer.write(s)
    }
    writer.finish()
    warnImplausible(implausible, console: inv.context.console)
  }

  struct EnergyBucket {
    var key: String
    var sessions = 0
    var energyWh = 0.0
    var connectors: Set<String> = []
    var durationSeconds: Int64 = 0
  }

  static let reportEnergy: CommandSpec = CommandSpec(
    "energy", abstract: "Energy statistics per day, week, month, station, group or user",
    arguments: [
      .option("by", value: "bucket", help: "How to group sessions",
              choices: ["day", "week", "month", "station", "group", "user"], required: true),
      .flag("chart", help: "Draw the energy per bucket as a bar chart"),
    ] + reportFilterArguments,
    examples: [
      .init("Energy per month this year", "evctl report energy --by month --from 2026-01-01 --tz Europe/Amsterdam"),
      .init("Which stations deliver most, as a chart", "evctl report energy --by station --chart"),
    ]
  ) { inv in
    let zone = try inv.context.zone()
    let filter = try sessionFilter(inv, zone: zone)
    let by = inv.arguments.option("by")!
    let store = try inv.context.openStore()
    let now = store.clock()
    var buckets: [String: EnergyBucket] = [:]
    var total = EnergyBucket(key: "total")
    var implausible: [(id: Int, reason: String)] = []
    try store.forEachSession(filter) { s in
      if let reason = s.implausible { implausible.append((s.id, reason)) }
      let key: String
      switch by {
      case "day": key = zone.day(s.startedAt)
      case "week": key = zone.week(s.startedAt)
      case "month": key = zone.month(s.startedAt)
      case "station": key = s.stationIdentity
      case "group": key = s.groupPath ?? "(no group)"
      default: key = s.userEmail ?? "(anonymous)"
      }
      for index in 0..<2 {
        var bucket = index == 0 ? (buckets[key] ?? EnergyBucket(key: key)) : total
        bucket.sessions += 1
        bucket.energyWh += s.energyWh ?? 0
        bucket.connectors.insert("\(s.stationID)/\(s.connectorID)")
        let (sum, overflow) = bucket.durationSeconds.addingReportingOverflow(s.durationSeconds(now: now))
        bucket.durationSeconds = overflow ? Int64.max : sum
        if index == 0 { buckets[key] = bucket } else { total = bucket }
      }
    }
    let rows = buckets.keys.sorted().map { buckets[$0]! } + [total]
    let renderer = inv.context.renderer()
    let columns: [Column<EnergyBucket>] = [
      Column(by) { $0.key },
      Column("sessions") { String($0.sessions) },
      Column("energy_kwh", human: { b, _ in kWh(b.energyWh) }) { exactKWh($0.energyWh) },
      Column("connectors_used") { String($0.connectors.count) },
      Column.duration("average_duration_s") { $0.sessions == 0 ? 0 : $0.durationSeconds / Int64($0.sessions) },
      Column("energy_wh", brief: false) { b in b.energyWh.isFinite ? String(Int64(b.energyWh.rounded())) : nil },
    ]
    var out = renderer.list(rows, columns: columns) { b in
      [by: .string(b.key), "sessions": .int(Int64(b.sessions)),
       "energy_kwh": kWhJSON(b.energyWh), "energy_wh": .int(Int64(b.energyWh.rounded())),
       "connectors_used": .int(Int64(b.connectors.count)),
       "average_duration_s": .int(b.sessions == 0 ? 0 : b.durationSeconds / Int64(b.sessions))]
    }
    if inv.arguments.flag("chart") {
      // The chart is for people: after the table, or on stderr so machine output stays clean.
      let chart = energyChart(buckets.keys.sorted().map { buckets[$0]! })
      if renderer.format == .table || renderer.format == .wide {
        out += "\n" + chart
      } else {
        inv.context.console.writeError(chart)
      }
    }
    warnImplausible(implausible, console: inv.context.console)
    inv.context.console.writeOut(out)
  }

  /// Bars of energy per bucket, 50 characters for the largest.
  static func energyChart(_ buckets: [EnergyBucket]) -> String {
    let peak = max(buckets.map(\.energyWh).filter(\.isFinite).max() ?? 0, 1)
    let width = min(max(buckets.map { PrintableText.escaped($0.key).count }.max() ?? 4, 4), 30)
    var out = ""
    for bucket in buckets {
      let share = bucket.energyWh.isFinite ? max(0, min(1, bucket.energyWh / peak)) : 0
      let bar = String(repeating: "█", count: Int((share * 50).rounded()))
      out += String(PrintableText.escaped(bucket.key).prefix(width)).padding(toLength: width + 2, withPad: " ", startingAt: 0)
        + bar + " " + (kWh(bucket.energyWh) ?? "0") + " kWh\n"
    }
    return out
  }
}
