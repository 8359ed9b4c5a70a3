import EvctlCore

extension Commands {
  static let user: CommandSpec = CommandSpec(
    "user", aliases: ["users"], abstract: "Manage charging users and their access rights",
    subcommands: [
      userList, userShow, userCreate, userUpdate, userDelete, userGrant, userRevoke, userImport,
      userExport,
    ])

  static let userEmail = ArgumentSpec.positional(
    "email", help: "The user's email", completion: .users)

  static let userColumns: [Column<ChargingUser>] = [
    Column("email") { $0.email },
    Column("first_name") { $0.firstName },
    Column("last_name") { $0.lastName },
    Column("group") { $0.groupPath },
    Column("tokens") { String($0.tokenCount) },
    Column("access") { user in
      user.access.map { $0.groupPath.map { "group:" + $0 } ?? "station:" + ($0.stationIdentity ?? "") }
        .joined(separator: ";")
    },
    Column("phone", brief: false) { $0.phone },
    Column("id", brief: false) { String($0.id) },
    Column.time("created_at", brief: false) { $0.createdAt },
  ]

  static let userList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List charging users",
    arguments: [.option("search", value: "text", help: "Only users whose email or name contains this")]
  ) { inv in
    let users = try inv.context.openStore().users(search: inv.arguments.option("search"))
    inv.context.console.writeOut(inv.context.renderer().list(users, columns: userColumns, json: \.json))
  }

  static let userShow: CommandSpec = CommandSpec(
    "show", abstract: "Show one charging user", arguments: [userEmail]
  ) { inv in
    let user = try inv.context.openStore().user(inv.required("email"))
    inv.context.console.writeOut(inv.context.renderer().one(user, columns: userColumns, json: \.json))
  }

  static let userCreate: CommandSpec = CommandSpec(
    "create", abstract: "Create a charging user",
    arguments: [
      .positional("email", help: "Email, unique and fixed once created"),
      .option("first", value: "name", help: "First name", required: true),
      .option("last", value: "name", help: "Last name", required: true),
      .option("phone", value: "number", help: "Phone number"),
      .option("group", value: "group", help: "Owning group; default your base group",
              completion: .groups),
    ],
    examples: [.init("A driver", "evctl user create eva@example.com --first Eva --last Berg")]
  ) { inv in
    let user = try inv.context.openStore().createUser(
      email: inv.required("email"), firstName: inv.arguments.option("first")!,
      lastName: inv.arguments.option("last")!, phone: inv.arguments.option("phone"),
      group: inv.arguments.option("group"))
    inv.context.confirm("user", user.email, "created")
  }

  static let userUpdate: CommandSpec = CommandSpec(
    "update", abstract: "Change a charging user's names, phone or group",
    arguments: [
      userEmail,
      .option("first", value: "name", help: "First name"),
      .option("last", value: "name", help: "Last name"),
      .option("phone", value: "number", help: "Phone number"),
      .option("group", value: "group", help: "Owning group", completion: .groups),
    ]
  ) { inv in
    let user = try inv.context.openStore().updateUser(
      inv.required("email"), firstName: inv.arguments.option("first"),
      lastName: inv.arguments.option("last"), phone: inv.arguments.option("phone"),
      group: inv.arguments.option("group"))
    inv.context.confirm("user", user.email, "updated")
  }

  static let userDelete: CommandSpec = CommandSpec(
    "delete", aliases: ["rm"], abstract: "Delete a charging user with their tokens",
    arguments: [userEmail, .yes]
  ) { inv in
    let store = try inv.context.openStore()
    let user = try store.user(inv.required("email"))
    if user.tokenCount > 0 {
      try inv.confirmDestructive(
        "delete user \(user.email) and \(user.tokenCount == 1 ? "their token" : "their \(user.tokenCount) tokens")")
    }
    try store.deleteUser(user.email)
    inv.context.confirm("user", inv.required("email"), "deleted")
  }

  static let accessArguments: [ArgumentSpec] = [
    userEmail,
    .option("group", value: "group", help: "Every station in this group's subtree", completion: .groups),
    .option("station", value: "identity", help: "One station", completion: .stations),
  ]

  static let userGrant: CommandSpec = CommandSpec(
    "grant", abstract: "Let a user charge at a group's stations or at one private station",
    arguments: accessArguments,
    examples: [.init("Access to a whole site", "evctl user grant eva@example.com --group HQ")]
  ) { inv in
    let user = try inv.context.openStore().grantAccess(
      inv.required("email"), group: inv.arguments.option("group"),
      station: inv.arguments.option("station"))
    inv.context.confirm("user", user.email, "granted access")
  }

  static let userRevoke: CommandSpec = CommandSpec(
    "revoke", abstract: "Take back an access right", arguments: accessArguments
  ) { inv in
    let user = try inv.context.openStore().revokeAccess(
      inv.required("email"), group: inv.arguments.option("group"),
      station: inv.arguments.option("station"))
    inv.context.confirm("user", user.email, "access revoked")
  }

  static let userImport: CommandSpec = CommandSpec(
    "import", abstract: "Create or update charging users and their tokens from a CSV file, all or nothing",
    discussion: """
      Columns (header row required): \(Store.userImportColumns.joined(separator: ", ")).
      email is required; first_name and last_name are required for a new user. One row per
      card: a user with three cards takes three rows (leave the user's fields empty on all but
      one, or repeat them unchanged). Rows without an id_tag only create or update the user.
      Every bad row is reported as FILE:LINE: reason, and nothing is written unless every row
      is good. 'user export' writes this format.
      """,
    arguments: [
      .positional("file", help: "The CSV file, or - for standard input", completion: .file),
      .flag("dry-run", short: "n", help: "Check only; write nothing"),
    ],
    examples: [.init("Import a fleet with its cards", "evctl user import fleet.csv")]
  ) { inv in
    let (text, name) = try readInputFile(inv)
    runImportAtLowPriority()
    let summary = try inv.context.openStore().importUsers(
      csv: text, file: name, dryRun: inv.arguments.flag("dry-run"))
    guard !inv.context.isQuiet else { return }
    let users = summary.users, tokens = summary.tokens
    let verb = summary.written ? "" : " (dry run: nothing written)"
    inv.context.console.writeOut(
      "users: \(users.created) created, \(users.updated) updated, \(users.unchanged) unchanged; "
        + "tokens: \(tokens.created) created, \(tokens.updated) updated, \(tokens.unchanged) unchanged\(verb)\n")
  }

  static let userExport: CommandSpec = CommandSpec(
    "export", abstract: "Print charging users and their tokens as CSV in the format user import reads"
  ) { inv in
    let rows = try inv.context.openStore().exportUsers()
    inv.context.console.writeOut(rows.map { CSVWriter.line($0) + "\r\n" }.joined())
  }
}
