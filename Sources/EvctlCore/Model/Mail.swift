import Foundation

/// When an operator gets mail about alarms in their base group (CTEK's "e-mail on alarm").
public enum AlarmMail: String, CaseIterable, Sendable {
  /// No alarm mail.
  case off
  /// One mail per new alarm.
  case instant
  /// One digest of the active alarms a day, at the operator's chosen hour.
  case daily
}

/// What a queued mail is for.
public enum MailKind: String, Sendable {
  case invite, reset, alarm, digest
}

/// One mail in the outbox, with its delivery state.
public struct OutboxMail: Equatable, Sendable {
  public var id: Int
  public var operatorID: Int?
  public var recipient: String
  public var kind: MailKind
  public var subject: String
  public var body: String
  /// `queued` (waiting or retrying), `sent`, or `failed` (given up).
  public var state: String
  public var attempts: Int
  public var nextAttemptAt: Timestamp
  public var lastError: String?
  public var createdAt: Timestamp
  public var sentAt: Timestamp?

  /// The stable JSON form.
  public var json: JSONValue {
    [
      "id": .int(Int64(id)), "to": .string(recipient), "kind": .string(kind.rawValue),
      "subject": .string(subject), "state": .string(state), "attempts": .int(Int64(attempts)),
      "next_attempt_at": state == "queued" ? .from(nextAttemptAt) : .null,
      "last_error": .from(lastError), "created_at": .from(createdAt), "sent_at": .from(sentAt),
    ]
  }
}

/// How mail that fails is retried: the delay doubles from ``first`` up to one hour, and after
/// ``maxAttempts`` attempts the mail is given up (`failed`).
public struct MailRetryPolicy: Sendable {
  public var firstDelaySeconds: Int64
  public var maxAttempts: Int

  /// The default: 1 minute, doubling to an hour, 10 attempts (about 6 hours in all).
  public init(firstDelaySeconds: Int64 = 60, maxAttempts: Int = 10) {
    self.firstDelaySeconds = firstDelaySeconds
    self.maxAttempts = maxAttempts
  }

  /// The delay after the `attempts`-th failed attempt (1-based).
  public func delay(afterAttempt attempts: Int) -> Int64 {
    var delay = max(1, firstDelaySeconds)
    let cap = max(3600, delay)
    for _ in 1..<max(1, min(attempts, 30)) { delay = min(delay * 2, cap) }
    return delay
  }
}

/// An RFC 5322 message in plain UTF-8 text, as sent over SMTP.
public struct MailMessage: Equatable, Sendable {
  public var from: String
  public var to: String
  public var subject: String
  public var body: String
  public var date: Timestamp
  /// The unique part of the Message-ID, before `@`.
  public var messageID: String

  public init(from: String, to: String, subject: String, body: String, date: Timestamp, messageID: String) {
    self.from = from
    self.to = to
    self.subject = subject
    self.body = body
    self.date = date
    self.messageID = messageID
  }

  /// Whether `address` can go into a header and an SMTP envelope: no spaces, controls or
  /// angle brackets, one `@`.
  public static func isSafeAddress(_ address: String) -> Bool {
    let parts = address.split(separator: "@", omittingEmptySubsequences: false)
    return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && address.utf8.count <= 254
      && !address.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7F || "<>()[],;:\\\"".unicodeScalars.contains($0) }
  }

  /// The message with CRLF line ends: headers (the subject encoded per RFC 2047 unless plain
  /// ASCII; control characters never reach a header), a blank line, the body.
  public func rendered() -> [UInt8] {
    let domain = from.split(separator: "@").last.map(String.init) ?? "localhost"
    var headers = [
      "Date: \(Self.rfc5322Date(date))",
      "From: <\(from)>",
      "To: <\(to)>",
      "Subject: \(Self.encodedHeader(subject))",
      "Message-ID: <\(messageID)@\(domain)>",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "Auto-Submitted: auto-generated",
    ]
    headers.append("")
    var lines = headers
    let normalised = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    lines += normalised.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
  }

  /// A header value: printable ASCII as is, anything else as one or more `=?UTF-8?B?…?=` words.
  static func encodedHeader(_ text: String) -> String {
    let flat = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
    if flat.unicodeScalars.allSatisfy({ $0.isASCII }) && !flat.contains("=?") && flat.utf8.count <= 900 {
      return flat
    }
    var words: [String] = []
    var chunk: [UInt8] = []
    for character in flat {
      let bytes = Array(String(character).utf8)
      if chunk.count + bytes.count > 45 {
        words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
        chunk = []
      }
      chunk += bytes
    }
    if !chunk.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
    return words.joined(separator: "\r\n ")
  }

  /// `Thu, 03 Dec 2026 12:30:27 +0000`.
  static func rfc5322Date(_ time: Timestamp) -> String {
    let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    let iso = time.iso8601  // 2026-12-03T12:30:27.000Z
    let parts = iso.prefix(10).split(separator: "-").compactMap { Int($0) }
    let day = Int(time.seconds >= 0 ? time.seconds / 86_400 : (time.seconds - 86_399) / 86_400)
    let weekday = days[((day % 7) + 7) % 7]
    let clock = iso.dropFirst(11).prefix(8)
    guard parts.count == 3 else { return iso }
    return "\(weekday), \(parts[2] < 10 ? "0" : "")\(parts[2]) \(months[parts[1] - 1]) \(parts[0]) \(clock) +0000"
  }
}
