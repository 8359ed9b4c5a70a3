import EvctlCore

extension Commands {
  /// How far `--around T` reaches on either side of T.
  static let timelineAroundSeconds: Int64 = 1800

  static let stationTimeline: CommandSpec = CommandSpec(
    "timeline", abstract: "Tell a station's story: status, connections, commands, alarms, sessions and allocations, with causes",
    discussion: """
      One chronological story from the message log, status history, events, alarms, commands,
      transactions and allocation changes, each line with its cause where the store knows it
      (the limit and capacity group behind SuspendedEVSE, who sent a command and what the station
      answered, why a connection closed). Times are ours (when serve received or sent it), in
      --tz. Without --from, --to or --around: the last 24 hours.
      """,
    arguments: [
      stationIdentity,
      .option("from", value: "time", help: "Start here; points into the past (2h = two hours ago)"),
      .option("to", value: "time", help: "End here; points into the past (default now)"),
      .option("around", value: "time",
              help: "30 minutes either side of this time; points into the past (a driver's call: --around 14:05)"),
      .option("limit", value: "count", help: "The newest this many lines; default 5000"),
    ],
    examples: [
      .init("What happened when the driver called", "evctl station timeline CP-001 --around 14:05"),
      .init("For a ticket", "evctl station timeline CP-001 --from yesterday -o json > cp-001.json"),
    ]
  ) { inv in
    let now = Timestamp.now()
    var from = try inv.time("from", pointing: .past, now: now)
    var to = try inv.time("to", pointing: .past, now: now)
    if let around = try inv.time("around", pointing: .past, now: now) {
      guard from == nil, to == nil else {
        throw UsageError(message: "'--around' cannot be combined with '--from' or '--to'", commandPath: inv.arguments.path)
      }
      from = around.adding(seconds: -timelineAroundSeconds)
      to = around.adding(seconds: timelineAroundSeconds)
    } else if from == nil, to == nil {
      from = now.adding(seconds: -86_400)
    }
    if let from, let to, to < from {
      throw UsageError(message: "'--to' (\(to.iso8601)) is before '--from' (\(from.iso8601))", commandPath: inv.arguments.path)
    }
    let limit = try inv.int("limit") ?? Store.timelineLimit
    guard limit > 0 else {
      throw UsageError(message: "invalid value '\(limit)' for '--limit': expected a positive number", commandPath: inv.arguments.path)
    }
    let store = try inv.context.openStore()
    let identity = inv.required("identity")
    let entries = try store.timeline(station: identity, from: from, to: to, limit: limit)
    let renderer = inv.context.renderer()
    switch renderer.format {
    case .table, .wide:
      inv.context.console.writeOut(
        TimelineText.story(entries, zone: try inv.context.zone(), wide: renderer.format == .wide))
    default:
      let columns: [Column<TimelineEntry>] = [
        Column.time("at") { $0.at }, Column("kind") { $0.kind },
        Column("connector") { $0.connector.map(String.init) }, Column("text") { $0.text },
        Column("cause") { $0.cause }, Column.time("station_at") { $0.stationAt },
      ]
      inv.context.console.writeOut(renderer.list(entries, columns: columns, json: \.json))
    }
  }
}

/// The timeline for people: a date line whenever the day changes, then `HH:MM:SS text: cause`.
enum TimelineText {
  static func story(_ entries: [TimelineEntry], zone: LocalTime, wide: Bool) -> String {
    guard !entries.isEmpty else { return "nothing happened in this period\n" }
    var out = ""
    var day = ""
    for entry in entries {
      let local = zone.format(entry.at)
      let today = String(local.prefix(10))
      if today != day {
        day = today
        out += today + " (" + String(local.suffix(6)) + ")\n"
      }
      var line = String(local.dropFirst(11).prefix(8)) + " " + entry.line
      if wide {
        line += " [\(entry.kind)"
        if let stationAt = entry.stationAt { line += ", station time \(stationAt.iso8601)" }
        line += "]"
      }
      out += PrintableText.escaped(line) + "\n"
    }
    return out
  }
}
