import EvctlCore

/// `evctl node`: the `serve` nodes registered in the store (several on one PostgreSQL database).
extension Commands {
  static let node: CommandSpec = CommandSpec(
    "node", aliases: ["nodes"], abstract: "The serve nodes on this store and the stations each holds",
    subcommands: [nodeList])

  static let nodeList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"],
    abstract: "List serve nodes: running ones first, with their heartbeat and stations held",
    arguments: [],
    examples: [.init("Which node holds how many stations", "evctl node list")]
  ) { inv in
    let nodes = try inv.context.openStore().nodes()
    let columns: [Column<Store.Node>] = [
      Column("node") { $0.id },
      Column("state") { $0.state },
      Column("host") { $0.host },
      Column("pid") { String($0.pid) },
      Column("listen") { $0.listen },
      Column("stations") { String($0.stations) },
      Column("started_at") { $0.startedAt.iso8601 },
      Column("heartbeat_at") { $0.heartbeatAt.iso8601 },
      Column("stopped_at") { $0.stoppedAt?.iso8601 },
      Column("reason") { $0.stopReason },
    ]
    inv.context.console.writeOut(inv.context.renderer().list(nodes, columns: columns) { node in
      ["node": .from(node.id), "state": .from(node.state), "host": .from(node.host), "pid": .from(node.pid),
       "listen": .from(node.listen), "stations": .from(node.stations),
       "started_at": .from(node.startedAt.iso8601), "heartbeat_at": .from(node.heartbeatAt.iso8601),
       "stopped_at": .from(node.stoppedAt?.iso8601), "reason": .from(node.stopReason)]
    })
  }
}
