/// The process exit status.
///
/// Values follow sysexits(3) where one fits; the table is in `evctl help exit-codes` and the man
/// page, and every code is a promise to scripts.
public struct ExitCode: Error, RawRepresentable, Hashable, Sendable {
  public var rawValue: Int32
  public init(rawValue: Int32) { self.rawValue = rawValue }

  /// Everything worked, including "nothing to do".
  public static let success = ExitCode(rawValue: 0)
  /// The command ran and failed (catch-all, conflicts, duplicates).
  public static let failure = ExitCode(rawValue: 1)
  /// The command line was wrong: unknown flag, missing argument, bad value.
  public static let usage = ExitCode(rawValue: 64)
  /// Input data was malformed: a bad CSV row, an invalid value.
  public static let dataError = ExitCode(rawValue: 65)
  /// The named object does not exist.
  public static let notFound = ExitCode(rawValue: 66)
  /// The database is locked, or the station is not connected.
  public static let unavailable = ExitCode(rawValue: 69)
  /// A bug in evctl.
  public static let software = ExitCode(rawValue: 70)
  /// Reading or writing a file or socket failed.
  public static let ioError = ExitCode(rawValue: 74)
  /// The station did not answer in time; the outcome is unknown.
  public static let timeout = ExitCode(rawValue: 75)
  /// Permission denied.
  public static let noPermission = ExitCode(rawValue: 77)

  /// The status of a command that a signal stopped (the shell's 128 + the signal's number).
  public static func stopped(by signal: Int32) -> ExitCode { ExitCode(rawValue: 128 + signal) }

  /// Whether this is 128 + a signal: a command the user stopped, which prints no `error:` line.
  public var isStoppedBySignal: Bool { rawValue > 128 && rawValue < 128 + 65 }

  /// The table shown by `evctl help exit-codes` and in the man page.
  public static let table: [(code: Int32, meaning: String)] = [
    (0, "Success, including nothing to do"),
    (1, "The command failed: a duplicate, a conflict, a non-empty group"),
    (64, "Usage error: unknown command or option, missing or invalid argument"),
    (65, "Bad input data: a malformed CSV row or value"),
    (66, "The named object does not exist, or there is no store at the path"),
    (69, "Unavailable: the database is locked or the station is offline"),
    (70, "Internal error in evctl"),
    (74, "Reading or writing a file failed"),
    (75, "Timeout: the station did not answer in time; the outcome is unknown"),
    (77, "Permission denied: outside your role or base group, or not logged in"),
    (130, "Stopped by Ctrl-C in top (128 + the signal: 143 for SIGTERM); no error line is printed"),
  ]
}
