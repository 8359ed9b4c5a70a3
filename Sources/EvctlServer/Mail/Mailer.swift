import EvctlCore
import Foundation

/// Delivers the outbox over SMTP from a thread of its own, with its own store connection, so
/// `serve`'s event loop never waits on a mail server; it also queues the daily alarm digests.
///
/// Every second it sends what is due (a failure is retried per ``SMTPSettings/retry`` and
/// shown in `operator show`); every 10 seconds it queues the digests whose hour has come.
public final class Mailer: @unchecked Sendable {
  private let settings: SMTPSettings
  private let path: String
  private let log: @Sendable (String) -> Void
  private let condition = NSCondition()
  private var stopping = false
  private var thread: Thread?
  private var finished = false

  /// A mailer for the store at `path`; `log` gets one line per failure and per given-up mail.
  public init(settings: SMTPSettings, storePath: String, log: @escaping @Sendable (String) -> Void) {
    self.settings = settings
    self.path = storePath
    self.log = log
  }

  /// Starts the thread.
  public func start() {
    SMTPClient.initialise()
    let thread = Thread { [self] in run() }
    thread.name = "evctl-mail"
    self.thread = thread
    thread.start()
  }

  /// Asks the thread to stop and waits up to `seconds` for a delivery in progress; serve then
  /// exits without it (that mail stays queued and is sent again by the next serve).
  public func stop(waiting seconds: Double = 5) {
    let deadline = Date().addingTimeInterval(seconds)
    condition.lock()
    stopping = true
    condition.broadcast()
    while thread != nil && !finished && Date() < deadline { _ = condition.wait(until: deadline) }
    condition.unlock()
  }

  private func run() {
    defer {
      condition.lock()
      finished = true
      condition.broadcast()
      condition.unlock()
    }
    let store: Store
    do {
      store = try Store(.path(path), busyTimeout: 5_000, migrate: false)
    } catch {
      log("error: mail: cannot open the store: \(error); no mail is sent")
      return
    }
    var lastDigests = Timestamp(milliseconds: 0)
    var lastPrune = Timestamp(milliseconds: 0)
    while !shouldStop(waiting: 1.0) {
      let now = Timestamp.now()
      do {
        if now.milliseconds - lastDigests.milliseconds >= 10_000 {
          lastDigests = now
          try store.atomically { _ = try store.queueDueDigests(at: now, zone: settings.zone) }
        }
        if now.milliseconds - lastPrune.milliseconds >= 3_600_000 {
          lastPrune = now
          try store.pruneMail(before: now.adding(seconds: -30 * 86_400))
        }
        for mail in try store.dueMail(at: now) {
          if shouldStop(waiting: 0) { break }
          deliver(mail, store: store)
        }
      } catch {
        log("warning: mail: \(error)")
      }
    }
  }

  private func deliver(_ mail: OutboxMail, store: Store) {
    let message = MailMessage(
      from: settings.from, to: mail.recipient, subject: mail.subject, body: mail.body,
      date: .now(), messageID: "evctl.\(mail.id).\(mail.createdAt.milliseconds)")
    do {
      guard MailMessage.isSafeAddress(mail.recipient) else {
        throw SMTPFailure(message: "'\(PrintableText.escaped(mail.recipient))' is not an address mail can go to")
      }
      try SMTPClient.send(message, settings: settings)
      try store.markMailSent(mail.id, at: .now())
      log("info: mail: sent \(mail.kind.rawValue) mail \(mail.id) to \(mail.recipient)")
    } catch {
      do {
        let after = try store.markMailFailed(mail.id, error: "\(error)", policy: settings.retry, at: .now())
        if after?.state == "failed" {
          log("error: mail: gave up \(mail.kind.rawValue) mail \(mail.id) to \(mail.recipient) after \(after?.attempts ?? 0) attempts: \(error)")
        } else {
          log("warning: mail: \(mail.kind.rawValue) mail \(mail.id) to \(mail.recipient) not sent (attempt \(after?.attempts ?? 0)), retrying at \(after?.nextAttemptAt.iso8601 ?? "-"): \(error)")
        }
      } catch let storeError {
        log("warning: mail: cannot record the failure of mail \(mail.id): \(storeError)")
      }
    }
  }

  private func shouldStop(waiting seconds: Double) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    if !stopping && seconds > 0 { _ = condition.wait(until: Date().addingTimeInterval(seconds)) }
    return stopping
  }
}
