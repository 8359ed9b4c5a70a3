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
      Column.time("valid_from") { $0.validFrom },
      Column.time("valid_to") { $0.validTo },
      Column("parent_id_tag", brief: false) { $0.parentIDTag },
      Column("raw_id_tag", brief: false) { $0.rawIDTag },
      Column("allow_concurrent", brief: false) { $0.allowConcurrent ? "true" : "false" },
      Column("id", brief: false) { String($0.id) },
      Column.time("created_at", brief: false) { $0.createdAt },
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
      .option("valid-from", value: "time", help: "Valid from; points into the future (7d = 7 days from now; -1d = yesterday)"),
      .option("valid-to", value: "time", help: "Valid until; points into the future (365d = a year from now)"),
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
      validFrom: try inv.time("valid-from", pointing: .future), validTo: try inv.time("valid-to", pointing: .future),
      parentIDTag: inv.arguments.option("parent"),
      allowConcurrent: inv.arguments.flag("allow-concurrent"))
    inv.context.confirm("token", token.idTag, "added")
  }

  static let tokenUpdate: CommandSpec = CommandSpec(
    "update", abstract: "Change a token's label, validity, parent or owner",
    arguments: [
      tokenIDTag,
      .option("name", value: "name", help: "A label"),
      .option("valid-from", value: "time", help: "Valid from; points into the future (7d = 7 days from now)"),
      .option("valid-to", value: "time", help: "Valid until; points into the future (365d = a year from now)"),
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
    changes.validFrom = try inv.time("valid-from", pointing: .future)
    changes.validTo = try inv.time("valid-to", pointing: .future)
    changes.noExpiry = inv.arguments.flag("no-expiry")
    changes.parentIDTag = inv.arguments.option("parent")
    changes.clearParent = inv.arguments.flag("no-parent")
    changes.userEmail = inv.arguments.option("user")
    changes.allowConcurrent = inv.arguments.option("allow-concurrent").map { $0 == "true" }
    let token = try inv.context.openStore().updateToken(inv.required("id-tag"), changes)
    inv.context.confirm("token", token.idTag, "updated")
  }

  static let clearCacheFlag = ArgumentSpec.flag(
    "clear-cache",
    help: "Also queue ClearCache to every station that was told about the token (it may have cached it)")

  static let tokenBlock: CommandSpec = CommandSpec(
    "block", abstract: "Block a token",
    discussion: """
      Stations learn of the block at the next Authorize or StartTransaction. Those that hold the
      token in their local list get it as Blocked with the next `local-list push`; those that
      cached it get ClearCache with --clear-cache (queued for offline stations).
      """,
    arguments: [tokenIDTag, clearCacheFlag]
  ) { inv in
    let store = try inv.context.openStore()
    // Refused before anything changes when the operator may not send commands.
    if inv.arguments.flag("clear-cache") { try store.require(.remoteCommand) }
    let token = try store.setTokenBlocked(inv.required("id-tag"), blocked: true)
    inv.context.confirm("token", token.idTag, "blocked")
    try clearCaches(for: token.idTag, store: store, inv: inv)
  }

  /// `--clear-cache`: queues ClearCache to the stations that were told about `idTag`.
  static func clearCaches(for idTag: String, store: Store, inv: Invocation) throws {
    guard inv.arguments.flag("clear-cache") else { return }
    let stations = try store.stationsThatSaw(idTag: idTag)
    if stations.isEmpty, !inv.context.isQuiet {
      inv.context.console.writeOut("no station was told about \(idTag); no ClearCache needed\n")
    }
    try store.atomically {
      for identity in stations {
        let command = try store.enqueueCommand(
          station: identity, action: "ClearCache", payload: [:], queue: true)
        inv.context.confirm("station", identity, "ClearCache queued (command \(command.id))")
      }
    }
  }

  static let tokenUnblock: CommandSpec = CommandSpec(
    "unblock", abstract: "Unblock a token", arguments: [tokenIDTag]
  ) { inv in
    let token = try inv.context.openStore().setTokenBlocked(inv.required("id-tag"), blocked: false)
    inv.context.confirm("token", token.idTag, "unblocked")
  }

  static let tokenDelete: CommandSpec = CommandSpec(
    "delete", aliases: ["rm"], abstract: "Delete a token",
    discussion: """
      Stations that hold the token in their local list get it as Blocked with the next
      `local-list push`; --clear-cache queues ClearCache to the stations that cached it.
      """,
    arguments: [tokenIDTag, clearCacheFlag]
  ) { inv in
    let store = try inv.context.openStore()
    if inv.arguments.flag("clear-cache") { try store.require(.remoteCommand) }
    let token = try store.token(inv.required("id-tag"))
    try store.deleteToken(token.idTag)
    inv.context.confirm("token", token.idTag, "deleted")
    try clearCaches(for: token.idTag, store: store, inv: inv)
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
    try inv.supportsOnly([.csv])
    let rows = try inv.context.openStore().exportTokens()
    inv.context.console.writeOut(rows.map { CSVWriter.line($0) + "\r\n" }.joined())
  }
}
