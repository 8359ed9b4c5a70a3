import EvctlCore

extension Commands {
  static let profile: CommandSpec = CommandSpec(
    "profile", aliases: ["profiles"], abstract: "Manage charging profiles and send them to stations",
    subcommands: [profileList, profileShow, profileCreate, profileDelete, profileSet, profileClear,
                  profileComposite, profileInstalled])

  static let profileColumns: [Column<ChargingProfile>] = [
    Column("id") { String($0.id) },
    Column("name") { $0.name },
    Column("purpose") { $0.purpose.rawValue },
    Column("kind") { $0.kind.rawValue + ($0.recurrency.map { "/" + $0 } ?? "") },
    Column("stack_level") { String($0.stackLevel) },
    Column("unit") { $0.unit },
    Column("periods") { p in p.periods.map { "\($0.startPeriod):\(format($0.limit))" }.joined(separator: " ") },
    Column("duration", brief: false) { $0.duration.map(String.init) },
    Column.time("start_schedule", brief: false) { $0.startSchedule },
    Column.time("valid_from", brief: false) { $0.validFrom },
    Column.time("valid_to", brief: false) { $0.validTo },
  ]

  static func format(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
  }

  static let profileList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List stored charging profiles"
  ) { inv in
    let profiles = try inv.context.openStore().chargingProfiles()
    inv.context.console.writeOut(inv.context.renderer().list(profiles, columns: profileColumns, json: \.json))
  }

  static let profileShow: CommandSpec = CommandSpec(
    "show", abstract: "Show a stored charging profile",
    arguments: [.positional("profile", help: "Name or id")]
  ) { inv in
    let profile = try inv.context.openStore().chargingProfile(inv.required("profile"))
    inv.context.console.writeOut(inv.context.renderer().one(profile, columns: profileColumns, json: \.json))
  }

  static let profileCreate: CommandSpec = CommandSpec(
    "create", abstract: "Store a validated charging profile",
    discussion: """
      Periods are START:LIMIT or START:LIMIT:PHASES, the first starting at 0, limits with at most
      one decimal, in amperes per phase (A) or watts in total (W).
      """,
    arguments: [
      .positional("name", help: "A unique name"),
      .option("purpose", value: "purpose", help: "What it limits", choices: ProfilePurpose.allCases.map(\.rawValue), required: true),
      .option("kind", value: "kind", help: "How its schedule is anchored", choices: ProfileKind.allCases.map(\.rawValue)),
      .option("recurrency", value: "kind", help: "With Recurring: Daily or Weekly", choices: ["Daily", "Weekly"]),
      .option("stack-level", value: "level", help: "Higher levels win; default 0"),
      .option("unit", value: "unit", help: "Rate unit; default A", choices: ["A", "W"]),
      .option("period", value: "start:limit[:phases]", help: "A schedule period", required: true, repeating: true),
      .option("duration", value: "duration", help: "How long the schedule lasts"),
      .option("start-schedule", value: "time", help: "When the schedule starts (Absolute, Recurring); points into the future (1h = in an hour)"),
      .option("valid-from", value: "time", help: "Valid from; points into the future (1h = in an hour)"),
      .option("valid-to", value: "time", help: "Valid until; points into the future (30d = 30 days from now)"),
      .option("min-rate", value: "rate", help: "Minimum charging rate"),
    ],
    examples: [
      .init("16 A for an hour, then 10 A on one phase", "evctl profile create evening --purpose TxDefaultProfile --kind Relative --period 0:16 --period 3600:10:1"),
      .init("A site cap of 22 kW", "evctl profile create cap --purpose ChargePointMaxProfile --kind Absolute --unit W --period 0:22000"),
    ]
  ) { inv in
    let periods = try inv.arguments.values("period").map(SchedulePeriod.init(parsing:))
    let draft = ChargingProfile(
      id: 0, name: inv.required("name"),
      purpose: ProfilePurpose(rawValue: inv.arguments.option("purpose")!)!,
      kind: inv.arguments.option("kind").flatMap(ProfileKind.init(rawValue:)) ?? .absolute,
      recurrency: inv.arguments.option("recurrency"), stackLevel: try inv.int("stack-level") ?? 0,
      unit: inv.arguments.option("unit") ?? "A", periods: periods, duration: try inv.seconds("duration"),
      startSchedule: try inv.time("start-schedule", pointing: .future), validFrom: try inv.time("valid-from", pointing: .future),
      validTo: try inv.time("valid-to", pointing: .future), minChargingRate: try inv.double("min-rate"))
    let profile = try inv.context.openStore().createChargingProfile(draft)
    inv.context.confirm("profile", profile.name, "created")
  }

  static let profileDelete: CommandSpec = CommandSpec(
    "delete", aliases: ["rm"], abstract: "Delete a stored profile (stations keep what they hold)",
    arguments: [.positional("profile", help: "Name or id")]
  ) { inv in
    try inv.context.openStore().deleteChargingProfile(inv.required("profile"))
    inv.context.confirm("profile", inv.required("profile"), "deleted")
  }

  static let profileSet: CommandSpec = CommandSpec(
    "set", abstract: "Send a stored profile to a station (SetChargingProfile)",
    arguments: [
      Remote.targetIdentity,
      .positional("profile", help: "Name or id"),
      .option("connector", value: "number", help: "Connector; default 0 (the whole station)"),
      .option("transaction", value: "id", help: "For a TxProfile: the active transaction"),
    ] + Remote.options,
    examples: [.init("Cap a station", "evctl profile set CP-001 cap")]
  ) { inv in
    let store = try inv.context.openStore()
    let profile = try store.chargingProfile(inv.required("profile"))
    let connector = try inv.int("connector") ?? 0
    let transaction = try inv.int("transaction")
    try Remote.send(inv, action: "SetChargingProfile") { station in
      try store.setChargingProfilePayload(
        station: station.identity, profile: profile, connector: connector, transaction: transaction)
    }
  }

  static let profileClear: CommandSpec = CommandSpec(
    "clear", abstract: "Remove profiles from a station (ClearChargingProfile); no filter clears all",
    arguments: remoteArguments([
      .option("id", value: "profile", help: "Only this profile (name or id)"),
      .option("connector", value: "number", help: "Only on this connector"),
      .option("purpose", value: "purpose", help: "Only this purpose", choices: ProfilePurpose.allCases.map(\.rawValue)),
      .option("stack-level", value: "level", help: "Only this stack level"),
      .yes,
    ])
  ) { inv in
    let store = try inv.context.openStore()
    if !["id", "connector", "purpose", "stack-level"].contains(where: { inv.arguments.option($0) != nil }) {
      let stations = try Remote.targets(inv, store: store)
      try inv.confirmDestructive(
        "clear every charging profile on \(stations.count == 1 ? stations[0].identity : "\(stations.count) stations")")
    }
    var payload: [String: JSONValue] = [:]
    if let reference = inv.arguments.option("id") {
      let id = try Int(reference) ?? store.chargingProfile(reference).id
      payload["id"] = .int(Int64(id))
    }
    if let connector = try inv.int("connector") { payload["connectorId"] = .int(Int64(connector)) }
    if let purpose = inv.arguments.option("purpose") { payload["chargingProfilePurpose"] = .string(purpose) }
    if let level = try inv.int("stack-level") { payload["stackLevel"] = .int(Int64(level)) }
    try Remote.send(inv, action: "ClearChargingProfile") { _ in .object(payload) }
  }

  static let profileInstalled: CommandSpec = CommandSpec(
    "installed", abstract: "Show the profiles we believe a station holds",
    arguments: [.positional("identity", help: "The station", completion: .stations)]
  ) { inv in
    let rows = try inv.context.openStore().installedProfiles(inv.required("identity"))
    let columns: [Column<Row>] = [
      Column("connector") { $0.string("connector_id") },
      Column("profile_id") { $0.string("charging_profile_id") },
      Column("purpose") { $0.string("purpose") },
      Column("stack_level") { $0.string("stack_level") },
      Column("transaction") { $0.string("transaction_id") },
      Column("installed_at") { $0.string("installed_at") },
    ]
    inv.context.console.writeOut(inv.context.renderer().list(rows, columns: columns) { row in
      ["connector_id": .from(row.int("connector_id")), "charging_profile_id": .from(row.int("charging_profile_id")),
       "purpose": .from(row.string("purpose")), "stack_level": .from(row.int("stack_level")),
       "transaction_id": .from(row.int("transaction_id")), "installed_at": .from(row.string("installed_at")),
       "profile": (try? JSONValue.parse(row.string("profile") ?? "")) ?? .null]
    })
  }

  static let profileComposite: CommandSpec = CommandSpec(
    "composite", abstract: "Ask a station for its composite schedule (GetCompositeSchedule)",
    arguments: [
      .positional("identity", help: "The station", completion: .stations),
      .option("connector", value: "number", help: "Connector; 0 is the whole station", required: true),
      .option("duration", value: "duration", help: "How far ahead", required: true),
      .option("unit", value: "unit", help: "Rate unit", choices: ["A", "W"]),
      .flag("chart", help: "Draw the limits as a bar chart"),
      .option("timeout", value: "duration", help: "Wait this long for the answer; default 30s"),
    ],
    examples: [.init("The next hour on connector 1, as a chart", "evctl profile composite CP-001 --connector 1 --duration 3600 --chart")]
  ) { inv in
    guard let duration = try inv.seconds("duration"), duration > 0 else {
      throw UsageError(message: "--duration must be positive", commandPath: inv.arguments.path)
    }
    var payload: [String: JSONValue] = [
      "connectorId": .int(Int64(try inv.int("connector") ?? 0)), "duration": .int(Int64(duration)),
    ]
    if let unit = inv.arguments.option("unit") { payload["chargingRateUnit"] = .string(unit) }
    let store = try inv.context.openStore()
    let command = try Remote.sendOne(
      inv, store: store, station: inv.required("identity"), action: "GetCompositeSchedule",
      payload: .object(payload), timeout: try inv.seconds("timeout") ?? 30)
    guard command.state == .accepted, let response = command.response else {
      Remote.render([command], offline: [], queued: false, inv: inv)
      try Remote.exitCode([command], offline: [], queued: false)
      return
    }
    let renderer = inv.context.renderer()
    let schedule = response["chargingSchedule"]
    let unit = schedule?["chargingRateUnit"]?.stringValue ?? "A"
    let periods = (schedule?["chargingSchedulePeriod"]?.arrayValue ?? []).map { p -> (Int, Double, String) in
      (p["startPeriod"]?.intValue ?? 0, p["limit"]?.doubleValue ?? 0, p["numberPhases"]?.compact ?? "")
    }
    var out = renderer.format == .json ? response.pretty + "\n" : ""
    if !inv.context.isQuiet, renderer.format == .table || renderer.format == .wide {
      out += "schedule start \(response["scheduleStart"]?.stringValue ?? "-"), unit \(unit)\n"
    }
    let rows = periods.enumerated().map { index, period in
      (period.0, index + 1 < periods.count ? periods[index + 1].0 : (schedule?["duration"]?.intValue ?? duration), period.1, period.2)
    }
    let columns: [Column<(Int, Int, Double, String)>] = [
      Column("from_s") { String($0.0) },
      Column("to_s") { String($0.1) },
      Column("limit") { format($0.2) },
      Column("phases") { $0.3.isEmpty ? nil : $0.3 },
    ]
    if renderer.format != .json { out += renderer.list(rows, columns: columns) { _ in .null } }
    if inv.arguments.flag("chart") {
      // For people, at clock times in --tz: after a table, else on stderr so CSV and TSV stay clean.
      let zone = try inv.context.zone()
      let start = response["scheduleStart"]?.stringValue.flatMap(Timestamp.init(parsing:)) ?? store.clock()
      let chart = compositeChart(rows.map { ($0.0, $0.1, $0.2) }, start: start, unit: unit, zone: zone)
      ChartOutput.place(chart.render(width: renderer.width ?? 80), after: &out, renderer: renderer,
                        console: inv.context.console)
    }
    inv.context.console.writeOut(out)
  }

  /// The composite limits as bars labelled with the clock times they hold (`14:00–14:30`), with
  /// the weekday when the schedule crosses midnight.
  static func compositeChart(
    _ periods: [(from: Int, to: Int, limit: Double)], start: Timestamp, unit: String, zone: LocalTime
  ) -> BarChart {
    let times = periods.map { (start.adding(seconds: Int64($0.from)), start.adding(seconds: Int64($0.to))) }
    let days = Set(times.flatMap { [zone.localDay(of: $0.0), zone.localDay(of: $0.1.adding(seconds: -1))] })
    let seconds = times.contains { $0.0.seconds % 60 != 0 || $0.1.seconds % 60 != 0 }
    func clock(_ time: Timestamp) -> String {
      let text = String(zone.format(time).dropFirst(11).prefix(seconds ? 8 : 5))
      return days.count > 1 ? TimeBuckets.weekday(zone.localDay(of: time)) + " " + text : text
    }
    let bars = zip(periods, times).map { period, time in
      BarChart.Bar(label: clock(time.0) + "–" + clock(time.1), value: period.limit,
                   text: "\(format(period.limit)) \(PrintableText.escaped(unit))")
    }
    return BarChart(title: "limit from \(zone.short(start)) (\(zone.name))", bars: bars)
  }
}
