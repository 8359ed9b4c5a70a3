import EvctlCore

extension Commands {
  static let groupSmartChargingCommands: [CommandSpec] = [
    groupCapacity, groupLoad, groupSuspend, groupResume, groupAllocation,
  ]

  static let groupCapacity: CommandSpec = CommandSpec(
    "capacity", abstract: "Set the grid capacity that serve balances a group's charging under",
    subcommands: [capacitySet, capacityShow, capacityClear])

  static let capacitySet: CommandSpec = CommandSpec(
    "set", abstract: "Set or change a group's capacity",
    discussion: """
      serve then gives every active transaction below the group a limit (a TxProfile): never more
      than any enclosing capacity on any phase, no car below its minimum, the rest shared fairly;
      when there is not enough for every car's minimum, cars take turns. The first `set` needs
      --max-current; after that `set` changes only the options given and keeps the rest
      (--no-safe-current and --no-max-power remove a setting). A car that draws more than 3 A
      less than its limit for --hand-on-after gets its limit lowered toward its draw (never below
      6 A) and the rest goes to the others; it gets it back when it draws more again.
      """,
    arguments: [
      groupReference,
      .option("max-current", value: "amperes", help: "Amperes per phase the connection carries; needed the first time"),
      .option("phases", value: "count", help: "1 or 3; default 3", choices: ["1", "3"]),
      .option("max-power", value: "kW", help: "Total power limit in kW"),
      .flag("no-max-power", help: "Remove the power limit"),
      .option("safe-current", value: "amperes", help: "Per phase, when load readings stop arriving"),
      .flag("no-safe-current", help: "Remove the safe current"),
      .option("min-current", value: "amperes", help: "Least a charging car gets; default 6 (IEC 61851)"),
      .flag("allow-below-iec-minimum", help: "Accept --min-current below 6 A (test benches only)"),
      .option("alternate-every", value: "duration", help: "Turn length when cars must alternate; default 15m, at least 5s"),
      .option("hand-on-after", value: "duration", help: "Hand on current a car leaves unused for this long; default 3m, 0 turns it off"),
      .flag("meter-includes-chargers", help: "Load readings include these chargers; serve subtracts what they draw"),
      .flag("no-meter-includes-chargers", help: "Load readings are other load only (the default)"),
    ],
    examples: [
      .init("A 63 A three-phase site connection", "evctl group capacity set HQ --max-current 63 --safe-current 32"),
      .init("Later, raise only the maximum (the safe current stays)", "evctl group capacity set HQ --max-current 80"),
    ]
  ) { inv in
    var changes = CapacityChanges()
    changes.maxCurrent = try inv.double("max-current")
    changes.phases = try inv.int("phases")
    changes.maxPowerKW = try inv.double("max-power")
    changes.clearMaxPower = inv.arguments.flag("no-max-power")
    changes.safeCurrent = try inv.double("safe-current")
    changes.clearSafeCurrent = inv.arguments.flag("no-safe-current")
    changes.minCurrent = try inv.double("min-current")
    changes.allowBelowIECMinimum = inv.arguments.flag("allow-below-iec-minimum")
    changes.alternateSeconds = try inv.duration("alternate-every")
    changes.handOnSeconds = try inv.duration("hand-on-after")
    if inv.arguments.flag("meter-includes-chargers") { changes.meterIncludesChargers = true }
    if inv.arguments.flag("no-meter-includes-chargers") { changes.meterIncludesChargers = false }
    for (set, clear) in [("max-power", "no-max-power"), ("safe-current", "no-safe-current"),
                         ("meter-includes-chargers", "no-meter-includes-chargers")]
    where (inv.arguments.option(set) != nil || inv.arguments.flag(set)) && inv.arguments.flag(clear) {
      throw UsageError(message: "'--\(set)' and '--\(clear)' contradict each other", commandPath: inv.arguments.path)
    }
    try inv.context.openStore().setCapacity(inv.required("group"), changes: changes)
    inv.context.confirm("group", inv.required("group"), "capacity set")
  }

  static let capacityShow: CommandSpec = CommandSpec(
    "show", abstract: "Show capacities, their readings and suspensions",
    arguments: [.positional("group", help: "Only this group", required: false, completion: .groups)]
  ) { inv in
    let store = try inv.context.openStore()
    let tree = try store.groupTree()
    let only = try inv.arguments.positional("group").map { try store.resolveGroup($0, in: tree).id }
    let readings = try store.loadReadings()
    let suspended = try store.suspendedGroups(at: store.clock())
    let now = store.clock()
    @Sendable func inForce(_ c: GroupCapacity) -> String {
      guard let reading = readings[c.groupID] else { return "capacity" }
      if reading.validUntil > now { return "capacity less other load" }
      guard let safe = c.safeCurrent else { return "capacity (readings expired at \(reading.validUntil.iso8601), no safe current set)" }
      return "safe current \(format(safe)) A (readings expired at \(reading.validUntil.iso8601))"
    }
    let rows = try store.capacities().filter { only == nil || $0.groupID == only }
      .filter { tree.contains($0.groupID, under: store.actor.baseGroupID) }
    let columns: [Column<GroupCapacity>] = [
      Column("group") { tree.byID[$0.groupID]?.path },
      Column("max_current") { format($0.maxCurrent) },
      Column("phases") { String($0.phases) },
      Column("max_power_kw") { $0.maxPowerKW.map(format) },
      Column("safe_current") { $0.safeCurrent.map(format) },
      Column("min_current") { format($0.minCurrent) },
      Column("alternate_s") { String($0.alternateSeconds) },
      Column("other_load") { c in
        readings[c.groupID].map { $0.validUntil > now ? $0.currents.map(format).joined(separator: "/") : "expired" }
      },
      Column("in_force") { inForce($0) },
      Column("meter_includes_chargers", brief: false) { $0.meterIncludesChargers ? "yes" : "no" },
      Column("hand_on_s", brief: false) { String($0.handOnSeconds) },
      Column("suspended") { suspended.contains($0.groupID) ? "yes" : "no" },
    ]
    inv.context.console.writeOut(inv.context.renderer().list(rows, columns: columns) { c in
      var object = c.json.objectValue ?? [:]
      object["group"] = .from(tree.byID[c.groupID]?.path)
      object["suspended"] = .bool(suspended.contains(c.groupID))
      object["in_force"] = .string(inForce(c))
      if let reading = readings[c.groupID] {
        // An expired reading is history, not the current load.
        object["other_load"] = reading.validUntil > now
          ? ["l1": .double(reading.currents[0]), "l2": .double(reading.currents[1]),
             "l3": .double(reading.currents[2]), "valid_until": .from(reading.validUntil)]
          : .null
        if reading.validUntil <= now { object["readings_expired_at"] = .from(reading.validUntil) }
      }
      return .object(object)
    })
  }

  static let capacityClear: CommandSpec = CommandSpec(
    "clear", abstract: "Remove a group's capacity", arguments: [groupReference]
  ) { inv in
    try inv.context.openStore().clearCapacity(inv.required("group"))
    inv.context.confirm("group", inv.required("group"), "capacity cleared")
  }

  static let groupLoad: CommandSpec = CommandSpec(
    "load", abstract: "Report the other load on a group's connection (active load balancing)",
    subcommands: [loadReport])

  static let loadReport: CommandSpec = CommandSpec(
    "report", abstract: "Tell serve the non-charging load per phase; it balances on the headroom",
    arguments: [
      groupReference,
      .option("l1", value: "amperes", help: "Load on L1; negative for export (PV)", required: true),
      .option("l2", value: "amperes", help: "Load on L2; default L1"),
      .option("l3", value: "amperes", help: "Load on L3; default L1"),
      .option("valid-for", value: "duration", help: "After this, serve falls back to the safe current; default 60s"),
    ],
    examples: [.init("From a meter-reading script every 10 s", "evctl -q group load report HQ --l1 21.5 --l2 18 --l3 19.2 --valid-for 30s")]
  ) { inv in
    let l1 = try inv.double("l1")!
    try inv.context.openStore().reportLoad(
      inv.required("group"), currents: [l1, try inv.double("l2") ?? l1, try inv.double("l3") ?? l1],
      validForSeconds: try inv.duration("valid-for") ?? 60)
    inv.context.confirm("group", inv.required("group"), "load reported")
  }

  static let groupSuspend: CommandSpec = CommandSpec(
    "suspend", abstract: "Pause all charging in a group (a grid operator's signal)",
    arguments: [groupReference, .option("until", value: "time", help: "Resume by itself then; points into the future (18:00 = the next 18:00, 2h = in two hours)")]
  ) { inv in
    try inv.context.openStore().suspendGroup(inv.required("group"), until: try inv.time("until", pointing: .future))
    inv.context.confirm("group", inv.required("group"), "suspended")
  }

  static let groupResume: CommandSpec = CommandSpec(
    "resume", abstract: "Resume charging in a suspended group", arguments: [groupReference]
  ) { inv in
    try inv.context.openStore().resumeGroup(inv.required("group"))
    inv.context.confirm("group", inv.required("group"), "resumed")
  }

  static let groupAllocation: CommandSpec = CommandSpec(
    "allocation", abstract: "Show the current load-balancing plan: limits and measured currents",
    arguments: [groupReference],
    examples: [.init("The plan as JSON", "evctl group allocation HQ -o json")]
  ) { inv in
    let store = try inv.context.openStore()
    let plan = try store.plan(for: inv.required("group"))
    let group = try store.resolveGroup(inv.required("group"))
    let capacity = try store.capacities().first { $0.groupID == group.id }
    let renderer = inv.context.renderer()
    @Sendable func measured(_ p: PlannedCharge) -> String {
      p.measured.map { $0.map(format) ?? "-" }.joined(separator: "/")
    }
    var totals = [0.0, 0.0, 0.0]
    for charge in plan { for phase in charge.phases where (1...3).contains(phase) { totals[phase - 1] += charge.limit } }
    if renderer.format == .json {
      let body: JSONValue = [
        "group": .string(group.path), "capacity": capacity?.json ?? .null,
        "allocated_per_phase": .array(totals.map { .double(($0 * 10).rounded() / 10) }),
        "charges": .array(plan.map { p in
          ["transaction_id": .int(Int64(p.transactionID)), "station": .string(p.stationIdentity),
           "connector": .int(Int64(p.connectorID)), "state": .string(p.limit > 0 ? "charging" : "paused"),
           "limit": .double(p.limit), "phases": .array(p.phases.map { .int(Int64($0)) }),
           "measured": .array(p.measured.map { $0.map { .double($0) } ?? .null }),
           "sent_limit": .from(p.sentLimit), "note": .from(p.note)]
        }),
      ]
      inv.context.console.writeOut(body.pretty + "\n")
      return
    }
    let columns: [Column<PlannedCharge>] = [
      Column("station") { $0.stationIdentity },
      Column("connector") { String($0.connectorID) },
      Column("state") { $0.limit > 0 ? "charging" : "paused" },
      Column("limit_a") { format($0.limit) },
      Column("phases") { $0.phases.map { "L\($0)" }.joined(separator: ",") },
      Column("measured_a") { measured($0) },
      Column("note") { $0.note },
      Column("transaction", brief: false) { String($0.transactionID) },
      Column("sent_limit", brief: false) { $0.sentLimit.map(format) },
    ]
    var out = renderer.list(plan, columns: columns) { _ in .null }
    if !inv.context.isQuiet, renderer.format == .table || renderer.format == .wide {
      let cap = capacity.map { "\(format($0.maxCurrent)) A per phase" } ?? "no capacity of its own"
      out += "allocated per phase: \(totals.map { format(($0 * 10).rounded() / 10) }.joined(separator: " / ")) A; capacity \(cap)\n"
    }
    inv.context.console.writeOut(out)
  }
}
