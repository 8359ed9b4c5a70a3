import EvctlCore
import Foundation

extension Commands {
  static let station: CommandSpec = CommandSpec(
    "station", aliases: ["stations"], abstract: "Manage charging stations and their connectors",
    subcommands: [
      stationList, stationShow, stationCreate, stationUpdate, stationPassword, stationDelete,
      stationImport, connector,
    ] + stationServerCommands + stationRemoteCommands + [
      stationFirmware, stationDiagnostics, stationLog, stationCertificate, stationSecurity,
    ])

  static let stationIdentity = ArgumentSpec.positional(
    "identity", help: "The station's OCPP identity (case-insensitive)", completion: .stations)

  static let stationColumns: [Column<Station>] = [
    Column("identity") { $0.identity },
    Column("name") { $0.name }.shortened(),
    Column("group") { $0.groupPath }.shortened(),
    Column("state") { $0.state },
    Column("connectors") { String($0.connectorCount) },
    Column.time("last_seen_at") { $0.lastSeenAt },
    Column("id", brief: false) { String($0.id) },
    Column("description", brief: false) { $0.description },
    Column("availability", brief: false) { $0.isPublic ? "public" : "private" },
    Column("registration_policy", brief: false) { $0.registrationPolicy.rawValue },
    Column("registration_status", brief: false) { $0.registrationStatus },
    Column("heartbeat_interval", brief: false) { String($0.heartbeatInterval) },
    Column("has_password", brief: false) { $0.hasPassword ? "true" : "false" },
    Column("vendor", brief: false) { $0.vendor },
    Column("model", brief: false) { $0.model },
    Column("serial_number", brief: false) { $0.serialNumber },
    Column("charge_box_serial_number", brief: false) { $0.chargeBoxSerialNumber },
    Column("firmware_version", brief: false) { $0.firmwareVersion },
    Column("iccid", brief: false) { $0.iccid },
    Column("imsi", brief: false) { $0.imsi },
    Column("meter_type", brief: false) { $0.meterType },
    Column("meter_serial_number", brief: false) { $0.meterSerialNumber },
    Column.time("last_boot_at", brief: false) { $0.lastBootAt },
    Column.time("created_at", brief: false) { $0.createdAt },
    Column.time("updated_at", brief: false) { $0.updatedAt },
    Column("address", brief: false) { $0.address },
    Column("latitude", brief: false) { $0.latitude.map { String($0) } },
    Column("longitude", brief: false) { $0.longitude.map { String($0) } },
    Column("external_id", brief: false) { $0.externalID },
    Column("uuid", brief: false) { $0.uuid },
    Column("max_current", brief: false) { $0.maxCurrent.map { format3($0) } },
    Column("security_profile", brief: false) { String($0.securityProfile) },
  ]

  static let securityProfileChoices = SecurityProfile.allCases.map { String($0.rawValue) }

  /// The options that set a station's place and ties to other systems (create and update).
  static let stationDetailArguments: [ArgumentSpec] = [
    .option("address", value: "text", help: "Street address where it stands"),
    .option("lat", value: "degrees", help: "Latitude in degrees, -90 to 90 (with --lon)"),
    .option("lon", value: "degrees", help: "Longitude in degrees, -180 to 180 (with --lat)"),
    .option("external-id", value: "id", help: "Its id in another system; unique among stations"),
    .option("max-current", value: "amperes",
            help: "Most the whole station may draw per phase; smart charging shares it between its connectors"),
  ]

  /// The `--no-…` options of `station update` that remove a detail.
  static let stationDetailClearArguments: [ArgumentSpec] = [
    .flag("no-address", help: "Remove the address"),
    .flag("no-location", help: "Remove the coordinates"),
    .flag("no-external-id", help: "Remove the external id"),
    .flag("no-max-current", help: "Remove the station's maximum current"),
  ]

  /// Reads the detail options; a setting given with its `--no-` form is a usage error.
  static func stationDetails(_ inv: Invocation) throws -> StationDetails {
    var details = StationDetails()
    details.address = inv.arguments.option("address")
    details.latitude = try coordinate(inv, "lat", limit: 90)
    details.longitude = try coordinate(inv, "lon", limit: 180)
    details.externalID = inv.arguments.option("external-id")
    details.maxCurrent = try inv.double("max-current")
    details.clearAddress = inv.arguments.flag("no-address")
    details.clearCoordinates = inv.arguments.flag("no-location")
    details.clearExternalID = inv.arguments.flag("no-external-id")
    details.clearMaxCurrent = inv.arguments.flag("no-max-current")
    for (set, clear) in [("address", "no-address"), ("lat", "no-location"), ("lon", "no-location"),
                         ("external-id", "no-external-id"), ("max-current", "no-max-current")]
    where inv.arguments.option(set) != nil && inv.arguments.flag(clear) {
      throw UsageError(message: "'--\(set)' and '--\(clear)' contradict each other", commandPath: inv.arguments.path)
    }
    if (details.latitude == nil) != (details.longitude == nil) {
      throw UsageError(message: "give both --lat and --lon, or neither", commandPath: inv.arguments.path)
    }
    return details
  }

  static let stationList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List stations",
    arguments: [
      .option("group", value: "group", help: "Only stations in this group's subtree", repeating: true,
              completion: .groups),
      .option("state", value: "state", help: "Only stations in this state",
              choices: ["online", "charging", "faulted", "offline", "never_connected", "unknown"],
              repeating: true),
      .option("search", value: "text", help: "Only identities, names or serial numbers containing this text"),
      .option("serial", value: "serial", help: "Only this serial or charge box serial number", repeating: true),
      .option("firmware", value: "version", help: "Only this firmware version", repeating: true),
      .option("vendor", value: "vendor", help: "Only this vendor (from BootNotification)", repeating: true),
      .option("model", value: "model", help: "Only this model (from BootNotification)", repeating: true),
      .option("security-profile", value: "profile",
              help: "Only stations on this security profile (0: no authentication)",
              choices: securityProfileChoices, repeating: true),
      .flag("orphans", help: "Only stations without a group"),
    ],
    examples: [
      .init("Stations of one site", "evctl station list --group HQ"),
      .init("Stations that need attention", "evctl station list --state faulted --state offline"),
      .init("Identities only, for scripts", "evctl station list -o json | jq -r '.[].identity'"),
    ]
  ) { inv in
    var filter = StationFilter(
      groups: inv.arguments.values("group"), search: inv.arguments.option("search"),
      vendors: inv.arguments.values("vendor"), models: inv.arguments.values("model"),
      states: inv.arguments.values("state"), serials: inv.arguments.values("serial"),
      firmwareVersions: inv.arguments.values("firmware"), orphansOnly: inv.arguments.flag("orphans"))
    filter.securityProfiles = try inv.arguments.values("security-profile").map(SecurityProfile.parse)
    let store = try inv.context.openStore()
    let renderer = inv.context.renderer()
    var columns = stationColumns
    if renderer.format == .table || renderer.format == .wide {
      columns[3] = Column("state", painted: renderer.color, human: nil) { station in
        let state = renderer.color ? renderer.paint(station.state) : station.state
        return station.stateDetail.map { "\(state) (\($0))" } ?? state
      }
    }
    // Streamed: JSON, CSV and TSV rows are written as the query returns them.
    let writer = StreamingWriter(
      renderer: renderer, columns: columns, json: \.json,
      jsonBytes: { $0.writeJSON(into: &$1, level: 1) }, console: inv.context.console)
    try store.forEachStation(filter) { try writer.write($0) }
    writer.finish()
  }

  static let stationShow: CommandSpec = CommandSpec(
    "show", abstract: "Show everything known about a station", arguments: [stationIdentity]
  ) { inv in
    let store = try inv.context.openStore()
    let station = try store.station(inv.required("identity"))
    let connectors = try store.connectors(station.identity)
    let renderer = inv.context.renderer()
    if renderer.format == .json {
      var object = station.json.objectValue!
      object["connector_list"] = .array(connectors.map(\.json))
      inv.context.console.writeOut(JSONValue.object(object).pretty + "\n")
      return
    }
    var columns = stationColumns
    columns[3] = Column("state") { station in station.stateDetail.map { "\(station.state) (\($0))" } ?? station.state }
    var out = renderer.one(station, columns: columns, json: \.json)
    if renderer.format == .table || renderer.format == .wide {
      out += "\n" + renderer.list(connectors, columns: connectorColumns, json: \.json)
    }
    inv.context.console.writeOut(out)
  }

  static let stationCreate: CommandSpec = CommandSpec(
    "create", abstract: "Register a station",
    discussion: """
      A new station is on security profile 1 unless --security-profile says otherwise. For
      profiles 1 and 2 it gets an AuthorizationKey (its Basic-auth password): read from standard
      input with --password-stdin, or else generated (40 hexadecimal digits) and printed once.
      Only its hash is stored. Profile 0 (no authentication) must be asked for explicitly.
      """,
    arguments: [
      .positional("identity", help: "1-48 letters, digits, '-', '_' or '.'; fixed once created"),
      .option("name", value: "name", help: "A human name", required: true),
      .option("group", value: "group", help: "The group it belongs to", completion: .groups),
      .option("description", value: "text", help: "Free text"),
      .option("connectors", value: "count", help: "Number of connectors; default 1"),
      .option("security-profile", value: "profile",
              help: "0 none, 1 Basic auth (default), 2 TLS + Basic auth, 3 TLS + client certificate",
              choices: securityProfileChoices),
      .flag("password-stdin", help: "Read the AuthorizationKey (16-40 characters) from standard input instead of generating one"),
    ] + stationDetailArguments,
    examples: [
      .init("A two-connector station; the generated AuthorizationKey is printed once",
            "evctl station create CP-001 --name 'Gate' --group HQ --connectors 2"),
      .init("With a key of your own", "openssl rand -hex 20 | evctl station create CP-002 --name 'Back' --password-stdin"),
      .init("A station that authenticates with a client certificate (TLS)",
            "evctl station create CP-003 --name 'Yard' --security-profile 3"),
    ]
  ) { inv in
    let profile = try inv.arguments.option("security-profile").map(SecurityProfile.parse) ?? .basic
    var password = try inv.password(prompt: "", ask: false)
    if password != nil && !profile.usesPassword {
      throw UsageError(
        message: "--password-stdin: security profile \(profile.rawValue) uses no AuthorizationKey",
        commandPath: inv.arguments.path)
    }
    var generated: String?
    if password == nil && profile.usesPassword {
      generated = Store.generateAuthorizationKey()
      password = generated
    }
    let station = try inv.context.openStore().createStation(
      identity: inv.required("identity"), name: inv.arguments.option("name")!,
      group: inv.arguments.option("group"), description: inv.arguments.option("description"),
      connectors: try inv.int("connectors") ?? 1, password: password.map { Array($0.utf8) },
      securityProfile: profile, details: try stationDetails(inv))
    showCreated(station, generatedKey: generated, inv: inv)
  }

  /// Confirms a new station and shows its generated AuthorizationKey, the only time it is shown:
  /// with `-q` the key alone (for scripts), in JSON as `authorization_key`.
  static func showCreated(_ station: Station, generatedKey: String?, inv: Invocation) {
    let context = inv.context
    guard let key = generatedKey, !context.isDryRun else {
      context.confirm("station", station.identity, "created")
      return
    }
    if context.requestedFormat == .json {
      let body: JSONValue = [
        "kind": "station", "name": .string(station.identity), "result": "created",
        "security_profile": .int(Int64(station.securityProfile)), "authorization_key": .string(key),
      ]
      context.console.writeOut(body.pretty + "\n")
    } else if context.isQuiet {
      context.console.writeOut(key + "\n")
    } else {
      context.confirm("station", station.identity, "created")
      context.console.writeOut(
        "AuthorizationKey: \(key)\n(shown only now: configure it on the station; evctl keeps only its hash)\n")
    }
  }

  static let stationUpdate: CommandSpec = CommandSpec(
    "update", abstract: "Change a station's settings",
    arguments: [
      stationIdentity,
      .option("name", value: "name", help: "A human name"),
      .option("description", value: "text", help: "Free text"),
      .option("group", value: "group", help: "Move it to this group", completion: .groups),
      .flag("no-group", help: "Take it out of its group"),
      .option("heartbeat-interval", value: "duration", help: "Heartbeat interval sent at boot"),
      .option("availability", value: "availability",
              help: "public: any valid token; private: users with access rights only",
              choices: ["public", "private"]),
      .option("registration", value: "policy", help: "How BootNotification is answered",
              choices: RegistrationPolicy.allCases.map(\.rawValue)),
      .option("security-profile", value: "profile",
              help: "How it must authenticate: 0 none, 1 Basic auth, 2 TLS + Basic auth, 3 TLS + client certificate",
              choices: securityProfileChoices),
      .flag("allow-downgrade", help: "Allow --security-profile to lower the profile (0 also drops the password)"),
    ] + stationDetailArguments + stationDetailClearArguments,
    examples: [
      .init("Where it stands, for maps and external services",
            "evctl station update CP-001 --address 'Stationsplein 1, Utrecht' --lat 52.09 --lon 5.11 --external-id NL-ABC-E001"),
      .init("The whole station may draw 32 A", "evctl station update CP-001 --max-current 32"),
    ]
  ) { inv in
    var changes = StationChanges()
    changes.name = inv.arguments.option("name")
    changes.description = inv.arguments.option("description")
    changes.group = inv.arguments.option("group")
    changes.clearGroup = inv.arguments.flag("no-group")
    changes.heartbeatInterval = try inv.seconds("heartbeat-interval")
    changes.isPublic = inv.arguments.option("availability").map { $0 == "public" }
    changes.registrationPolicy = inv.arguments.option("registration").flatMap(
      RegistrationPolicy.init(rawValue:))
    changes.securityProfile = try inv.arguments.option("security-profile").map(SecurityProfile.parse)
    changes.allowDowngrade = inv.arguments.flag("allow-downgrade")
    if changes.allowDowngrade && changes.securityProfile == nil {
      throw UsageError(message: "--allow-downgrade goes with --security-profile", commandPath: inv.arguments.path)
    }
    changes.details = try stationDetails(inv)
    let station = try inv.context.openStore().updateStation(inv.required("identity"), changes)
    inv.context.confirm("station", station.identity, "updated")
  }

  static let stationPassword: CommandSpec = CommandSpec(
    "passwd", abstract: "Set, clear or rotate a station's OCPP Basic-auth password (AuthorizationKey)",
    arguments: [
      stationIdentity, .passwordStdin, .flag("clear", help: "Remove the password"),
      .flag("rotate", help: "Send the connected station a new random AuthorizationKey (ChangeConfiguration); stored once it answers Accepted"),
      .option("timeout", value: "duration", help: "With --rotate: wait this long for the answer; default 30s"),
    ],
    examples: [.init("A new key for a connected station, never shown", "evctl station passwd CP-001 --rotate")]
  ) { inv in
    let clear = inv.arguments.flag("clear")
    if inv.arguments.flag("rotate") {
      guard !clear, !inv.arguments.flag("password-stdin") else {
        throw UsageError(message: "--rotate makes the key itself: drop --clear and --password-stdin",
                         commandPath: inv.arguments.path)
      }
      let timeout = try inv.seconds("timeout") ?? 30
      guard (1...3600).contains(timeout) else {
        throw UsageError(message: "--timeout must be 1 to 3600 seconds", commandPath: inv.arguments.path)
      }
      let store = try inv.context.openStore()
      try store.require(.updateStation)
      let station = try store.station(inv.required("identity"))
      if let problem = try rotateAuthorizationKey(inv, store: store, station: station, timeout: timeout) {
        throw CommandFailure("\(PrintableText.escaped(station.identity)) \(problem)",
                             code: problem.contains("outcome unknown") ? .timeout : .failure)
      }
      inv.context.confirm("station", station.identity, "password rotated (the station accepted the new AuthorizationKey)")
      return
    }
    guard inv.arguments.option("timeout") == nil else {
      throw UsageError(message: "--timeout goes with --rotate", commandPath: inv.arguments.path)
    }
    let password = clear ? nil : try inv.password(prompt: "Station password: ", ask: true)
    try inv.context.openStore().setStationPassword(
      inv.required("identity"), password: password.map { Array($0.utf8) })
    inv.context.confirm("station", inv.required("identity"), clear ? "password cleared" : "password set")
  }

  static let stationDelete: CommandSpec = CommandSpec(
    "delete", aliases: ["rm"], abstract: "Remove a station and its history",
    arguments: [stationIdentity, .yes]
  ) { inv in
    let store = try inv.context.openStore()
    let station = try store.station(inv.required("identity"))
    try inv.confirmDestructive(
      "delete station \(station.identity) ('\(station.name)') with its connectors, sessions and events")
    try store.deleteStation(station.identity)
    inv.context.confirm("station", inv.required("identity"), "deleted")
  }

  static let stationImport: CommandSpec = CommandSpec(
    "import", abstract: "Create or update stations from a CSV file, all or nothing",
    discussion: """
      Columns (header row required): \(Store.stationImportColumns.joined(separator: ", ")).
      identity and name are required. Every bad row is reported as FILE:LINE: reason, and nothing
      is written unless every row is good.
      """,
    arguments: [
      .positional("file", help: "The CSV file, or - for standard input", completion: .file),
      .flag("dry-run", short: "n", help: "Check only; write nothing"),
    ],
    examples: [.init("Provision a site", "evctl station import stations.csv")]
  ) { inv in
    let (text, name) = try readInputFile(inv)
    runImportAtLowPriority()
    let summary = try inv.context.openStore().importStations(
      csv: text, file: name, dryRun: inv.arguments.flag("dry-run"))
    reportImport(summary, inv: inv)
  }

  static func readInputFile(_ inv: Invocation) throws -> (String, String) {
    let path = inv.required("file")
    if path == "-" { return (String(decoding: inv.context.console.readInput(), as: UTF8.self), "-") }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CLIError.io("cannot read '\(path)'")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw CLIError.data("'\(path)' is not UTF-8 text")
    }
    return (text, path)
  }

  static func reportImport(_ summary: ImportSummary, inv: Invocation) {
    guard !inv.context.isQuiet else { return }
    let verb = summary.written ? "" : " (dry run: nothing written)"
    inv.context.console.writeOut(
      "\(summary.created) created, \(summary.updated) updated, \(summary.unchanged) unchanged\(verb)\n")
  }

  // MARK: Connectors

  static let connectorColumns: [Column<Connector>] = [
    Column("connector_id") { String($0.connectorID) },
    Column("status") { $0.status },
    Column("mode") { $0.mode },
    Column("type") { $0.type },
    Column("max_current") { $0.maxCurrent.map { String($0) } },
    Column("parking_space", brief: false) { $0.parkingSpace },
    Column("error_code", brief: false) { $0.errorCode },
    Column("info", brief: false) { $0.info },
    Column.time("status_at", brief: false) { $0.statusAt },
    Column("station", brief: false) { $0.stationIdentity },
    Column("external_id", brief: false) { $0.externalID },
    Column("uuid", brief: false) { $0.uuid },
  ]

  static let connector: CommandSpec = CommandSpec(
    "connector", aliases: ["connectors"], abstract: "List and configure a station's connectors",
    subcommands: [connectorList, connectorUpdate])

  static let connectorList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List a station's connectors", arguments: [stationIdentity]
  ) { inv in
    let connectors = try inv.context.openStore().connectors(inv.required("identity"))
    inv.context.console.writeOut(
      inv.context.renderer().list(connectors, columns: connectorColumns, json: \.json))
  }

  static let connectorUpdate: CommandSpec = CommandSpec(
    "update", abstract: "Configure a connector: plug type, maximum current, free or RFID charging",
    arguments: [
      stationIdentity,
      .positional("connector", help: "The connector number, from 1"),
      .option("type", value: "type", help: "Plug type, such as Type2 or CCS"),
      .option("max-current", value: "amperes", help: "Maximum current"),
      .option("mode", value: "mode", help: "open: free charging; rfid: a token is needed",
              choices: ["open", "rfid"]),
      .option("parking-space", value: "text", help: "Parking space label"),
      .option("external-id", value: "id", help: "Its id in another system; unique among connectors"),
      .flag("no-external-id", help: "Remove the external id"),
    ]
  ) { inv in
    guard let number = Int(inv.required("connector")) else {
      throw UsageError(message: "invalid connector '\(inv.required("connector"))': expected a number",
                       commandPath: inv.arguments.path)
    }
    let connector = try inv.context.openStore().updateConnector(
      inv.required("identity"), connector: number, type: inv.arguments.option("type"),
      maxCurrent: try inv.double("max-current"), mode: inv.arguments.option("mode"),
      parkingSpace: inv.arguments.option("parking-space"), externalID: inv.arguments.option("external-id"),
      clearExternalID: try {
        let clear = inv.arguments.flag("no-external-id")
        if clear, inv.arguments.option("external-id") != nil {
          throw UsageError(message: "'--external-id' and '--no-external-id' contradict each other",
                           commandPath: inv.arguments.path)
        }
        return clear
      }())
    inv.context.confirm("connector", "\(connector.stationIdentity)/\(connector.connectorID)", "updated")
  }
}
