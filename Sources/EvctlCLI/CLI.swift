import EvctlCore
import Glibc

/// The entry point: parses argv, runs the command, and maps every error to stderr and a status.
///
/// Nothing here calls `exit()`; ``run(_:console:)`` returns the status for `main` to use.
public enum CLI {
  /// Runs one invocation of evctl and returns its exit status.
  public static func run(_ argv: [String], console: Console) -> ExitCode {
    let code = execute(argv, console: console)
    guard let failure = console.writeFailure else { return code }
    // A reader that went away (`| head`) ends us quietly; any other write error is one line.
    if failure == EPIPE { return code }
    console.diagnose("error: write error: \(String(cString: strerror(failure)))")
    return .ioError
  }

  /// Runs and makes sure a failure has its `error:` line on stderr, whatever printed before.
  static func execute(_ argv: [String], console: Console) -> ExitCode {
    let code = dispatch(argv, console: console)
    // 128 + N is a command stopped by signal N (Ctrl-C in `top`): the user's choice, not an error.
    if code != .success, !code.isStoppedBySignal, !console.hasDiagnosedError, console.writeFailure == nil {
      console.diagnose("error: the command failed (exit status \(code.rawValue))")
    }
    return code
  }

  static func dispatch(_ argv: [String], console: Console) -> ExitCode {
    do {
      let (command, arguments) = try Parser.parse(argv, root: Commands.root)
      if arguments.flag("help") {
        console.writeOut(Help.page(arguments.path))
        return .success
      }
      if arguments.flag("version") {
        console.writeOut("evctl \(Commands.version)\n")
        return .success
      }
      let context = Context(
        console: console, arguments: arguments, effect: Commands.effect(of: arguments.path) ?? .reads)
      defer { context.finish() }
      _ = try context.zone()
      try context.requireSupportedBackend(arguments.path)
      do {
        try command.action?(Invocation(arguments: arguments, context: context))
      } catch let stop as DryRunStop {
        if !context.isQuiet { console.writeOut(stop.plan) }
      }
      if context.isDryRun, !context.isQuiet {
        console.diagnose("dry run: nothing was written or sent")
      }
      return .success
    } catch {
      return report(error, console: console)
    }
  }

  /// The one place errors become text on stderr and an exit status.
  static func report(_ error: any Error, console: Console) -> ExitCode {
    switch error {
    case let error as UsageError:
      console.diagnose("error: \(error.message)")
      console.diagnose("usage: \(Help.usage(error.commandPath))")
      console.diagnose("See '\(error.commandPath.joined(separator: " ")) --help'.")
      return .usage
    case let error as StoreError:
      return reportStore(error, console: console)
    case let error as SQLiteError where error.isBusy:
      if error.code == 517 {
        // SQLITE_BUSY_SNAPSHOT: a read turned into a write after another process committed.
        console.diagnose("error: database is locked: another process wrote to the store while this command was reading it")
        console.diagnose("hint: retry; this is a bug in evctl if it happens again (writes start with BEGIN IMMEDIATE)")
      } else {
        console.diagnose("error: database is locked: another process held the store's write lock for more than 5 s")
        console.diagnose("hint: a long write runs elsewhere (another evctl import or db command, or a sqlite3 shell with an open transaction); evctl serve holds it only for one batch; retry when it ends")
      }
      return .unavailable
    case let error as SQLiteError:
      console.diagnose("error: database: \(error.message)")
      return .failure
    case let error as BackendNotSupported:
      console.diagnose("error: \(error.message)")
      console.diagnose("hint: \(error.hint)")
      return .failure
    case let error as PostgresError:
      return reportPostgres(error, console: console)
    case let error as CLIError:
      switch error {
      case .io(let message):
        console.diagnose("error: \(message)")
        return .ioError
      case .data(let message):
        console.diagnose("error: \(message)")
        return .dataError
      case .permission(let message, let hint):
        console.diagnose("error: \(message)")
        if let hint { console.diagnose("hint: \(hint)") }
        return .noPermission
      case .unavailable(let message, let hint):
        console.diagnose("error: \(message)")
        if let hint { console.diagnose("hint: \(hint)") }
        return .unavailable
      case .notFound(let message, let hint):
        console.diagnose("error: \(message)")
        if let hint { console.diagnose("hint: \(hint)") }
        return .notFound
      }
    case is OutputClosed:
      return .success
    case let failure as CommandFailure:
      if let message = failure.message { console.diagnose("error: \(message)") }
      return failure.code
    case let code as ExitCode:
      return code
    default:
      console.diagnose("error: \(error)")
      return .failure
    }
  }

  /// Thrown by long outputs once stdout has failed, so they stop early.
  struct OutputClosed: Error {}

  /// PostgreSQL's errors: those a caller can act on by their StoreError's status (a refused
  /// login 77, no server 69, a constraint 1), the rest as a database failure.
  static func reportPostgres(_ error: PostgresError, console: Console) -> ExitCode {
    switch error.storeError {
    case .forbidden(let message)?:
      console.diagnose("error: \(message)")
      if error.isAuthenticationFailure {
        console.diagnose("hint: check the URL's user, PGUSER, PGPASSWORD and ~/.pgpass (or PGPASSFILE)")
      }
      return .noPermission
    case .unavailable(let message)?:
      console.diagnose("error: \(message)")
      console.diagnose("hint: check the URL's host and port (or PGHOST, PGPORT) and that the server runs")
      return .unavailable
    case let mapped?:
      return reportStore(mapped, console: console)
    case nil:
      console.diagnose("error: database: \(error.message)")
      if console.environment["EVCTL_DEBUG_SQL"] != nil, let sql = error.sql {
        console.diagnose("statement: \(PostgresConnection.oneLine(sql))")
      }
      return .failure
    }
  }

  static func reportStore(_ error: StoreError, console: Console) -> ExitCode {
    switch error {
    case .notFound(let kind, _):
      console.diagnose("error: \(error)")
      let noun = kind.split(separator: " ").first.map(String.init) ?? kind
      if Commands.root.subcommand(noun) != nil {
        console.diagnose("hint: run 'evctl \(noun) list' to see what exists")
      }
      return .notFound
    case .alreadyExists(_, _, let hint):
      console.diagnose("error: \(error)")
      if let hint { console.diagnose("hint: \(hint)") }
      return .failure
    case .invalid:
      console.diagnose("error: \(error)")
      return .dataError
    case .badInput(let lines):
      for line in lines { console.diagnose("error: \(line)") }
      console.diagnose("error: \(lines.count) bad row(s); nothing was written")
      return .dataError
    case .forbidden:
      console.diagnose("error: \(error)")
      return .noPermission
    case .conflict, .schemaTooNew:
      console.diagnose("error: \(error)")
      return .failure
    case .notSupported:
      console.diagnose("error: \(error)")
      return .failure
    case .unavailable:
      console.diagnose("error: \(error)")
      console.diagnose("hint: add --queue to deliver it when the station connects")
      return .unavailable
    }
  }
}

/// A command that ran and failed, with its one `error:` line and exit status.
public struct CommandFailure: Error {
  /// The text after `error: `; `nil` when the command already wrote its `error:` lines.
  public let message: String?
  /// The exit status.
  public let code: ExitCode

  /// A failure that ``CLI`` reports as `error: message`.
  public init(_ message: String, code: ExitCode) {
    self.message = message
    self.code = code
  }

  init(message: String?, code: ExitCode) {
    self.message = message
    self.code = code
  }

  /// A failure whose `error:` lines are already on stderr.
  static func alreadyReported(_ code: ExitCode) -> CommandFailure { CommandFailure(message: nil, code: code) }
}
