import EvctlCore

extension Commands {
  static let group: CommandSpec = CommandSpec(
    "group", aliases: ["groups"], abstract: "Manage the group tree: sites, floors, areas",
    subcommands: [groupList, groupTree, groupShow, groupCreate, groupRename, groupUpdate, groupMove,
                  groupDelete] + groupSmartChargingCommands)

  static let groupColumns: [Column<Group>] = [
    Column("id") { String($0.id) },
    Column("path") { $0.path },
    Column("kind") { $0.kind.rawValue },
    Column("name", brief: false) { $0.name },
    Column("parent_id", brief: false) { $0.parentID.map(String.init) },
    Column("address", brief: false) { $0.address },
    Column("latitude", brief: false) { $0.latitude.map { String($0) } },
    Column("longitude", brief: false) { $0.longitude.map { String($0) } },
    Column.time("created_at", brief: false) { $0.createdAt },
    Column("state") { $0.state?.rawValue },
    Column.time("updated_at", brief: false) { $0.updatedAt },
  ]

  /// The groups with their states (SMA's site state), from the stations in each subtree.
  static func withStates(_ groups: [Group], store: Store) throws -> [Group] {
    let states = try store.groupStates()
    return groups.map { group in
      var group = group
      group.state = states[group.id] ?? .unknown
      return group
    }
  }

  /// The group columns, the state painted on a terminal.
  static func groupColumns(_ renderer: Renderer) -> [Column<Group>] {
    guard renderer.color else { return groupColumns }
    return groupColumns.map { column in
      column.key == "state"
        ? Column("state", painted: true, human: nil) { renderer.paint($0.state?.rawValue ?? "") } : column
    }
  }

  static let groupReference = ArgumentSpec.positional(
    "group", help: "Group id, full path (Site/Floor 1) or unique name", completion: .groups)

  static let groupList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List groups with their full paths and states",
    discussion: """
      A group's state comes from the stations in its subtree: fault when one is faulted, else
      in_use when a car charges at one, else available when one is connected, else unknown (no
      stations, or none connected).
      """,
    examples: [.init("Every group as CSV", "evctl group list -o csv")]
  ) { inv in
    let store = try inv.context.openStore()
    let groups = try withStates(try store.groups(), store: store)
    let renderer = inv.context.renderer()
    inv.context.console.writeOut(renderer.list(groups, columns: groupColumns(renderer), json: \.json))
  }

  static let groupShow: CommandSpec = CommandSpec(
    "show", abstract: "Show one group", arguments: [groupReference]
  ) { inv in
    let store = try inv.context.openStore()
    let group = try store.resolveGroup(inv.required("group"))
    try store.requireDomain(group.id, what: "group '\(group.path)'")
    let shown = try withStates([group], store: store)[0]
    inv.context.console.writeOut(inv.context.renderer().one(shown, columns: groupColumns, json: \.json))
  }

  static let groupCreate: CommandSpec = CommandSpec(
    "create", abstract: "Create a group",
    arguments: [
      .positional("name", help: "The group's name, unique among its siblings"),
      .option("parent", value: "group", help: "The parent group; default: your base group (top level for the whole network)", completion: .groups),
      .option("kind", value: "kind", help: "What the group is", choices: GroupKind.allCases.map(\.rawValue)),
      .option("address", value: "text", help: "Street address"),
      .option("lat", value: "degrees", help: "Latitude in degrees, -90 to 90"),
      .option("lon", value: "degrees", help: "Longitude in degrees, -180 to 180"),
    ],
    examples: [
      .init("A site with a floor", "evctl group create HQ --kind site && evctl group create 'Floor 1' --parent HQ --kind floor")
    ]
  ) { inv in
    let group = try inv.context.openStore().createGroup(
      name: inv.required("name"), parent: inv.arguments.option("parent"),
      kind: inv.arguments.option("kind").flatMap(GroupKind.init(rawValue:)) ?? .other,
      address: inv.arguments.option("address"), latitude: try coordinate(inv, "lat", limit: 90),
      longitude: try coordinate(inv, "lon", limit: 180))
    inv.context.confirm("group", group.path, "created")
  }

  static let groupRename: CommandSpec = CommandSpec(
    "rename", abstract: "Rename a group",
    arguments: [groupReference, .positional("new-name", help: "The new name")]
  ) { inv in
    let group = try inv.context.openStore().updateGroup(
      inv.required("group"), name: inv.required("new-name"))
    inv.context.confirm("group", group.path, "renamed")
  }

  static let groupUpdate: CommandSpec = CommandSpec(
    "update", abstract: "Change a group's kind, address or coordinates",
    arguments: [
      groupReference,
      .option("kind", value: "kind", help: "What the group is", choices: GroupKind.allCases.map(\.rawValue)),
      .option("address", value: "text", help: "Street address"),
      .option("lat", value: "degrees", help: "Latitude in degrees, -90 to 90"),
      .option("lon", value: "degrees", help: "Longitude in degrees, -180 to 180"),
    ]
  ) { inv in
    let group = try inv.context.openStore().updateGroup(
      inv.required("group"), kind: inv.arguments.option("kind").flatMap(GroupKind.init(rawValue:)),
      address: inv.arguments.option("address"), latitude: try coordinate(inv, "lat", limit: 90),
      longitude: try coordinate(inv, "lon", limit: 180))
    inv.context.confirm("group", group.path, "updated")
  }

  static let groupMove: CommandSpec = CommandSpec(
    "move", abstract: "Move a group under another parent (cycles are refused)",
    arguments: [
      groupReference,
      .option("parent", value: "group", help: "The new parent", completion: .groups),
      .flag("top", help: "Move to the top level"),
    ]
  ) { inv in
    let parent = inv.arguments.option("parent")
    guard (parent != nil) != inv.arguments.flag("top") else {
      throw UsageError(message: "give exactly one of --parent or --top", commandPath: inv.arguments.path)
    }
    let group = try inv.context.openStore().moveGroup(inv.required("group"), to: parent)
    inv.context.confirm("group", group.path, "moved")
  }

  /// A latitude (`limit` 90) or longitude (`limit` 180) in degrees, refused outside the globe.
  static func coordinate(_ inv: Invocation, _ name: String, limit: Double) throws -> Double? {
    guard let value = try inv.double(name) else { return nil }
    guard value.isFinite, (-limit...limit).contains(value) else {
      throw UsageError(
        message: "invalid value '\(inv.arguments.option(name) ?? "")' for '--\(name)': expected degrees from -\(Int(limit)) to \(Int(limit))",
        commandPath: inv.arguments.path)
    }
    return value
  }

  static let groupDelete: CommandSpec = CommandSpec(
    "delete", aliases: ["rm"], abstract: "Delete an empty group",
    arguments: [groupReference, .yes]
  ) { inv in
    let store = try inv.context.openStore()
    let group = try store.resolveGroup(inv.required("group"))
    try inv.confirmDestructive("delete group \(group.path)")
    try store.deleteGroup(inv.required("group"))
    inv.context.confirm("group", inv.required("group"), "deleted")
  }

  static let groupTree: CommandSpec = CommandSpec(
    "tree", abstract: "Show the navigator: nested groups with their stations and states",
    arguments: [.positional("group", help: "Start at this group", required: false, completion: .groups)]
  ) { inv in
    try inv.supportsOnly([.table, .wide, .json])
    let store = try inv.context.openStore()
    let tree = try store.groupTree()
    let start = try inv.arguments.positional("group").map { try store.resolveGroup($0, in: tree).id }
      ?? store.actor.baseGroupID
    if let start { try store.requireDomain(start, what: "that group") }
    let stations = try store.stations()
    let byGroup = Dictionary(grouping: stations, by: { $0.groupID ?? 0 })
    let renderer = inv.context.renderer()
    if renderer.format == .json {
      func node(_ id: Int) -> JSONValue {
        let group = tree.byID[id]!
        var object = group.json.objectValue!
        object["children"] = .array((tree.children[id] ?? []).map(node))
        object["stations"] = .array((byGroup[id] ?? []).map(stationSummary))
        return .object(object)
      }
      let roots = start.map { [$0] } ?? (tree.children[0] ?? [])
      var top: [String: JSONValue] = ["groups": .array(roots.map(node))]
      if start == nil { top["ungrouped_stations"] = .array((byGroup[0] ?? []).map(stationSummary)) }
      inv.context.console.writeOut(JSONValue.object(top).pretty + "\n")
      return
    }
    var out = ""
    for (group, depth) in tree.depthFirst(from: start) {
      let indent = String(repeating: "  ", count: depth)
      out += "\(indent)\(PrintableText.escaped(group.name)) [\(group.kind.rawValue)]\n"
      for station in byGroup[group.id] ?? [] {
        out += "\(indent)  - \(PrintableText.escaped(station.identity))  \(PrintableText.escaped(station.name))  \(renderer.paint(station.state))\n"
      }
    }
    if start == nil, let orphans = byGroup[0], !orphans.isEmpty {
      out += "(no group)\n"
      for station in orphans {
        out += "  - \(PrintableText.escaped(station.identity))  \(PrintableText.escaped(station.name))  \(renderer.paint(station.state))\n"
      }
    }
    inv.context.console.writeOut(out)
  }

  static func stationSummary(_ station: Station) -> JSONValue {
    ["identity": .string(station.identity), "name": .string(station.name),
     "state": .string(station.state)]
  }
}
