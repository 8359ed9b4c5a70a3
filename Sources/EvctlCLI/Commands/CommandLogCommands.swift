import EvctlCore

extension Commands {
  static let command: CommandSpec = CommandSpec(
    "command", aliases: ["commands"], abstract: "The audit log of remote commands",
    subcommands: [commandList, commandShow, commandCancel])

  static let commandColumns: [Column<RemoteCommand>] = [
    Column("id") { String($0.id) },
    Column.time("created_at") { $0.createdAt },
    Column("requested_by") { $0.requestedBy },
    Column("station") { $0.stationIdentity },
    Column("action") { $0.action },
    Column("state") { $0.state.rawValue },
    Column("status") { $0.status },
    Column("latency_ms") { $0.latencyMilliseconds.map(String.init) },
    Column("payload", brief: false) { $0.payloadTrimmed ? "(trimmed by retention)" : $0.payload.compact },
    Column("response", brief: false) { $0.response?.compact },
    Column("error", brief: false) { $0.error },
    Column.time("sent_at", brief: false) { $0.sentAt },
    Column.time("answered_at", brief: false) { $0.answeredAt },
  ]

  static let commandList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List remote commands, newest first",
    arguments: [
      .option("station", value: "identity", help: "Only this station", completion: .stations),
      .option("action", value: "action", help: "Only this OCPP action, e.g. Reset"),
      .option("state", value: "state", help: "Only this state", choices: CommandState.allCases.map(\.rawValue)),
      .option("limit", value: "count", help: "At most this many; default 100"),
    ],
    examples: [.init("Who reset what this week", "evctl command list --action Reset -o wide")]
  ) { inv in
    let commands = try inv.context.openStore().commands(
      CommandFilter(station: inv.arguments.option("station"), action: inv.arguments.option("action"),
                    state: inv.arguments.option("state").flatMap(CommandState.init(rawValue:)),
                    limit: try inv.int("limit") ?? 100))
    inv.context.console.writeOut(inv.context.renderer().list(commands, columns: commandColumns, json: \.json))
  }

  static let commandShow: CommandSpec = CommandSpec(
    "show", abstract: "Show one remote command with its payload and answer",
    arguments: [.positional("id", help: "The command id")]
  ) { inv in
    let id = try inv.id("id", kind: "command")
    let store = try inv.context.openStore()
    let command = try store.command(id)
    _ = try store.station(command.stationIdentity)
    inv.context.console.writeOut(inv.context.renderer().one(command, columns: commandColumns, json: \.json))
  }

  static let commandCancel: CommandSpec = CommandSpec(
    "cancel", abstract: "Withdraw a queued command before serve sends it",
    discussion: """
      Only a command still queued (for example one sent with --queue to an offline station) can
      be withdrawn; it ends expired with status Cancelled. A command already sent is up to the
      station: cancel exits 1 and says when it went out.
      """,
    arguments: [.positional("id", help: "The command id (see 'evctl command list --state queued')")],
    examples: [.init("Withdraw a queued reset", "evctl command cancel 42")]
  ) { inv in
    let id = try inv.id("id", kind: "command")
    let command = try inv.context.openStore().cancelCommand(id)
    let renderer = inv.context.renderer()
    if renderer.format == .json {
      inv.context.console.writeOut(command.json.pretty + "\n")
    } else if !inv.context.isQuiet {
      inv.context.console.writeOut("command/\(id) cancelled (\(command.action) to \(command.stationIdentity))\n")
    }
  }
}
