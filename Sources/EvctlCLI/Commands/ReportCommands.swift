import EvctlCore

extension Commands {
  static let report: CommandSpec = CommandSpec(
    "report", aliases: ["reports"], abstract: "Session reports and energy statistics",
    subcommands: [reportSessions, reportEnergy])

  static let reportFilterArguments: [ArgumentSpec] = [
    .option("from", value: "time", help: "Sessions that started at or after this (a date is midnight in --tz)"),
    .option("to", value: "time", help: "Sessions that started before this"),
    .option("tz", value: "zone", help: "Time zone for day boundaries and times, e.g. Europe/Amsterdam; default UTC"),
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
    func time(_ name: String) throws -> Timestamp? {
      guard let text = inv.arguments.option(name) else { return nil }
      guard let value = zone.parse(text) else {
        throw UsageError(message: "invalid time '\(text)' for '--\(name)': use 2026-11-01 or 2026-11-01T06:00:00", commandPath: inv.arguments.path)
      }
      return value
    }
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
    let zone = try LocalTime(identifier: inv.arguments.option("tz"))
    let filter = try sessionFilter(inv, zone: zone)
    let anonymous = inv.arguments.flag("anonymous")
    let store = try inv.context.openStore()
    let now = store.clock()
    let columns: [Column<SessionRecord>] = [
      Column("id") { String($0.id) },
      Column("start") { zone.format($0.startedAt) },
      Column("end") { $0.stoppedAt.map(zone.format) },
      Column("duration_s") { String($0.durationSeconds(now: now)) },
      Column("energy_kwh") { kWh($0.energyWh) },
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
    ]
    let writer = StreamingWriter(renderer: inv.context.renderer(), columns: columns, json: { s in
      [
        "id": .int(Int64(s.id)), "start": .string(zone.format(s.startedAt)),
        "end": s.stoppedAt.map { .string(zone.format($0)) } ?? .null,
        "duration_s": .int(s.durationSeconds(now: now)),
        "energy_kwh": s.energyWh.map { .double(($0 / 10).rounded() / 100) } ?? .null,
        "station": .string(s.stationIdentity), "station_name": .string(s.stationName),
        "connector": .int(Int64(s.connectorID)), "group": .from(s.groupPath),
        "authorization": .string(s.authorization),
        "id_tag": anonymous ? .null : .string(s.idTag), "user": anonymous ? .null : .from(s.userEmail),
        "meter_start_wh": .int(Int64(s.meterStart)), "meter_stop_wh": .from(s.meterStop),
        "stop_reason": .from(s.stopReason), "state": .string(s.state),
        "received_at": .string(zone.format(s.receivedAt)), "closed_by": .from(s.closedBy),
      ]
    }, console: inv.context.console)
    try store.forEachSession(filter) { writer.write($0) }
    writer.finish()
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
    let zone = try LocalTime(identifier: inv.arguments.option("tz"))
    let filter = try sessionFilter(inv, zone: zone)
    let by = inv.arguments.option("by")!
    let store = try inv.context.openStore()
    let now = store.clock()
    var buckets: [String: EnergyBucket] = [:]
    var total = EnergyBucket(key: "total")
    try store.forEachSession(filter) { s in
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
        bucket.durationSeconds += s.durationSeconds(now: now)
        if index == 0 { buckets[key] = bucket } else { total = bucket }
      }
    }
    let rows = buckets.keys.sorted().map { buckets[$0]! } + [total]
    let renderer = inv.context.renderer()
    let columns: [Column<EnergyBucket>] = [
      Column(by) { $0.key },
      Column("sessions") { String($0.sessions) },
      Column("energy_kwh") { kWh($0.energyWh) },
      Column("connectors_used") { String($0.connectors.count) },
      Column("average_duration_s") { $0.sessions == 0 ? "0" : String($0.durationSeconds / Int64($0.sessions)) },
    ]
    var out = renderer.list(rows, columns: columns) { b in
      [by: .string(b.key), "sessions": .int(Int64(b.sessions)),
       "energy_kwh": .double((b.energyWh / 10).rounded() / 100),
       "connectors_used": .int(Int64(b.connectors.count)),
       "average_duration_s": .int(b.sessions == 0 ? 0 : b.durationSeconds / Int64(b.sessions))]
    }
    if inv.arguments.flag("chart"), renderer.format != .json {
      let peak = max(buckets.values.map(\.energyWh).max() ?? 0, 1)
      let width = min(max(buckets.keys.map(\.count).max() ?? 4, 4), 30)
      out += "\n"
      for bucket in buckets.keys.sorted().map({ buckets[$0]! }) {
        let bar = String(repeating: "█", count: Int((bucket.energyWh / peak * 50).rounded()))
        out += String(bucket.key.prefix(width)).padding(toLength: width + 2, withPad: " ", startingAt: 0)
          + bar + " " + (kWh(bucket.energyWh) ?? "0") + " kWh\n"
      }
    }
    inv.context.console.writeOut(out)
  }
}
