import EvctlCore
import Foundation

extension Commands {
  static let operatorCommand: CommandSpec = CommandSpec(
    "operator", aliases: ["operators"], abstract: "Manage operators: who administers what",
    discussion: """
      Roles: admin (everything), support (station settings and configuration, firmware and remote
      commands), basic (may not manage operators, add, edit or remove stations, set a site's grid
      capacity, create or remove charging users, delete tokens or update firmware). Every operator
      sees and acts on their base group's subtree only.
      """,
    subcommands: [
      operatorList, operatorShow, operatorCreate, operatorUpdate, operatorActivate,
      operatorDeactivate, operatorDelete, operatorPasswd, operatorToken, operatorInvite,
    ])

  static let operatorEmail = ArgumentSpec.positional(
    "email", help: "The operator's email", completion: .operators)

  static let operatorColumns: [Column<Operator>] = [
    Column("email") { $0.email },
    Column("name") { $0.name },
    Column("role") { $0.role.rawValue },
    Column("base_group") { $0.baseGroupPath ?? "(whole network)" },
    Column("active") { $0.active ? "true" : "false" },
    Column("id", brief: false) { String($0.id) },
    Column.time("created_at", brief: false) { $0.createdAt },
  ]

  static let operatorList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List operators"
  ) { inv in
    let operators = try inv.context.openStore().operators()
    inv.context.console.writeOut(
      inv.context.renderer().list(operators, columns: operatorColumns, json: \.json))
  }

  static let operatorShow: CommandSpec = CommandSpec(
    "show", abstract: "Show one operator", arguments: [operatorEmail]
  ) { inv in
    let store = try inv.context.openStore()
    let op = try store.operatorNamed(inv.required("email"))
    let view = OperatorView(op: op, mail: try store.mailOfOperator(op.email))
    inv.context.console.writeOut(
      inv.context.renderer().one(view, columns: operatorViewColumns, json: operatorViewJSON))
  }

  static let operatorCreate: CommandSpec = CommandSpec(
    "create", abstract: "Create an operator",
    arguments: [
      .positional("email", help: "Login email, unique"),
      .option("name", value: "name", help: "Full name", required: true),
      .option("role", value: "role", help: "What they may do", choices: Role.allCases.map(\.rawValue),
              required: true),
      .option("base-group", value: "group",
              help: "The subtree they see; omit for the whole network", completion: .groups),
      .passwordStdin,
    ],
    examples: [
      .init("A basic operator for one site", "printf 'secret123\\n' | evctl operator create ann@example.com --name Ann --role basic --base-group HQ --password-stdin")
    ]
  ) { inv in
    let password = try inv.password(prompt: "Password: ", ask: false)
    let op = try inv.context.openStore().createOperator(
      email: inv.required("email"), name: inv.arguments.option("name")!,
      role: Role(rawValue: inv.arguments.option("role")!)!,
      baseGroup: inv.arguments.option("base-group"), password: password)
    inv.context.confirm("operator", op.email, "created")
  }

  static let operatorUpdate: CommandSpec = CommandSpec(
    "update", abstract: "Change an operator's email, name, role or base group",
    discussion: """
      Every operator may change their own email and name; admins change anyone's in their base
      group. Login sessions and API tokens follow the operator to the new email.
      """,
    arguments: [
      operatorEmail,
      .option("email", value: "email", help: "New email to log in with"),
      .option("name", value: "name", help: "Full name"),
      .option("role", value: "role", help: "What they may do", choices: Role.allCases.map(\.rawValue)),
      .option("base-group", value: "group", help: "The subtree they see", completion: .groups),
      .option("alarm-mail", value: "when", help: "Mail about alarms in their base group: one per new alarm, a daily digest of the active ones, or none",
              choices: AlarmMail.allCases.map(\.rawValue)),
      .option("alarm-mail-hour", value: "hour", help: "Hour (0-23, in --tz of serve) of the daily digest; default 7"),
    ],
    examples: [
      .init("A digest of the site's active alarms every morning at 8", "evctl operator update ann@example.com --alarm-mail daily --alarm-mail-hour 8"),
    ]
  ) { inv in
    let store = try inv.context.openStore()
    var email = inv.required("email")
    let changes = ["email", "name", "role", "base-group"].contains { inv.arguments.option($0) != nil }
    let mailMode = inv.arguments.option("alarm-mail").flatMap(AlarmMail.init(rawValue:))
    let hour = try inv.int("alarm-mail-hour")
    if changes || (mailMode == nil && hour == nil) {
      email = try store.updateOperator(
        email, newEmail: inv.arguments.option("email"), name: inv.arguments.option("name"),
        role: inv.arguments.option("role").flatMap(Role.init(rawValue:)),
        baseGroup: inv.arguments.option("base-group")).email
    }
    if mailMode != nil || hour != nil {
      email = try store.setAlarmMail(email, mode: mailMode, hour: hour).email
    }
    inv.context.confirm("operator", email, "updated")
  }

  static let operatorActivate: CommandSpec = CommandSpec(
    "activate", abstract: "Let an operator log in again", arguments: [operatorEmail]
  ) { inv in
    let op = try inv.context.openStore().setOperatorActive(inv.required("email"), active: true)
    inv.context.confirm("operator", op.email, "activated")
  }

  static let operatorDeactivate: CommandSpec = CommandSpec(
    "deactivate", abstract: "Stop an operator from logging in and end their sessions",
    arguments: [operatorEmail]
  ) { inv in
    let op = try inv.context.openStore().setOperatorActive(inv.required("email"), active: false)
    inv.context.confirm("operator", op.email, "deactivated")
  }

  static let operatorDelete: CommandSpec = CommandSpec(
    "delete", aliases: ["rm"], abstract: "Delete an operator (never the last active admin)",
    arguments: [operatorEmail]
  ) { inv in
    try inv.context.openStore().deleteOperator(inv.required("email"))
    inv.context.confirm("operator", inv.required("email"), "deleted")
  }

  static let operatorPasswd: CommandSpec = CommandSpec(
    "passwd", abstract: "Set an operator's password (8+ characters, letters and digits)",
    arguments: [operatorEmail, .passwordStdin]
  ) { inv in
    let password = try inv.password(prompt: "New password: ", ask: true)!
    try inv.context.openStore().setOperatorPassword(inv.required("email"), password: password)
    inv.context.confirm("operator", inv.required("email"), "password changed")
  }

  static let operatorToken: CommandSpec = CommandSpec(
    "token", abstract: "Manage API tokens for scripts",
    subcommands: [operatorTokenCreate])

  static let operatorTokenCreate: CommandSpec = CommandSpec(
    "create", abstract: "Create an API token for the logged-in operator, printed once",
    arguments: [
      .option("name", value: "name", help: "What the token is for", required: true),
      .option("expires", value: "duration", help: "Lifetime such as 90d; default: never"),
    ],
    examples: [.init("A token for cron", "evctl operator token create --name cron --expires 90d")]
  ) { inv in
    let credential = try inv.context.openStore().createAPIToken(
      name: inv.arguments.option("name")!, lifetimeSeconds: try inv.duration("expires"))
    inv.context.console.writeOut(credential.secret + "\n")
    inv.context.console.diagnose(
      "hint: store it now; it is not shown again. Use it with EVCTL_TOKEN=... evctl ...")
  }

  // MARK: Sessions

  static let login: CommandSpec = CommandSpec(
    "login", abstract: "Log in as an operator for two hours",
    discussion: """
      With --invite CODE (from an invitation or password-reset mail) instead of an email, evctl
      asks for a new password, sets it and logs in; the code then stops working.
      """,
    arguments: [
      .positional("email", help: "Your operator email", required: false),
      .option("invite", value: "code", help: "A one-time code from an invitation or password-reset mail: set a new password"),
      .passwordStdin,
    ],
    examples: [
      .init("Accept an invitation", "evctl login --invite ABCDE-FGHJK-LMNPQ-RSTUV"),
    ]
  ) { inv in
    let code = inv.arguments.option("invite")
    let email = inv.arguments.positional("email")
    switch (email, code) {
    case (nil, nil):
      throw UsageError(message: "give your operator email, or --invite CODE", commandPath: inv.arguments.path)
    case (.some, .some):
      throw UsageError(message: "give an email or --invite CODE, not both (the code knows whose it is)",
                       commandPath: inv.arguments.path)
    default:
      break
    }
    let password = try inv.password(prompt: code == nil ? "Password: " : "New password: ", ask: true)!
    // Whoever evctl acts as now (an expired session, a stale token) never blocks logging in.
    let store = try inv.context.openStore(identify: false)
    let credential = try code.map { try store.redeemCode($0, password: password) }
      ?? store.login(email: email!, password: password)
    if inv.context.isDryRun {
      throw DryRunStop(plan: "the password of \(credential.operatorEmail) is right; would log in\n")
    }
    try inv.context.saveSession(secret: credential.secret)
    if !inv.context.isQuiet {
      inv.context.console.writeOut(
        "logged in as \(credential.operatorEmail) until \(credential.expiresAt?.iso8601 ?? "-")\n")
    }
  }

  static let logout: CommandSpec = CommandSpec(
    "logout", abstract: "End the login session"
  ) { inv in
    if inv.context.isDryRun {
      throw DryRunStop(plan: inv.context.savedSession() == nil ? "not logged in\n" : "would log out\n")
    }
    if let session = inv.context.savedSession() {
      if case .postgresql(let url) = inv.context.databaseLocation {
        // The session file holds the URL without its password: revoke through the one named now.
        if session.db == inv.context.sessionKey(), let store = try? Store(postgresURL: url, migrate: false) {
          try? store.revokeCredential(secret: session.secret)
        }
      } else if FileManager.default.fileExists(atPath: session.db), let store = try? Store(.path(session.db)) {
        try? store.revokeCredential(secret: session.secret)
      }
      try? FileManager.default.removeItem(atPath: inv.context.sessionFile)
    }
    if !inv.context.isQuiet { inv.context.console.writeOut("logged out\n") }
  }

  static let whoami: CommandSpec = CommandSpec(
    "whoami", abstract: "Show who evctl acts as"
  ) { inv in
    try inv.supportsOnly([.table, .wide, .json])
    let store = try inv.context.openStore()
    switch store.actor {
    case .local:
      let info: JSONValue = ["actor": "local", "role": "admin", "base_group": nil]
      if inv.context.requestedFormat == .json {
        inv.context.console.writeOut(info.pretty + "\n")
      } else {
        inv.context.console.writeOut("local administrator (not logged in; full access to this store)\n")
      }
    case .operator(let op):
      inv.context.console.writeOut(
        inv.context.renderer().one(op, columns: operatorColumns, json: \.json))
    }
  }
}
