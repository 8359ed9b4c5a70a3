import EvctlCore

/// Where and how `serve --smtp` sends mail.
public struct SMTPSettings: Sendable {
  /// `smtp://host[:port]` (STARTTLS when the server offers it, required when a password is
  /// given) or `smtps://host[:port]` (TLS from the start).
  public var url: String
  /// The envelope and header sender (`--mail-from`).
  public var from: String
  public var username: String?
  /// Read from a file or stdin, never from argv.
  public var password: String?
  /// PEM CA certificates to trust instead of the system's (`--smtp-ca`).
  public var caFile: String?
  public var retry: MailRetryPolicy
  /// The zone whose wall clock the daily digests' hours are in (`--tz`).
  public var zone: LocalTime
  /// How long one delivery may take before it counts as failed.
  public var timeoutSeconds: Int = 30

  /// Settings after checking the URL and the sender.
  ///
  /// - Throws: ``SMTPSettingsError`` naming what is wrong.
  public init(url: String, from: String, username: String?, password: String?, caFile: String?,
              retry: MailRetryPolicy = MailRetryPolicy(), zone: LocalTime) throws {
    let lower = url.lowercased()
    guard lower.hasPrefix("smtp://") || lower.hasPrefix("smtps://") else {
      throw SMTPSettingsError(message: "invalid --smtp '\(url)': expected smtp://HOST[:PORT] or smtps://HOST[:PORT]")
    }
    let rest = url.drop(while: { $0 != "/" }).dropFirst(2)
    let authority = rest.prefix(while: { $0 != "/" })
    guard !authority.isEmpty, !authority.contains(where: { $0 == " " || $0.isNewline }) else {
      throw SMTPSettingsError(message: "invalid --smtp '\(url)': no host")
    }
    if let userInfo = authority.split(separator: "@", maxSplits: 1).dropLast().first, userInfo.contains(":") {
      throw SMTPSettingsError(
        message: "--smtp must not carry a password (it would show in the process list): use --smtp-password-file or --smtp-password-stdin")
    }
    guard MailMessage.isSafeAddress(from) else {
      throw SMTPSettingsError(message: "invalid --mail-from '\(from)': expected an address such as evctl@example.com")
    }
    self.url = url
    self.from = from
    self.username = username
    self.password = password
    self.caFile = caFile
    self.retry = retry
    self.zone = zone
  }

  /// The URL without any user part, for logs and `operator show`.
  public var displayURL: String {
    guard let scheme = url.range(of: "://") else { return url }
    let rest = url[scheme.upperBound...]
    guard let at = rest.firstIndex(of: "@"), !rest[..<at].contains("/") else { return url }
    return String(url[..<scheme.upperBound]) + rest[rest.index(after: at)...]
  }
}

/// A bad `--smtp` or `--mail-from`.
public struct SMTPSettingsError: Error, CustomStringConvertible, Sendable {
  public var message: String
  public var description: String { message }
}
