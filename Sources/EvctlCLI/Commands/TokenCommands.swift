import EvctlCore

extension Commands {
  static let token: CommandSpec = CommandSpec(
    "token", aliases: ["tokens"], abstract: "Manage RFID tokens (OCPP id tags)",
    discussion: """
      Id tags are case-insensitive and at most 20 characters. A card UID written as 04:a1:b2:c3,
      0x04A1B2C3 or in decimal (--decimal, or a dec: prefix) is stored as upper-case hex.
      """,
    subcommands: [tokenList, tokenShow, tokenAdd, tokenUpdate, tokenBlock, tokenUnblock, tokenDelete,
                  tokenImport, tokenExport])

  static let tokenIDTag = ArgumentSpec.positional(
    "id-tag", help: "The id tag, in any accepted spelling", completion: .tokens)

  static func tokenColumns(now: Timestamp) -> [Column<Token>] {
    [
      Column("id_tag") { $0.idTag },
      Column("user") { $0.userEmail },
      Column("name") { $0.name },
      Column("status") { $0.status(at: now) },
      Column("valid_from") { $0.validFrom?.iso8601 },
      Column("valid_to") { $0.validTo?.iso8601 },
      Column("parent_id_tag", brief: false) { $0.parentIDTag },
      Column("raw_id_tag", brief: false) { $0.rawIDTag },
      Column("allow_concurrent", brief: false) { $0.allowConcurrent ? "true" : "false" },
      Column("id", brief: false) { String($0.id) },
      Column("created_at", brief: false) { $0.createdAt.iso8601 },
    ]
  }

  static let tokenList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List tokens",
    arguments: [
      .option("user", value: "email", help: "Only this user's tokens", completion: .users),
      .option("status", value: "status", help: "Only tokens in this state",
              choices: ["valid", "blocked", "expired", "not_yet_valid"]),
      .option("expiring", value: "duration", help: "Only tokens expiring within this period, e.g. 30d"),
    ],
    examples: [.init("Tokens that expire this month", "evctl token list --expiring 30d")]
  ) { inv in
    let within = try inv.duration("expiring")
    let store = try inv.context.openStore()
    let now = store.clock()
    let tokens = try store.tokens(
      TokenFilter(userEmail: inv.arguments.option("user"), status: inv.arguments.option("status"),
                  expiringWithinSeconds: within))
    inv.context.console.writeOut(
      inv.context.renderer().list(tokens, columns: tokenColumns(now: now), json: { $0.json(at: now) }))
  }

  static let tokenShow: CommandSpec = CommandSpec(
    "show", abstract: "Show one token", arguments: [tokenIDTag]
  ) { inv in
    let store = try inv.context.openStore()
    let now = store.clock()
    let token = try store.token(inv.required("id-tag"))
    inv.context.console.writeOut(
      inv.context.renderer().one(token, columns: tokenColumns(now: now), json: { $0.json(at: now) }))
  }

  static let tokenAdd: CommandSpec = CommandSpec(
    "add", aliases: ["create"], abstract: "Add a token for a charging user",
    arguments: [
      .positional("id-tag", help: "The id tag or card UID"),
      .option("user", value: "email", help: "The owner", required: true, completion: .users),
      .option("name", value: "name", help: "A label, such as 'Workplace token'"),
      .option("valid-from", value: "time", help: "Valid from (date, ISO time, now, or 7d from now)"),
      .option("valid-to", value: "time", help: "Valid until (date, ISO time, or 365d from now)"),
      .flag("no-expiry", help: "Valid without an end date (the default)"),
      .option("parent", value: "id-tag", help: "Parent id tag: a group of tokens"),
      .flag("decimal", help: "The UID is given in decimal"),
      .flag("allow-concurrent", help: "May be used in several transactions at once"),
    ],
    examples: [
      .init("A workplace card valid for a year",
            "evctl token add 04:A1:B2:C3 --user eva@example.com --name 'Workplace token' --valid-to 365d")
    ]
  ) { inv in
    if inv.arguments.flag("no-expiry"), inv.arguments.option("valid-to") != nil {
      throw UsageError(message: "give --valid-to or --no-expiry, not both", commandPath: inv.arguments.path)
    }
    let token = try inv.context.openStore().addToken(
      idTag: inv.required("id-tag"), decimal: inv.arguments.flag("decimal"),
      userEmail: inv.arguments.option("user")!, name: inv.arguments.option("name"),
      validFrom: try inv.time("valid-from"), validTo: try inv.time("valid-to"),
      parentIDTag: inv.arguments.option("parent"),
      allowConcurrent: inv.arguments.flag("allow-concurrent"))
    inv.context.confirm("token", token.idTag, "added")
  }

  static let tokenUpdate: CommandSpec = CommandSpec(
    "update", abstract: "Change a token's label, validity, parent or owner",
    arguments: [
      tokenIDTag,
      .option("name", value: "name", help: "A label"),
      .option("valid-from", value: "time", help: "Valid from"),
      .option("valid-to", value: "time", help: "Valid until"),
      .flag("no-expiry", help: "Remove the end date"),
      .option("parent", value: "id-tag", help: "Parent id tag"),
      .flag("no-parent", help: "Remove the parent"),
      .option("user", value: "email", help: "Give the token to another user", completion: .users),
      .option("allow-concurrent", value: "bool", help: "May be used in several transactions at once",
              choices: ["true", "false"]),
    ]
  ) { inv in
    var changes = TokenChanges()
    changes.name = inv.arguments.option("name")
    changes.validFrom = try inv.time("valid-from")
    changes.validTo = try inv.time("valid-to")
    changes.noExpiry = inv.arguments.flag("no-expiry")
    changes.parentIDTag = inv.arguments.option("parent")
    changes.clearParent = inv.arguments.flag("no-parent")
    changes.userEmail = inv.arguments.option("user")
    changes.allowConcurrent = inv.arguments.option("allow-concurrent").map { $0 == "true" }
    let token = try inv.context.openStore().updateToken(inv.required("id-tag"), changes)
    inv.context.confirm("token", token.idTag, "updated")
  }

  static let tokenBlock: CommandSpec = CommandSpec(
    "block", abstract: "Block a token", arguments: [tokenIDTag]
  ) { inv in
    let token = try inv.context.openStore().setTokenBlocked(inv.required("id-tag"), blocked: true)
    inv.context.confirm("token", token.idTag, "blocked")
  }

  static let tokenUnblock: CommandSpec = CommandSpec(
    "unblock", abstract: "Unblock a token", arguments: [tokenIDTag]
  ) { inv in
    let token = try inv.context.openStore().setTokenBlocked(inv.required("id-tag"), blocked: false)
    inv.context.confirm("token", token.idTag, "unblocked")
  }

  static let tokenDelete: CommandSpec = CommandSpec(
    "delete", aliases: ["rm"], abstract: "Delete a token", arguments: [tokenIDTag]
  ) { inv in
    let store = try inv.context.openStore()
    let token = try store.token(inv.required("id-tag"))
    try store.deleteToken(token.idTag)
    inv.context.confirm("token", token.idTag, "deleted")
  }

  static let tokenImport: CommandSpec = CommandSpec(
    "import", abstract: "Add or update tokens from a CSV file, all or nothing",
    discussion: """
      Columns (header row required): \(Store.tokenColumns.joined(separator: ", ")).
      id_tag and user are required; the user must exist. Every bad row is reported as
      FILE:LINE: reason, and nothing is written unless every row is good.
      """,
    arguments: [
      .positional("file", help: "The CSV file, or - for standard input", completion: .file),
      .flag("dry-run", short: "n", help: "Check only; write nothing"),
    ],
    examples: [.init("Nightly import from the HR system", "evctl -q token import /srv/hr/tokens.csv")]
  ) { inv in
    let (text, name) = try readInputFile(inv)
    runImportAtLowPriority()
    let summary = try inv.context.openStore().importTokens(
      csv: text, file: name, dryRun: inv.arguments.flag("dry-run"))
    reportImport(summary, inv: inv)
  }

  static let tokenExport: CommandSpec = CommandSpec(
    "export", abstract: "Print tokens as CSV in the format token import reads"
  ) { inv in
    let rows = try inv.context.openStore().exportTokens()
    inv.context.console.writeOut(rows.map { CSVWriter.line($0) + "\r\n" }.joined())
  }
}
