/// What a command does to the store and to stations.
///
/// It decides whether a missing store may be created, and which commands get `--dry-run`.
public enum Effect: Sendable, Equatable {
  /// Touches no store (help, completion scripts, `db path`).
  case none
  /// Reads the store, or asks stations without changing them; a missing store is an error.
  case reads
  /// Writes the store or changes stations; a missing store is an error; has `--dry-run`.
  case writes
  /// Creates data: may create a missing store (when its folder exists); has `--dry-run`.
  case creates
  /// `serve`: may create a missing store, runs until stopped.
  case serves

  /// Whether the command may create a missing store.
  public var createsStore: Bool { self == .creates || self == .serves }
  /// Whether the command writes, and so takes `--dry-run`.
  public var writes: Bool { self == .writes || self == .creates }
}

extension Commands {
  /// Every command with an action, by its path without `evctl`. A test fails for a command that
  /// is missing here, so a new command must say what it does.
  static let effects: [String: Effect] = [
    // Groups
    "group list": .reads, "group tree": .reads, "group show": .reads, "group create": .creates,
    "group rename": .writes, "group update": .writes, "group move": .writes, "group delete": .writes,
    "group capacity set": .writes, "group capacity show": .reads, "group capacity clear": .writes,
    "group load report": .writes, "group suspend": .writes, "group resume": .writes,
    "group allocation": .reads,
    // Stations
    "station list": .reads, "station show": .reads, "station create": .creates,
    "station update": .writes, "station passwd": .writes, "station delete": .writes,
    "station import": .creates, "station connector list": .reads, "station connector update": .writes,
    "station messages": .reads, "station events": .reads, "station timeline": .reads,
    "station reset": .writes, "station availability": .writes, "station unlock": .writes,
    "station start": .writes, "station stop": .writes, "station clear-cache": .writes,
    "station config get": .reads, "station config set": .writes, "station config show": .reads,
    "station data-transfer": .writes, "station trigger": .writes,
    "station firmware update": .writes, "station firmware signed-update": .writes,
    "station firmware status": .reads, "station diagnostics": .writes,
    "station diagnostics status": .reads, "station log": .writes,
    "station certificate list": .reads, "station certificate install": .writes,
    "station certificate delete": .writes, "station certificate signed": .writes,
    "station certificate issue": .writes, "station certificate renew": .writes,
    "station security upgrade": .writes,
    // Certificate authority and station CSRs
    "ca init": .writes, "ca import": .writes, "ca show": .reads,
    "certificate pending": .reads, "certificate approve": .writes, "certificate reject": .writes,
    // People
    "operator list": .reads, "operator show": .reads, "operator create": .creates,
    "operator update": .writes, "operator activate": .writes, "operator deactivate": .writes,
    "operator delete": .writes, "operator passwd": .writes, "operator token create": .writes,
    "operator invite": .writes,
    "user list": .reads, "user show": .reads, "user create": .creates, "user update": .writes,
    "user delete": .writes, "user grant": .writes, "user revoke": .writes,
    "user import": .creates, "user export": .reads,
    "token list": .reads, "token show": .reads, "token add": .creates, "token update": .writes,
    "token block": .writes, "token unblock": .writes, "token delete": .writes,
    "token import": .creates, "token export": .reads,
    // Authorization lists, reservations, profiles
    "local-list push": .writes, "local-list version": .reads, "local-list show": .reads,
    "reservation list": .reads, "reservation create": .writes, "reservation cancel": .writes,
    "profile list": .reads, "profile show": .reads, "profile create": .creates,
    "profile delete": .writes, "profile set": .writes, "profile clear": .writes,
    "profile composite": .reads, "profile installed": .reads,
    // Monitoring and reports
    "command list": .reads, "command show": .reads, "command cancel": .writes,
    "report sessions": .reads,
    "report energy": .reads, "status": .reads, "top": .reads, "event list": .reads, "alarm list": .reads, "node list": .reads,
    "alarm ack": .writes, "transaction list": .reads, "transaction show": .reads,
    "transaction close": .writes,
    // Sessions, the store, the service, help
    "login": .writes, "logout": .writes, "password-reset": .writes, "whoami": .reads,
    "db path": .none, "db migrate": .creates, "db check": .reads, "db backup": .reads, "db copy": .writes,
    // simulate plays stations over the network; --demo provisions demo-… rows in an existing store.
    "simulate": .reads, "serve": .serves, "completion": .none, "help": .none, "version": .none, "__complete": .reads,
  ]

  /// What the command at `path` (from the parser, starting with `evctl`) does.
  static func effect(of path: [String]) -> Effect? {
    effects[path.dropFirst().joined(separator: " ")]
  }

  /// The `--dry-run` flag every writing command takes.
  static let dryRun = ArgumentSpec.flag(
    "dry-run", short: "n", help: "Show what would happen; write and send nothing")

  /// `command` with `--dry-run` added to each writing command below it.
  static func addingDryRun(_ command: CommandSpec, path: [String] = []) -> CommandSpec {
    var command = command
    let here = path + [command.name]
    if command.action != nil, effect(of: here)?.writes == true,
      !command.arguments.contains(where: { $0.name == "dry-run" })
    {
      command.arguments.append(dryRun)
    }
    command.subcommands = command.subcommands.map { addingDryRun($0, path: here) }
    return command
  }
}
