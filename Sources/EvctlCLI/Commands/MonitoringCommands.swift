import EvctlCore

extension Commands {
  // MARK: Dashboard

  static let status: CommandSpec = CommandSpec(
    "status", abstract: "Show the network at a glance: stations, connectors, the last 24 hours, alarms",
    arguments: [.option("group", value: "group", help: "Only this group's subtree", repeating: true,
                        completion: .groups)] + statusWatchArguments,
    examples: [
      .init("A monitoring check", "evctl status -o json | jq -e '.stations.faulted == 0'"),
      .init("A snapshot every 10 seconds into a log", "evctl status --watch --interval 10s >> status.log"),
    ]
  ) { inv in
    try inv.supportsOnly([.table, .wide, .json])
    try watchStatus(inv)
  }

  /// One `status` snapshot on stdout.
  static func printStatus(_ inv: Invocation, compact: Bool = false) throws {
    let store = try inv.context.openStore()
    let groups = inv.arguments.values("group")
    let stations = try store.stations(StationFilter(groups: groups))
    let ids = Set(stations.map(\.id))
    var byState: [String: Int] = ["online": 0, "charging": 0, "faulted": 0, "offline": 0, "never_connected": 0, "unknown": 0]
    let serve = try store.serveStatus()
    for station in stations { byState[station.state, default: 0] += 1 }
    var connectors: [String: Int] = [:]
    for row in try store.connectorStatuses() where ids.contains(row.stationID) {
      connectors[row.status ?? "Unknown", default: 0] += 1
    }
    let now = store.clock()
    var sessions = 0
    var energy = 0.0
    var used: Set<String> = []
    var last24h = SessionFilter(from: now.adding(seconds: -86_400))
    last24h.groups = groups
    try store.forEachSession(last24h) { s in
      sessions += 1
      energy += s.energyWh ?? 0
      used.insert("\(s.stationID)/\(s.connectorID)")
    }
    let alarms = try store.alarms(active: true).filter { $0.stationID.map(ids.contains) ?? groups.isEmpty }
    let body: JSONValue = [
      "stations": .object(byState.mapValues { .int(Int64($0)) }.merging(["total": .int(Int64(stations.count))]) { a, _ in a }),
      "connectors": .object(connectors.mapValues { .int(Int64($0)) }),
      "last_24h": ["sessions": .int(Int64(sessions)), "connectors_used": .int(Int64(used.count)),
                   "energy_kwh": .double(energy / 1000), "energy_wh": .int(Int64(energy.rounded()))],
      "active_alarms": .array(alarms.map(\.json)),
      "serve": serve?.json ?? .null,
      "at": .string(now.iso8601),
    ]
    if inv.context.renderer().format == .json {
      inv.context.console.writeOut((compact ? body.compact : body.pretty) + "\n")
      return
    }
    let renderer = inv.context.renderer()
    var out = "SERVE     " + serveLine(serve) + "\n"
    out += "STATIONS  \(stations.count) total\n"
    for state in ["online", "charging", "faulted", "offline", "never_connected", "unknown"]
    where state != "unknown" || byState[state, default: 0] > 0 {
      out += "  " + renderer.paint(state).padding(toLength: renderer.color ? 25 : 16, withPad: " ", startingAt: 0)
        + String(byState[state] ?? 0) + "\n"
    }
    out += "CONNECTORS\n"
    for (status, count) in connectors.sorted(by: { $0.key < $1.key }) {
      out += "  " + PrintableText.escaped(status).padding(toLength: 16, withPad: " ", startingAt: 0) + "\(count)\n"
    }
    out += "LAST 24 HOURS\n  sessions        \(sessions)\n  connectors used \(used.count)\n  energy          \(kWh(energy) ?? "0") kWh\n"
    out += "ACTIVE ALARMS   \(alarms.count)\n"
    for alarm in alarms.prefix(20) {
      out += PrintableText.escaped(
        "  #\(alarm.id) \(alarm.identity) \(alarm.kind)\(alarm.connectorID.map { "/\($0)" } ?? "") \(alarm.detail ?? "")") + "\n"
    }
    inv.context.console.writeOut(out)
  }

  /// The serve line of `status`: who serves this store, where, since when; or since when not.
  static func serveLine(_ serve: ServeStatus?) -> String {
    guard let serve else { return "never run on this store" }
    guard serve.running else {
      return "not running since \(serve.downSince.iso8601) (last: pid \(serve.pid) on \(serve.host))"
        + " - station states are last known"
    }
    return "running, pid \(serve.pid) on \(serve.host), listening on \(serve.listen), up since \(serve.startedAt.iso8601)"
  }

  // MARK: Events

  static let event: CommandSpec = CommandSpec(
    "event", aliases: ["events"], abstract: "Events across stations: status changes, connections, boots",
    subcommands: [eventList])

  static let eventList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List events, newest last, at the station's time and ours",
    arguments: [
      .option("station", value: "identity", help: "Only this station", completion: .stations),
      .option("group", value: "group", help: "Only stations in this group's subtree", repeating: true,
              completion: .groups),
      .option("kind", value: "kind", help: "Only this kind: status, connected, disconnected, boot, not_registered, security, upload …"),
      .option("since", value: "time", help: "Only events after this time; points into the past (1h = an hour ago)"),
      .option("limit", value: "count", help: "The newest this many; default 200"),
    ]
  ) { inv in
    let store = try inv.context.openStore()
    let visible = Dictionary(
      try store.stations(StationFilter(groups: inv.arguments.values("group"))).map { ($0.id, $0.identity) },
      uniquingKeysWith: { a, _ in a })
    let stationID = try inv.arguments.option("station").map { try store.station($0).id }
    let since = try inv.time("since", pointing: .past)?.iso8601 ?? ""
    let kind = inv.arguments.option("kind")
    let wholeNetwork = store.actor.baseGroupID == nil && inv.arguments.values("group").isEmpty
    let rows = try store.networkEventRows(
      stationID: stationID, kind: kind, since: since, limit: try inv.int("limit") ?? 200
    ).filter { row in
      guard let id = row.int("station_id") else { return wholeNetwork }
      return visible[id] != nil
    }
    let columns: [Column<Row>] = [
      Column("at") { $0.string("at") },
      Column("received_at") { $0.string("received_at") },
      Column("station") { row in row.int("station_id").flatMap { visible[$0] } ?? row.string("identity") },
      Column("connector") { $0.string("connector_id") },
      Column("kind") { $0.string("kind") },
      Column("status") { $0.string("status") },
      Column("error_code") { $0.string("error_code") },
      Column("vendor_error_code") { $0.string("vendor_error_code") },
      Column("info") { $0.string("info") },
    ]
    inv.context.console.writeOut(inv.context.renderer().list(rows, columns: columns) { row in
      ["at": .from(row.string("at")), "received_at": .from(row.string("received_at")),
       "station": .from(row.int("station_id").flatMap { visible[$0] } ?? row.string("identity")),
       "connector": .from(row.int("connector_id")), "kind": .from(row.string("kind")),
       "status": .from(row.string("status")), "error_code": .from(row.string("error_code")),
       "info": .from(row.string("info")), "vendor_error_code": .from(row.string("vendor_error_code"))]
    })
  }

  // MARK: Alarms

  static let alarm: CommandSpec = CommandSpec(
    "alarm", aliases: ["alarms"], abstract: "Alarms raised and cleared by serve",
    subcommands: [alarmList, alarmAck])

  static let alarmColumns: [Column<Alarm>] = [
    Column("id") { String($0.id) },
    Column.time("raised_at") { $0.raisedAt },
    Column("station") { $0.identity },
    Column("kind") { $0.kind },
    Column("connector") { $0.connectorID.map(String.init) },
    Column("code") { $0.code },
    Column("state") { $0.isActive ? ($0.acknowledgedAt == nil ? "active" : "acknowledged") : "cleared" },
    Column("detail") { $0.detail },
    Column("count", brief: false) { String($0.occurrences) },
    Column.time("last_seen_at", brief: false) { $0.lastSeenAt ?? $0.raisedAt },
    Column.time("cleared_at", brief: false) { $0.clearedAt },
    Column("acknowledged_by", brief: false) { $0.acknowledgedBy },
    Column.time("acknowledged_at", brief: false) { $0.acknowledgedAt },
  ]

  static let alarmList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List alarms, newest first",
    arguments: [
      .flag("active", help: "Only alarms whose cause still holds (the default)"),
      .flag("history", help: "Every alarm, cleared ones too"),
      .option("station", value: "identity", help: "Only this station (with the not_registered alarms of its identity), or an identity that is not registered", completion: .stations),
      .option("limit", value: "count", help: "With --history, the newest this many cleared alarms; default 1000 (active ones are always all listed)"),
    ],
    examples: [.init("Export the alarm history", "evctl alarm list --history -o csv > alarms.csv")]
  ) { inv in
    let alarms = try inv.context.openStore().alarms(
      active: inv.arguments.flag("history") ? nil : true, station: inv.arguments.option("station"),
      limit: try inv.int("limit") ?? 1000)
    inv.context.console.writeOut(inv.context.renderer().list(alarms, columns: alarmColumns, json: \.json))
  }

  static let alarmAck: CommandSpec = CommandSpec(
    "ack", abstract: "Acknowledge an alarm", arguments: [.positional("id", help: "The alarm id")]
  ) { inv in
    let id = try inv.id("id", kind: "alarm")
    let alarm = try inv.context.openStore().acknowledgeAlarm(id)
    inv.context.confirm("alarm", String(alarm.id), "acknowledged")
  }

  // MARK: Transactions

  static let transaction: CommandSpec = CommandSpec(
    "transaction", aliases: ["transactions"], abstract: "Inspect transactions and close ghost ones",
    subcommands: [transactionList, transactionShow, transactionClose])

  static let transactionList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List transactions, newest first",
    arguments: [
      .flag("active", help: "Only open transactions"),
      .flag("stuck", help: "Only open transactions that look stuck (connector idle, station long offline)"),
      .option("station", value: "identity", help: "Only this station", completion: .stations),
      .option("limit", value: "count", help: "At most this many; default 100"),
    ]
  ) { inv in
    let store = try inv.context.openStore()
    let stuck = try store.stuckTransactionIDs()
    var rows: [SessionRecord] = []
    let onlyActive = inv.arguments.flag("active") || inv.arguments.flag("stuck")
    try store.forEachSession(SessionFilter(station: inv.arguments.option("station"), active: onlyActive ? true : nil)) { s in
      if inv.arguments.flag("stuck"), !stuck.contains(s.id) { return }
      rows.append(s)
    }
    rows = Array(rows.sorted { $0.id > $1.id }.prefix(try inv.int("limit") ?? 100))
    let columns: [Column<SessionRecord>] = [
      Column("id") { String($0.id) },
      Column("station") { $0.stationIdentity },
      Column("connector") { String($0.connectorID) },
      Column("id_tag") { $0.idTag },
      Column.time("started_at") { $0.startedAt },
      Column("state") { stuck.contains($0.id) ? "stuck" : $0.state },
      energyColumn,
      Column.time("stopped_at", brief: false) { $0.stoppedAt },
      Column("stop_reason", brief: false) { $0.stopReason },
      Column("closed_by", brief: false) { $0.closedBy },
    ] + exactEnergyColumns
    inv.context.console.writeOut(inv.context.renderer().list(rows, columns: columns) { s in
      ["id": .int(Int64(s.id)), "station": .string(s.stationIdentity), "connector": .int(Int64(s.connectorID)),
       "id_tag": .string(s.idTag), "started_at": .from(s.startedAt), "stopped_at": .from(s.stoppedAt),
       "state": .string(s.state), "stuck": .bool(stuck.contains(s.id)),
       "energy_kwh": kWhJSON(s.energyWh), "energy_wh": s.energyWhInteger.map { .int($0) } ?? .null,
       "implausible": .from(s.implausible),
       "stop_reason": .from(s.stopReason), "closed_by": .from(s.closedBy)]
    })
    warnImplausible(rows.compactMap { s in s.implausible.map { (s.id, $0) } }, console: inv.context.console)
  }

  static let transactionShow: CommandSpec = CommandSpec(
    "show", abstract: "Show a transaction with its meter values",
    arguments: [.positional("id", help: "The transaction id")]
  ) { inv in
    try inv.supportsOnly([.table, .wide, .json])
    let id = try inv.id("id", kind: "transaction")
    let store = try inv.context.openStore()
    guard let identity = try store.transactionStationIdentity(id)
    else { throw StoreError.notFound(kind: "transaction", name: String(id)) }
    var found: SessionRecord?
    try store.forEachSession(SessionFilter(station: identity)) { if $0.id == id { found = $0 } }
    guard let session = found else { throw StoreError.notFound(kind: "transaction", name: String(id)) }
    let values = try store.meterValues(transaction: id)
    let renderer = inv.context.renderer()
    func valueJSON(_ v: Row) -> JSONValue {
      ["sampled_at": .from(v.string("sampled_at")), "measurand": .from(v.string("measurand")),
       "value": .from(v.string("value")), "unit": .from(v.string("unit")), "phase": .from(v.string("phase")),
       "context": .from(v.string("context")), "location": .from(v.string("location"))]
    }
    if renderer.format == .json {
      let body: JSONValue = [
        "id": .int(Int64(session.id)), "station": .string(session.stationIdentity),
        "connector": .int(Int64(session.connectorID)), "id_tag": .string(session.idTag),
        "user": .from(session.userEmail), "started_at": .from(session.startedAt),
        "stopped_at": .from(session.stoppedAt), "meter_start_wh": .int(Int64(session.meterStart)),
        "meter_stop_wh": .from(session.meterStop),
        "energy_kwh": kWhJSON(session.energyWh), "energy_wh": session.energyWhInteger.map { .int($0) } ?? .null,
        "implausible": .from(session.implausible),
        "state": .string(session.state), "stop_reason": .from(session.stopReason),
        "closed_by": .from(session.closedBy), "meter_values": .array(values.map(valueJSON)),
      ]
      inv.context.console.writeOut(body.pretty + "\n")
      return
    }
    var out = """
      Transaction:  \(session.id)
      Station:      \(session.stationIdentity) connector \(session.connectorID)
      Id tag:       \(session.idTag)\(session.userEmail.map { " (\($0))" } ?? "")
      Started:      \(session.startedAt.iso8601)
      Stopped:      \(session.stoppedAt?.iso8601 ?? "<none>")\(session.stopReason.map { " (\($0))" } ?? "")
      Meter:        \(session.meterStart) → \(session.meterStop.map(String.init) ?? "<none>") Wh
      Energy:       \(kWh(session.energyWh).map { $0 + " kWh" } ?? (session.implausible.map { "<implausible: \($0)>" } ?? "<unknown>"))
      State:        \(session.state)\(session.closedBy.map { " by \($0)" } ?? "")


      """
    let columns: [Column<Row>] = [
      Column("sampled_at") { $0.string("sampled_at") }, Column("measurand") { $0.string("measurand") },
      Column("value") { $0.string("value") }, Column("unit") { $0.string("unit") },
      Column("phase") { $0.string("phase") }, Column("context", brief: false) { $0.string("context") },
    ]
    out = PrintableText.escaped(out, keeping: ["\n"]) + renderer.list(values, columns: columns, json: valueJSON)
    inv.context.console.writeOut(out)
  }

  static let transactionClose: CommandSpec = CommandSpec(
    "close", abstract: "Close a ghost transaction in the store, without inventing meter data",
    arguments: [
      .positional("id", help: "The transaction id"),
      .option("reason", value: "text", help: "Why, for the audit trail", required: true),
    ],
    examples: [.init("A transaction the station forgot", "evctl transaction close 4711 --reason 'station replaced, no StopTransaction'")]
  ) { inv in
    let id = try inv.id("id", kind: "transaction")
    try inv.context.openStore().closeTransaction(id, reason: inv.arguments.option("reason")!)
    inv.context.confirm("transaction", String(id), "closed")
  }
}
