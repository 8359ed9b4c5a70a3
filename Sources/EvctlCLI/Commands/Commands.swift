import EvctlCore

/// The command tree: one value drives parsing, help, completions and the man page.
public enum Commands {
  /// The version of evctl.
  public static let version = "0.1.0"

  /// Options every command accepts.
  static let globalOptions: [ArgumentSpec] = [
    .option("db", value: "path", help: "Store file (or postgresql:// URL); default $EVCTL_DB, else $XDG_DATA_HOME/evctl/evctl.db",
            completion: .file),
    .option("output", short: "o", value: "format",
            help: "Output format; default: table on a terminal, tsv when piped",
            choices: OutputFormat.allCases.map(\.rawValue)),
    .flag("json", help: "Same as -o json"),
    .flag("no-headers", help: "Omit the header row in table and csv output"),
    .flag("headers", help: "Print a header row in tsv output (tsv columns are the -o wide columns, in order)"),
    .flag("quiet", short: "q", help: "Print nothing on success"),
    .option("color", value: "when", help: "Colour output", choices: ["auto", "always", "never"]),
    .option("tz", value: "zone",
            help: "Time zone for times you type and tables show, e.g. Europe/Amsterdam; default $EVCTL_TZ, else UTC"),
    .flag("help", short: "h", help: "Show help information"),
    .flag("version", help: "Show the version"),
  ]

  /// The root of the tree.
  public static let root: CommandSpec = addingDryRun(CommandSpec(
    "evctl", abstract: "Run an EV charging network from the shell",
    discussion: """
      evctl administers groups, stations, operators, charging users and RFID tokens in one SQLite
      store, and 'evctl serve' is the OCPP 1.6J central system that stations connect to.
      """,
    arguments: globalOptions,
    subcommands: [
      group, station, operatorCommand, user, token, localList, reservation, profile, command,
      report, status, top, event, alarm, node, transaction, login, logout, passwordReset, whoami, db, ca, certificate, serve, simulate,
      completion, helpCommand, versionCommand, complete,
    ],
    examples: [
      .init("Create a site and a station in it", "evctl group create 'HQ' --kind site && evctl station create CP-001 --name 'Gate' --group HQ"),
      .init("Identities of all stations, for scripts", "evctl station list -o json | jq -r '.[].identity'"),
    ]))

  /// The command at `path` (a path from `parse`, starting with `evctl`); the root if unknown.
  public static func resolve(_ path: [String]) -> CommandSpec {
    var command = root
    for word in path.dropFirst() {
      guard let next = command.subcommand(word) else { break }
      command = next
    }
    return command
  }

  static let versionCommand: CommandSpec = CommandSpec(
    "version", abstract: "Show the versions of evctl, SQLite and the store schema",
    examples: [.init("As JSON, for bug reports", "evctl version -o json")]
  ) { inv in
    try inv.supportsOnly([.table, .wide, .json])
    let context = inv.context
    let store = try? context.openStore()
    let schema = try store?.schemaVersion()
    let info: JSONValue = [
      "version": .string(version), "sqlite_version": .string(Store.engineVersion),
      "schema_version": .from(schema), "schema_supported": .int(Int64(Schema.migrator.latestVersion)),
      "database": .string(context.databaseDisplayName),
    ]
    if context.requestedFormat == .json {
      context.console.writeOut(info.pretty + "\n")
    } else {
      context.console.writeOut(
        "evctl \(version)\nsqlite \(Store.engineVersion)\nschema \(schema.map(String.init) ?? "unknown") (supported \(Schema.migrator.latestVersion))\ndatabase \(context.databaseDisplayName)\n")
    }
  }
}

extension Invocation {
  /// A required positional argument (the parser has checked it is there).
  func required(_ name: String) -> String { arguments.positional(name) ?? "" }

  /// A positional id that must be a number; `kind` names it in the usage error.
  func id(_ name: String, kind: String) throws -> Int {
    guard let value = Int(required(name)) else {
      throw UsageError(message: "\(kind) ids are numbers", commandPath: arguments.path)
    }
    return value
  }

  /// A number option, or a data error naming the option.
  func int(_ name: String) throws -> Int? {
    guard let text = arguments.option(name) else { return nil }
    guard let value = Int(text) else {
      throw UsageError(message: "invalid value '\(text)' for '--\(name)': expected a whole number",
                       commandPath: arguments.path)
    }
    return value
  }

  /// A decimal option, or a usage error naming the option.
  func double(_ name: String) throws -> Double? {
    guard let text = arguments.option(name) else { return nil }
    guard let value = Double(text) else {
      throw UsageError(message: "invalid value '\(text)' for '--\(name)': expected a number",
                       commandPath: arguments.path)
    }
    return value
  }

  /// A duration option such as `90d`, `12h`, `1h30m` or `30m`, in seconds.
  func duration(_ name: String) throws -> Int64? {
    guard let text = arguments.option(name) else { return nil }
    switch DurationText.parse(text) {
    case .success(let seconds): return seconds
    case .failure(.tooLong):
      throw UsageError(
        message: "invalid duration '\(text)' for '--\(name)': too long (at most 1000 years)",
        commandPath: arguments.path)
    case .failure(.malformed):
      throw UsageError(
        message: "invalid duration '\(text)' for '--\(name)': use a number of seconds, or 30m, 12h, 1h30m, 90d, 2w",
        commandPath: arguments.path)
    }
  }

  /// A duration option in whole seconds for the wire (a timeout, an interval): `30`, `30s`,
  /// `5m` or `1h30m`, in the one duration grammar of ``duration(_:)``.
  func seconds(_ name: String) throws -> Int? {
    try duration(name).map { Int($0) }
  }

  /// A time option in the one time grammar (``TimeInput``): ISO 8601, a date, a wall time,
  /// `now`/`today`/`yesterday`/`tomorrow`, or a duration that points `direction` unless signed.
  func time(_ name: String, pointing direction: TimeDirection, now: Timestamp = .now()) throws -> Timestamp? {
    guard let text = arguments.option(name) else { return nil }
    switch TimeInput.parse(text, pointing: direction, now: now, zone: try context.zone()) {
    case .success(let time): return time
    case .failure(let error):
      let example = direction == .past ? "1h (an hour ago)" : "12h (12 hours from now)"
      throw UsageError(
        message: "invalid time '\(text)' for '--\(name)': \(error.reason); use 2026-12-31, 2026-12-31T18:00:00Z, 18:00, now, yesterday, \(example), +2h or -2h",
        commandPath: arguments.path)
    }
  }

  /// Refuses an explicit `-o` this command cannot give (exit 64), naming the ones it can.
  func supportsOnly(_ formats: [OutputFormat]) throws {
    guard let format = context.requestedFormat, !formats.contains(format) else { return }
    throw UsageError(
      message: "'\(arguments.path.joined(separator: " "))' cannot print -o \(format.rawValue); use -o "
        + formats.map(\.rawValue).joined(separator: ", -o "),
      commandPath: arguments.path)
  }

  /// Reads a secret: from stdin with `--password-stdin`, else from the terminal when asked to.
  func password(prompt: String, ask: Bool) throws -> String? {
    if arguments.flag("password-stdin") {
      var text = String(decoding: context.console.readInput(), as: UTF8.self)
      while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
      guard !text.isEmpty else { throw CLIError.data("no password on standard input") }
      return text
    }
    guard ask else { return nil }
    guard let secret = context.console.readSecret(prompt: prompt) else {
      throw UsageError(
        message: "no terminal to ask for a password: pass --password-stdin and pipe it in",
        commandPath: arguments.path)
    }
    return secret
  }
}

extension ArgumentSpec {
  /// `--yes`, for commands that ask before destroying something.
  static let yes = ArgumentSpec.flag("yes", short: "y", help: "Do it without asking first")

  static let passwordStdin = ArgumentSpec.flag(
    "password-stdin", help: "Read the password from standard input")
}
