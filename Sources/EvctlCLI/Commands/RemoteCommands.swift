import EvctlCore

extension Commands {
  /// The Core-profile remote commands under `station`.
  static let stationRemoteCommands: [CommandSpec] = [
    stationReset, stationAvailability, stationUnlock, stationStart, stationStop, stationClearCache,
    stationConfig, stationDataTransfer, stationTrigger,
  ]

  static func remoteArguments(_ extra: [ArgumentSpec]) -> [ArgumentSpec] {
    [Remote.targetIdentity] + extra + Remote.options
  }

  static let stationReset: CommandSpec = CommandSpec(
    "reset", abstract: "Reset a station (OCPP Reset)",
    arguments: remoteArguments([
      .flag("soft", help: "Stop transactions gracefully, then restart the software (default)"),
      .flag("hard", help: "Restart the hardware; transactions may stop after the reboot"),
      .yes,
    ]),
    examples: [
      .init("Soft reset", "evctl station reset CP-001 --soft"),
      .init("Every station of a site, when each comes online", "evctl station reset --group HQ --queue --expires 12h"),
    ]
  ) { inv in
    if inv.arguments.flag("soft"), inv.arguments.flag("hard") {
      throw UsageError(message: "give --soft or --hard, not both", commandPath: inv.arguments.path)
    }
    if inv.arguments.flag("hard"), inv.arguments.flag("all") {
      let stations = try Remote.targets(inv, store: try inv.context.openStore())
      let names = stations.prefix(5).map(\.identity).joined(separator: ", ")
        + (stations.count > 5 ? " and \(stations.count - 5) more" : "")
      try inv.confirmDestructive(
        "hard-reset \(stations.count) station\(stations.count == 1 ? "" : "s") (\(names)), stopping their charging sessions")
    }
    try Remote.send(inv, action: "Reset") { _ in
      ["type": .string(inv.arguments.flag("hard") ? "Hard" : "Soft")]
    }
  }

  static let stationAvailability: CommandSpec = CommandSpec(
    "availability", abstract: "Make a station or connector operative or inoperative (ChangeAvailability)",
    arguments: [
      Remote.targetIdentity,
      .positional("state", help: "The new availability", choices: ["operative", "inoperative"]),
      .option("connector", value: "number", help: "Only this connector; default the whole station"),
    ] + Remote.options,
    examples: [.init("Take connector 2 out of service", "evctl station availability CP-001 inoperative --connector 2")]
  ) { inv in
    let state = inv.required("state")
    let connector = try inv.int("connector") ?? 0
    try Remote.send(inv, action: "ChangeAvailability") { _ in
      ["connectorId": .int(Int64(connector)), "type": .string(state == "operative" ? "Operative" : "Inoperative")]
    }
  }

  static let stationUnlock: CommandSpec = CommandSpec(
    "unlock", abstract: "Unlock a connector's cable (UnlockConnector)",
    arguments: remoteArguments([.option("connector", value: "number", help: "The connector, from 1", required: true)])
  ) { inv in
    guard let connector = try inv.int("connector"), connector > 0 else {
      throw UsageError(message: "--connector must be 1 or more", commandPath: inv.arguments.path)
    }
    try Remote.send(inv, action: "UnlockConnector") { _ in ["connectorId": .int(Int64(connector))] }
  }

  static let stationStart: CommandSpec = CommandSpec(
    "start", abstract: "Start a transaction remotely (RemoteStartTransaction)",
    arguments: remoteArguments([
      .option("connector", value: "number", help: "The connector, from 1", required: true),
      .option("id-tag", value: "id-tag", help: "The token to charge with", required: true, completion: .tokens),
      .option("profile", value: "name", help: "A stored TxProfile to charge with"),
    ])
  ) { inv in
    guard let connector = try inv.int("connector"), connector > 0 else {
      throw UsageError(message: "--connector must be 1 or more", commandPath: inv.arguments.path)
    }
    let store = try inv.context.openStore()
    let idTag = try IdTagCanonicalizer.canonical(inv.arguments.option("id-tag")!)
    var payload: [String: JSONValue] = ["connectorId": .int(Int64(connector)), "idTag": .string(idTag)]
    if let name = inv.arguments.option("profile") {
      let profile = try store.chargingProfile(name)
      guard profile.purpose == .txProfile else {
        throw StoreError.invalid("profile '\(name)' is a \(profile.purpose.rawValue); RemoteStartTransaction takes a TxProfile")
      }
      payload["chargingProfile"] = profile.wireJSON(transactionID: nil, now: store.clock())
    }
    try Remote.send(inv, action: "RemoteStartTransaction") { _ in .object(payload) }
  }

  static let stationStop: CommandSpec = CommandSpec(
    "stop", abstract: "Stop a transaction remotely (RemoteStopTransaction)",
    arguments: remoteArguments([
      .option("transaction", value: "id", help: "The transaction id"),
      .option("connector", value: "number", help: "The active transaction on this connector"),
    ])
  ) { inv in
    let store = try inv.context.openStore()
    let transaction = try inv.int("transaction")
    let connector = try inv.int("connector")
    guard (transaction == nil) != (connector == nil) else {
      throw UsageError(message: "give --transaction or --connector", commandPath: inv.arguments.path)
    }
    try Remote.send(inv, action: "RemoteStopTransaction") { station in
      if let transaction { return ["transactionId": .int(Int64(transaction))] }
      guard let active = try store.activeTransactionID(stationID: station.id, connectorID: connector!) else {
        throw StoreError.notFound(kind: "active transaction", name: "\(station.identity)/\(connector!)")
      }
      return ["transactionId": .int(Int64(active))]
    }
  }

  static let stationClearCache: CommandSpec = CommandSpec(
    "clear-cache", abstract: "Clear a station's authorization cache (ClearCache)",
    arguments: remoteArguments([])
  ) { inv in
    try Remote.send(inv, action: "ClearCache") { _ in [:] }
  }

  static let stationDataTransfer: CommandSpec = CommandSpec(
    "data-transfer", abstract: "Send a vendor-specific DataTransfer",
    arguments: remoteArguments([
      .option("vendor", value: "vendor-id", help: "The vendor id", required: true),
      .option("message-id", value: "id", help: "The vendor's message id"),
      .option("data", value: "text", help: "The data, as text"),
    ])
  ) { inv in
    var payload: [String: JSONValue] = ["vendorId": .string(inv.arguments.option("vendor")!)]
    if let id = inv.arguments.option("message-id") { payload["messageId"] = .string(id) }
    if let data = inv.arguments.option("data") { payload["data"] = .string(data) }
    try Remote.send(inv, action: "DataTransfer") { _ in .object(payload) }
  }

  static let triggerMessages = [
    "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat",
    "MeterValues", "StatusNotification",
  ]
  static let extendedTriggerMessages = [
    "BootNotification", "LogStatusNotification", "FirmwareStatusNotification", "Heartbeat",
    "MeterValues", "SignChargePointCertificate", "StatusNotification",
  ]

  static let stationTrigger: CommandSpec = CommandSpec(
    "trigger", abstract: "Ask a station to send a message now (TriggerMessage)",
    arguments: [
      Remote.targetIdentity,
      .positional("message", help: "The message to send",
                  choices: Array(Set(triggerMessages + extendedTriggerMessages)).sorted()),
      .option("connector", value: "number", help: "For this connector"),
      .flag("extended", help: "Use the security extension's ExtendedTriggerMessage"),
    ] + Remote.options,
    examples: [.init("Ask for the current status of every connector", "evctl station trigger CP-001 StatusNotification")]
  ) { inv in
    let message = inv.required("message")
    let extended = inv.arguments.flag("extended")
    let allowed = extended ? extendedTriggerMessages : triggerMessages
    guard allowed.contains(message) else {
      throw UsageError(
        message: "\(message) needs --extended (ExtendedTriggerMessage)" , commandPath: inv.arguments.path)
    }
    let connector = try inv.int("connector")
    try Remote.send(inv, action: extended ? "ExtendedTriggerMessage" : "TriggerMessage") { _ in
      var payload: [String: JSONValue] = ["requestedMessage": .string(message)]
      if let connector { payload["connectorId"] = .int(Int64(connector)) }
      return .object(payload)
    }
  }

  // MARK: Configuration

  static let stationConfig: CommandSpec = CommandSpec(
    "config", abstract: "Read and change a station's configuration keys",
    subcommands: [stationConfigGet, stationConfigSet, stationConfigShow])

  static let stationConfigGet: CommandSpec = CommandSpec(
    "get", abstract: "Read configuration keys from the station (GetConfiguration) and keep the snapshot",
    arguments: [
      .positional("identity", help: "The station", completion: .stations),
      .positional("key", help: "Keys to read; default all", required: false, repeating: true),
      .option("timeout", value: "duration", help: "Wait this long for the answer; default 30s"),
    ],
    examples: [.init("Read the heartbeat interval", "evctl station config get CP-001 HeartbeatInterval")]
  ) { inv in
    let keys = inv.arguments.positionalValues("key")
    let store = try inv.context.openStore()
    let command = try Remote.sendOne(
      inv, store: store, station: inv.required("identity"), action: "GetConfiguration",
      payload: keys.isEmpty ? [:] : ["key": .array(keys.map { .string($0) })],
      timeout: try inv.seconds("timeout") ?? 30)
    guard command.state == .accepted else {
      Remote.render([command], offline: [], queued: false, inv: inv)
      try Remote.exitCode([command], offline: [], queued: false)
      return
    }
    try printConfiguration(inv, store: store, identity: inv.required("identity"), only: keys)
  }

  static let stationConfigShow: CommandSpec = CommandSpec(
    "show", abstract: "Show the configuration snapshot from the last GetConfiguration",
    arguments: [.positional("identity", help: "The station", completion: .stations)]
  ) { inv in
    try printConfiguration(inv, store: try inv.context.openStore(), identity: inv.required("identity"), only: [])
  }

  static func printConfiguration(_ inv: Invocation, store: Store, identity: String, only: [String]) throws {
    let wanted = Set(only.map { $0.lowercased() })
    let rows = try store.configuration(identity).filter {
      wanted.isEmpty || wanted.contains(($0.string("key") ?? "").lowercased())
    }
    let columns: [Column<Row>] = [
      Column("key") { $0.string("key") },
      Column("value") { $0.bool("known") ? $0.string("value") : "(unknown key)" },
      Column("readonly") { $0.bool("known") ? ($0.bool("readonly") ? "true" : "false") : nil },
      Column("fetched_at", brief: false) { $0.string("fetched_at") },
    ]
    inv.context.console.writeOut(inv.context.renderer().list(rows, columns: columns) { row in
      ["key": .from(row.string("key")), "value": .from(row.string("value")),
       "readonly": row.bool("known") ? .bool(row.bool("readonly")) : .null,
       "known": .bool(row.bool("known")), "fetched_at": .from(row.string("fetched_at"))]
    })
  }

  static let stationConfigSet: CommandSpec = CommandSpec(
    "set", abstract: "Change a configuration key (ChangeConfiguration)",
    arguments: [
      Remote.targetIdentity,
      .positional("key", help: "The key, at most 50 characters"),
      .positional("value", help: "The value, at most 500 characters"),
    ] + Remote.options,
    examples: [.init("Heartbeat every 5 minutes", "evctl station config set CP-001 HeartbeatInterval 300")]
  ) { inv in
    let key = inv.required("key")
    let value = inv.required("value")
    guard key.count <= 50, value.count <= 500 else {
      throw StoreError.invalid("configuration keys are at most 50 characters and values at most 500")
    }
    try Remote.send(inv, action: "ChangeConfiguration") { _ in
      ["key": .string(key), "value": .string(value)]
    }
  }
}
