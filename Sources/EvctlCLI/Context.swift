import EvctlCore
import Foundation

/// What every command shares: the console, the global options, and the store, opened lazily.
public final class Context {
  /// The terminal.
  public let console: Console
  /// The parsed command line.
  public let arguments: ParsedArguments
  private var openedStore: Store?

  init(console: Console, arguments: ParsedArguments) {
    self.console = console
    self.arguments = arguments
  }

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

  /// A renderer for the requested format.
  public func renderer() -> Renderer {
    let format = requestedFormat ?? (console.isTTY ? .table : .tsv)
    return Renderer(
      format: format, showHeaders: !arguments.flag("no-headers"),
      color: useColor && (format == .table || format == .wide))
  }

  /// Opens the store (creating its folder and file on first use) acting as the logged-in operator.
  public func openStore(migrate: Bool = true) throws -> Store {
    if let openedStore { return openedStore }
    let path = databasePath
    let folder = (path as NSString).deletingLastPathComponent
    if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
      do {
        try FileManager.default.createDirectory(
          atPath: folder, withIntermediateDirectories: true)
      } catch {
        throw CLIError.io("cannot create folder '\(folder)': \(error.localizedDescription)")
      }
    }
    let store = try Store(.path(path), migrate: migrate)
    // An import killed half-way is finished (past its commit point) or discarded first.
    if migrate { try store.resumeInterruptedImports() }
    store.actor = try resolveActor(store)
    openedStore = store
    return store
  }

  /// Prints `kind/name verb` unless `-q`.
  public func confirm(_ kind: String, _ name: String, _ verb: String) {
    if !isQuiet { console.writeOut("\(kind)/\(name) \(verb)\n") }
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
    let body: JSONValue = ["db": .string(absolute(databasePath)), "secret": .string(secret)]
    let ok = FileManager.default.createFile(
      atPath: sessionFile, contents: Data((body.pretty + "\n").utf8),
      attributes: [.posixPermissions: 0o600])
    guard ok else { throw CLIError.io("cannot write '\(sessionFile)'") }
  }

  func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
  }

  private func resolveActor(_ store: Store) throws -> Actor {
    if let token = console.environment["EVCTL_TOKEN"], !token.isEmpty {
      guard let op = try store.operatorForCredential(token) else {
        throw CLIError.permission(
          "EVCTL_TOKEN is not valid: unknown, expired, or its operator is inactive",
          hint: "create a new one with 'evctl operator token create --name NAME'")
      }
      return .operator(op)
    }
    if let session = savedSession(), session.db == absolute(databasePath) {
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
}
