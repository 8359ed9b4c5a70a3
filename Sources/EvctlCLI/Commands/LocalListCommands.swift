import EvctlCore

extension Commands {
  static let localList: CommandSpec = CommandSpec(
    "local-list", abstract: "Push local authorization lists to stations",
    subcommands: [localListPush, localListVersion, localListShow])

  static let localListPush: CommandSpec = CommandSpec(
    "push", abstract: "Bring stations' local authorization lists up to date (SendLocalList)",
    discussion: """
      Each station's list holds every token the token rules accept there now. A station that still
      holds the version we sent last gets a differential update; otherwise a full one. Updates are
      split by SendLocalListMaxLength, and a list longer than LocalAuthListMaxLength fails clearly.
      Idempotent: a station already up to date is left alone.
      """,
    arguments: [
      .option("station", value: "identity", help: "One station", completion: .stations),
      .option("group", value: "group", help: "Every station in this group's subtree", completion: .groups),
      .flag("all", help: "Every station you may see"),
      .flag("full", help: "Always send the whole list"),
      .flag("differential", help: "Only send changes; fail where the station's version is not ours"),
      .option("timeout", value: "duration", help: "Wait this long for each answer; default 30s"),
      .yes,
    ],
    examples: [.init("Nightly, from cron", "evctl -q local-list push --all")]
  ) { inv in
    try LocalListPush(inv: inv).run()
  }

  static let localListVersion: CommandSpec = CommandSpec(
    "version", abstract: "Ask a station which list version it holds (GetLocalListVersion)",
    arguments: remoteArguments([])
  ) { inv in
    try Remote.send(inv, action: "GetLocalListVersion") { _ in [:] }
  }

  static let localListShow: CommandSpec = CommandSpec(
    "show", abstract: "Show the list we believe a station holds",
    arguments: [.positional("identity", help: "The station", completion: .stations)]
  ) { inv in
    let state = try inv.context.openStore().localListState(inv.required("identity"))
    let renderer = inv.context.renderer()
    if renderer.format == .json {
      let body: JSONValue = [
        "version": .int(Int64(state.version)), "reported_version": .from(state.reportedVersion),
        "updated_at": .from(state.updatedAt),
        "entries": .array(state.entries.map { entry in
          ["id_tag": .string(entry.idTag), "status": .string(entry.status),
           "expiry_date": .from(entry.expiryDate), "parent_id_tag": .from(entry.parentIDTag)]
        }),
      ]
      inv.context.console.writeOut(body.pretty + "\n")
      return
    }
    if !inv.context.isQuiet, renderer.format == .table || renderer.format == .wide {
      inv.context.console.writeOut(
        "version \(state.version) (station reported \(state.reportedVersion.map(String.init) ?? "unknown")), \(state.entries.count) entries\n")
    }
    let columns: [Column<LocalListEntry>] = [
      Column("id_tag") { $0.idTag }, Column("status") { $0.status },
      Column.time("expiry_date") { $0.expiryDate }, Column("parent_id_tag") { $0.parentIDTag },
    ]
    inv.context.console.writeOut(renderer.list(state.entries, columns: columns) { _ in .null })
  }
}

/// Pushes local lists to many stations in rounds: ask each for its version, then send every
/// station's first message, then every second message, and so on.
struct LocalListPush {
  let inv: Invocation

  struct Outcome {
    var station: Station
    var ok = true
    var detail = ""
  }

  func run() throws {
    let store = try inv.context.openStore()
    let timeout = try inv.seconds("timeout") ?? 30
    let targets: [Station]
    switch (inv.arguments.option("station"), inv.arguments.option("group"), inv.arguments.flag("all")) {
    case (let identity?, nil, false): targets = [try store.station(identity)]
    case (nil, let group?, false): targets = try store.stations(StationFilter(group: group))
    case (nil, nil, true): targets = try store.stations()
    default:
      throw UsageError(message: "give one of --station, --group or --all", commandPath: inv.arguments.path)
    }
    if inv.arguments.flag("full"), inv.arguments.flag("differential") {
      throw UsageError(message: "give --full or --differential, not both", commandPath: inv.arguments.path)
    }
    if inv.arguments.flag("all"), inv.arguments.flag("full") {
      try inv.confirmDestructive(
        "replace the whole local authorization list of \(targets.count) station\(targets.count == 1 ? "" : "s")")
    }
    if inv.context.isDryRun {
      let kind = inv.arguments.flag("full") ? "a full" : inv.arguments.flag("differential") ? "a differential" : "an"
      throw DryRunStop(plan: targets.map { station in
        "would send \(kind) update of the local list to \(station.identity)\(station.connected ? "" : " (offline: skipped)")\n"
      }.joined())
    }
    var outcomes = targets.map { Outcome(station: $0) }
    for index in outcomes.indices where !outcomes[index].station.connected {
      outcomes[index].ok = false
      outcomes[index].detail = "offline"
    }
    // Round 0: the limits, where the configuration snapshot does not know them.
    let keys = ["LocalAuthListMaxLength", "SendLocalListMaxLength"]
    try round(&outcomes, store: store, timeout: timeout, action: "GetConfiguration") { station in
      try keys.allSatisfy({ try store.configurationValue(station.identity, key: $0) != nil })
        ? nil : JSONValue.object(["key": .array(keys.map { .string($0) })]).compact
    }
    // Round 1: which version each station holds.
    var reported: [Int: Int] = [:]
    try round(&outcomes, store: store, timeout: timeout, action: "GetLocalListVersion") { _ in "{}" } answered: { station, command in
      guard let version = command.response?["listVersion"]?.intValue else { return "no listVersion in the answer" }
      if version == -1 { return "the station does not support local lists" }
      reported[station.id] = version
      return nil
    }
    // Plan each station's messages.
    let builder = try store.localListBuilder()
    var plans: [Int: LocalListPlan] = [:]
    var texts: [Int: [String]] = [:]
    var cache: [String: (LocalListPlan, [String])] = [:]
    for index in outcomes.indices where outcomes[index].ok {
      let station = outcomes[index].station
      let header = try store.localListState(station.identity, withEntries: false)
      let stationHoldsOurs = reported[station.id] == header.version && header.version > 0
      let differential = stationHoldsOurs && !inv.arguments.flag("full")
      let state = differential ? try store.localListState(station.identity) : header
      if inv.arguments.flag("differential"), !stationHoldsOurs {
        outcomes[index].ok = false
        outcomes[index].detail = "holds version \(reported[station.id] ?? -1), not our \(state.version); use --full"
        continue
      }
      do {
        let maxList = try store.configurationValue(station.identity, key: "LocalAuthListMaxLength").flatMap(Int.init)
        let maxMessage = try store.configurationValue(station.identity, key: "SendLocalListMaxLength").flatMap(Int.init)
        let version = max(state.version, reported[station.id] ?? 0)
        // Public stations share one desired list, so equal states give equal plans.
        let key = station.isPublic
          ? "\(version)|\(differential)|\(header.contentHash ?? "-")|\(maxList ?? -1)|\(maxMessage ?? -1)" : nil
        let plan: LocalListPlan
        if let key, let cached = cache[key] {
          plan = cached.0
          texts[station.id] = cached.1
        } else {
          plan = try LocalListPlanner.plan(
            desired: builder.entries(for: station), held: state.entries, currentVersion: version,
            differential: differential, maxListLength: maxList, maxMessageLength: maxMessage,
            revoked: builder.revoked(among: state.entries))
          for message in plan.messages {
            try OutgoingPayloadRules.check(action: "SendLocalList", payload: message)
          }
          texts[station.id] = plan.messages.map(\.compact)
          if let key { cache[key] = (plan, texts[station.id]!) }
        }
        plans[station.id] = plan
        outcomes[index].detail = plan.messages.isEmpty
          ? "up to date (version \(plan.finalVersion))"
          : "\(plan.updateType.lowercased()): \(plan.changed) set, \(plan.removed) removed\(plan.blocked > 0 ? ", \(plan.blocked) blocked" : ""), version \(plan.finalVersion)"
      } catch {
        outcomes[index].ok = false
        outcomes[index].detail = "\(error)"
      }
    }
    // Rounds 2…: every station's n-th message at once.
    let rounds = plans.values.map(\.messages.count).max() ?? 0
    for number in 0..<rounds {
      try round(&outcomes, store: store, timeout: timeout, action: "SendLocalList") { station in
        guard let messages = texts[station.id], number < messages.count else { return nil }
        return messages[number]
      }
    }
    report(outcomes)
    try LocalListPush.exitCode(outcomes)
  }

  /// Sends `action` to every station still ok for which `payload` gives one, waits for all, and
  /// marks the stations whose answer was not accepted (or that `answered` objects to).
  private func round(
    _ outcomes: inout [Outcome], store: Store, timeout: Int, action: String,
    payload: (Station) throws -> String?,
    answered: (Station, RemoteCommand) -> String? = { _, _ in nil }
  ) throws {
    var sent: [Int: Int] = [:]
    // One transaction for the round: serve sees every command of it at once.
    try store.atomically {
      for index in outcomes.indices where outcomes[index].ok {
        guard let body = try payload(outcomes[index].station) else { continue }
        do {
          let command = try store.enqueueCommand(
            station: outcomes[index].station.identity, action: action, payloadText: body,
            timeoutSeconds: timeout, checked: action == "SendLocalList")
          sent[command.id] = index
        } catch let error as StoreError {
          outcomes[index].ok = false
          outcomes[index].detail = error.description
        }
      }
    }
    for command in try Remote.wait(for: Array(sent.keys), store: store, timeout: timeout, queue: false) {
      let index = sent[command.id]!
      if command.state != .accepted {
        outcomes[index].ok = false
        outcomes[index].detail = "\(action): \(command.state == .sent ? "outcome unknown" : command.state.rawValue) \(command.status ?? command.error ?? "")"
      } else if let problem = answered(outcomes[index].station, command) {
        outcomes[index].ok = false
        outcomes[index].detail = problem
      }
    }
  }

  private func report(_ outcomes: [Outcome]) {
    let failed = outcomes.filter { !$0.ok }
    if inv.context.requestedFormat == .json {
      inv.context.console.writeOut(JSONValue.array(outcomes.map { outcome in
        ["station": .string(outcome.station.identity), "ok": .bool(outcome.ok), "detail": .string(outcome.detail)]
      }).pretty + "\n")
    } else if !inv.context.isQuiet {
      let columns: [Column<Outcome>] = [
        Column("station") { $0.station.identity }, Column("result") { $0.ok ? "ok" : "failed" },
        Column("detail") { $0.detail.isEmpty ? nil : $0.detail },
      ]
      inv.context.console.writeOut(inv.context.renderer().list(outcomes, columns: columns) { _ in .null })
    }
    for outcome in failed {
      inv.context.console.diagnose(
        "error: \(PrintableText.escaped(outcome.station.identity)): \(PrintableText.escaped(outcome.detail))")
    }
  }
}

extension LocalListPush {
  /// Throws the exit code after printing: failure when any station failed.
  static func exitCode(_ outcomes: [Outcome]) throws {
    let failed = outcomes.filter { !$0.ok }
    if !failed.isEmpty { throw CommandFailure.alreadyReported(.failure) }
  }
}
