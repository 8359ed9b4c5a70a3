import EvctlCore
import EvctlServer
import Foundation

extension Commands {
  /// `serve`'s mail options (issue 16 item 4).
  static let serveMailArguments: [ArgumentSpec] = [
    .option("smtp", value: "url", help: "Send mail (alarms, invitations, password resets) through this server: smtps://HOST:465 or smtp://HOST:587 (STARTTLS); never put a password in it"),
    .option("mail-from", value: "address", help: "Sender address of serve's mail; needed with --smtp"),
    .option("smtp-user", value: "name", help: "User name to log in to the --smtp server"),
    .option("smtp-password-file", value: "file", help: "Read the --smtp password from FILE (first line)", completion: .file),
    .flag("smtp-password-stdin", help: "Read the --smtp password from standard input"),
    .option("smtp-ca", value: "file", help: "PEM CA certificates to trust for the --smtp server instead of the system's", completion: .file),
    .option("mail-retry", value: "duration", help: "First delay before mail that failed is retried, doubling up to 1h, 10 attempts; default 1m"),
  ]

  /// The SMTP settings from `serve --smtp …`, or `nil` without `--smtp`.
  static func smtpSettings(_ inv: Invocation) throws -> SMTPSettings? {
    let dependents = ["mail-from", "smtp-user", "smtp-password-file", "smtp-ca", "mail-retry"]
    guard let url = inv.arguments.option("smtp") else {
      if let given = dependents.first(where: { inv.arguments.option($0) != nil }) {
        throw UsageError(message: "--\(given) needs --smtp", commandPath: inv.arguments.path)
      }
      if inv.arguments.flag("smtp-password-stdin") {
        throw UsageError(message: "--smtp-password-stdin needs --smtp", commandPath: inv.arguments.path)
      }
      return nil
    }
    guard let from = inv.arguments.option("mail-from") else {
      throw UsageError(message: "--smtp needs --mail-from ADDRESS (the sender of serve's mail)",
                       commandPath: inv.arguments.path)
    }
    var password: String?
    if let file = inv.arguments.option("smtp-password-file") {
      guard !inv.arguments.flag("smtp-password-stdin") else {
        throw UsageError(message: "give --smtp-password-file or --smtp-password-stdin, not both",
                         commandPath: inv.arguments.path)
      }
      let path = inv.context.absolute(file)
      guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIError.io("cannot read --smtp-password-file '\(path)'")
      }
      password = firstLine(data)
      guard password?.isEmpty == false else { throw CLIError.data("--smtp-password-file '\(path)' is empty") }
    } else if inv.arguments.flag("smtp-password-stdin") {
      password = firstLine(Data(inv.context.console.readInput()))
      guard password?.isEmpty == false else { throw CLIError.data("no --smtp password on standard input") }
    }
    var retry = MailRetryPolicy()
    if let seconds = try inv.duration("mail-retry") {
      guard (1...3600).contains(seconds) else {
        throw UsageError(message: "--mail-retry must be 1s to 1h, not \(seconds) s", commandPath: inv.arguments.path)
      }
      retry.firstDelaySeconds = seconds
    }
    do {
      return try SMTPSettings(
        url: url, from: from, username: inv.arguments.option("smtp-user"), password: password,
        caFile: inv.arguments.option("smtp-ca").map { inv.context.absolute($0) }, retry: retry,
        zone: try inv.context.zone())
    } catch let error as SMTPSettingsError {
      throw UsageError(message: error.message, commandPath: inv.arguments.path)
    }
  }

  private static func firstLine(_ data: Data) -> String {
    let text = String(decoding: data, as: UTF8.self)
    return String(text.prefix(while: { $0 != "\n" && $0 != "\r" }))
  }
}
