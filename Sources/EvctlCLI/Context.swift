import EvctlCore
import Foundation

/// What every command shares: the console, the global options, and the store, opened lazily.
public final class Context {
  /// The terminal.
  public let console: Console
  /// The parsed command line.
  public let arguments: ParsedArguments
  /// What the command does to the store; decides whether a missing store may be created.
  public let effect: Effect
  private var openedStore: Store?
  private var cachedZone: LocalTime?

  init(console: Console, arguments: ParsedArguments, effect: Effect = .reads) {
    self.console = console
    self.arguments = arguments
    self.effect = effect
  }

  /// Whether `--dry-run` asks to write and send nothing.
  public var isDryRun: Bool { effect.writes && arguments.flag("dry-run") }

  /// The store file: `--db`, else `EVCTL_DB`, else the XDG default.
  public var databasePath: String {
    if let path = arguments.option("db") { return path }
    if let path = console.environment["EVCTL_DB"], !path.isEmpty { return path }
    return Store.defaultPath(environment: console.environment)
  }

  /// Whether `-q` asked for silence on success.
  public var isQuiet: Bool { arguments.flag("quiet") }

  /// The requested output format, if any (`--json` is `-o json`).
  public var requestedFormat: OutputFormat? {
    if arguments.flag("json") { return .json }
    return arguments.option("output").flatMap(OutputFormat.init(rawValue:))
  }

  /// Whether to colour output: on a terminal, `TERM` not dumb, `NO_COLOR` unset; `--color` decides.
  public var useColor: Bool {
    switch arguments.option("color") ?? "auto" {
    case "always": return true
    case "never": return false
    default:
      return console.isTTY && console.environment["NO_COLOR"] == nil
        && console.environment["TERM"] != "dumb"
    }
  }

  /// The zone for typed times, day boundaries and table times: `--tz`, else `EVCTL_TZ`, else UTC.
  public func zone() throws -> LocalTime {
    if let zone = cachedZone { return zone }
    var name = arguments.option("tz")
    if name == nil, let env = console.environment["EVCTL_TZ"], !env.isEmpty { name = env }
    do {
      let zone = try LocalTime(identifier: name)
      cachedZone = zone
      return zone
    } catch let error as StoreError {
      throw UsageError(message: "\(error)", commandPath: arguments.path)
    }
  }

  /// A renderer for the requested format.
  public func renderer() -> Renderer {
    let format = requestedFormat ?? (console.isTTY ? .table : .tsv)
    let columns = (console.environment["COLUMNS"].flatMap(Int.init) ?? console.terminalColumns()).map { max($0, 40) } ?? 80
    return Renderer(
      format: format, showHeaders: showHeaders(format),
      color: useColor && (format == .table || format == .wide), width: columns,
      people: PeopleTime(now: .now(), zone: (try? zone()) ?? (try! LocalTime(identifier: nil))))
  }

  /// Headers: on by default in table, wide and CSV, off in TSV unless `--headers`; `--no-headers` wins.
  func showHeaders(_ format: OutputFormat) -> Bool {
    if arguments.flag("no-headers") { return false }
    if format == .tsv { return arguments.flag("headers") }
    return true
  }

  /// Opens the store acting as the logged-in operator (with `identify`), or as the local
  /// administrator (`evctl login` itself).
  ///
  /// A missing store is created only by commands that create data, and only in an existing
  /// folder (the default XDG folder is made, mode 0700); the file is made mode 0600 so SQLite's
  /// WAL and shared-memory files follow it. Others fail with "no store at PATH". On PostgreSQL
  /// the database must exist; an empty one (no evctl tables) counts as a missing store. Under
  /// `--dry-run` everything runs in a transaction that ``finish()`` rolls back, and a missing
  /// store is stood in for by an empty one in memory.
  public func openStore(migrate: Bool = true, identify: Bool = true) throws -> Store {
    if let openedStore { return openedStore }
    let path = databasePath
    var store: Store
    if case .postgresql(let url) = databaseLocation {
      store = try Store(postgresURL: url, migrate: false)
      if try store.schemaVersion() == 0 {
        // An empty database is PostgreSQL's "no store yet": only commands that create data make one.
        if !effect.createsStore {
          throw CLIError.notFound(
            "no evctl store in \(databaseDisplayName) (the database has no evctl tables)",
            hint: "check --db and EVCTL_DB (see 'evctl db path'); 'evctl db migrate' creates the tables")
        }
        if isDryRun { store = try Store(.memory, migrate: true) }
      }
    } else if FileManager.default.fileExists(atPath: path) {
      store = try Store(.path(path), migrate: false)
    } else if !effect.createsStore {
      throw CLIError.notFound(
        "no store at \(path)",
        hint: "check --db and EVCTL_DB (see 'evctl db path'); 'evctl db migrate' creates a new store")
    } else if isDryRun {
      store = try Store(.memory, migrate: true)
    } else {
      try StoreFiles.create(path, isDefault: path == Store.defaultPath(environment: console.environment))
      store = try Store(.path(path), migrate: false)
    }
    // A new store gets its schema first; an existing one is migrated only for an administrator
    // of the whole network, once we know who is acting.
    let version = try store.schemaVersion()
    if migrate, version == 0 { try store.migrate() }
    store.actor = identify ? try resolveActor(store) : .local
    if migrate, version != 0 {
      if version < Schema.migrator.latestVersion {
        do {
          try store.requireStoreAdministrator(to: "migrate the store's schema")
        } catch {
          throw CLIError.permission(
            "the store's schema (version \(version)) is older than this evctl's (\(Schema.migrator.latestVersion))",
            hint: "an administrator must run 'evctl db migrate' first")
        }
      }
      try store.migrate()
    }
    // An import killed half-way is finished (past its commit point) or discarded first.
    if migrate, !isDryRun { try store.resumeInterruptedImports() }
    if isDryRun { try store.beginWrite() }
    openedStore = store
    return store
  }

  /// Ends the invocation: rolls back what a `--dry-run` wrote.
  func finish() {
    if isDryRun, let openedStore, openedStore.isInTransaction {
      try? openedStore.rollback()
    }
  }

  /// Prints `kind/name verb` unless `-q`; with `-o json`, `{"kind", "name", "result"}` unless the
  /// command already printed its JSON, so stdout holds one JSON document.
  public func confirm(_ kind: String, _ name: String, _ verb: String) {
    if isQuiet { return }
    let verb = verb + (isDryRun ? " (dry run)" : "")
    if requestedFormat == .json {
      guard !console.hasWrittenOut else { return }
      let body: JSONValue = ["kind": .string(kind), "name": .string(name), "result": .string(verb)]
      console.writeOut(body.pretty + "\n")
      return
    }
    console.writeOut("\(kind)/\(PrintableText.escaped(name)) \(verb)\n")
  }

  // MARK: Login sessions

  /// The file holding the login session: `$XDG_CONFIG_HOME/evctl/session.json`.
  public var sessionFile: String {
    if let xdg = console.environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
      return xdg + "/evctl/session.json"
    }
    return (console.environment["HOME"] ?? ".") + "/.config/evctl/session.json"
  }

  /// The saved login session for this store, if any.
  func savedSession() -> (db: String, secret: String)? {
    guard let data = FileManager.default.contents(atPath: sessionFile),
      let json = try? JSONValue.parse(Array(data)),
      let db = json["db"]?.stringValue, let secret = json["secret"]?.stringValue
    else { return nil }
    return (db, secret)
  }

  /// Saves a login session with mode 0600.
  func saveSession(secret: String) throws {
    let folder = (sessionFile as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(
      atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let body: JSONValue = ["db": .string(sessionKey()), "secret": .string(secret)]
    let ok = FileManager.default.createFile(
      atPath: sessionFile, contents: Data((body.pretty + "\n").utf8),
      attributes: [.posixPermissions: 0o600])
    guard ok else { throw CLIError.io("cannot write '\(sessionFile)'") }
  }

  /// What a saved session records as its store: the absolute path of a SQLite file, or a
  /// PostgreSQL URL with its password hidden (the session file never holds a database password).
  func sessionKey(_ path: String? = nil) -> String {
    let location = DatabaseLocation(path ?? databasePath)
    if case .sqlite(let file) = location { return absolute(file) }
    return location.description
  }

  func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
  }

  func resolveActor(_ store: Store, path: String? = nil) throws -> Actor {
    if let token = console.environment["EVCTL_TOKEN"], !token.isEmpty {
      guard let op = try store.operatorForCredential(token) else {
        throw CLIError.permission(
          "EVCTL_TOKEN is not valid: unknown, expired, or its operator is inactive",
          hint: "create a new one with 'evctl operator token create --name NAME'")
      }
      return .operator(op)
    }
    if let session = savedSession(), session.db == sessionKey(path) {
      guard let op = try store.operatorForCredential(session.secret) else {
        throw CLIError.permission(
          "your login session has expired", hint: "run 'evctl login EMAIL' or 'evctl logout'")
      }
      return .operator(op)
    }
    return .local
  }
}

/// Errors raised by the command layer itself.
public enum CLIError: Error, Equatable {
  case io(String)
  case permission(String, hint: String?)
  case data(String)
  case unavailable(String, hint: String?)
  /// Something named does not exist (exit 66).
  case notFound(String, hint: String?)
}
