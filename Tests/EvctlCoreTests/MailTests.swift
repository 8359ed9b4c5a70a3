import Testing

@testable import EvctlCore

@Suite struct MailMessageTests {
  func message(subject: String, body: String = "Hello\nworld\n") -> String {
    String(decoding: MailMessage(
      from: "evctl@example.com", to: "ann@example.com", subject: subject, body: body,
      date: Timestamp(parsing: "2026-12-03T12:30:27Z")!, messageID: "evctl.1").rendered(), as: UTF8.self)
  }

  @Test func headersThenBodyWithCRLFLineEnds() {
    let text = message(subject: "Your invitation to evctl")
    #expect(text.hasPrefix("Date: Thu, 03 Dec 2026 12:30:27 +0000\r\nFrom: <evctl@example.com>\r\nTo: <ann@example.com>\r\n"))
    #expect(text.contains("\r\nSubject: Your invitation to evctl\r\n"))
    #expect(text.contains("\r\nMessage-ID: <evctl.1@example.com>\r\n"))
    #expect(text.contains("Content-Type: text/plain; charset=utf-8\r\n"))
    #expect(text.hasSuffix("\r\n\r\nHello\r\nworld\r\n"))
    #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
  }

  @Test func stationTextNeverAddsAHeader() {
    let text = message(subject: "alarm at CP-1\r\nBcc: eve@example.com")
    let headers = text.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
    #expect(!headers.contains { $0.hasPrefix("Bcc:") })
    #expect(headers.contains("Subject: alarm at CP-1  Bcc: eve@example.com"))
  }

  @Test func nonASCIISubjectsAreEncodedWords() {
    let text = message(subject: "Störung an der Wallbox Grüner Weg 12 – bitte prüfen, dringend")
    let subject = text.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") }!
    #expect(subject.hasPrefix("Subject: =?UTF-8?B?"))
    #expect(subject.unicodeScalars.allSatisfy { $0.isASCII })
    #expect(text.contains("\r\n =?UTF-8?B?"))  // folded: no line longer than RFC 5322 allows
  }

  @Test func addressesThatCouldBreakAHeaderOrEnvelopeAreRefused() {
    #expect(MailMessage.isSafeAddress("ann@example.com"))
    for bad in ["ann@example.com>\r\nRCPT TO:<eve@x.io", "a b@x.io", "<a@x.io>", "a@", "@x.io", "a@b@c"] {
      #expect(!MailMessage.isSafeAddress(bad), "\(bad)")
    }
  }

  @Test func retriesDoubleUpToAnHour() {
    let policy = MailRetryPolicy(firstDelaySeconds: 60, maxAttempts: 10)
    #expect((1...8).map { policy.delay(afterAttempt: $0) } == [60, 120, 240, 480, 960, 1920, 3600, 3600])
    #expect(MailRetryPolicy(firstDelaySeconds: 1).delay(afterAttempt: 3) == 4)
  }
}

@Suite struct OperatorCodeTests {
  func code(in mail: OutboxMail) -> String {
    mail.body.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
      .first { $0.count == 23 && $0.filter { $0 == "-" }.count == 3 }!
  }

  @Test func anInvitationCodeWorksOnceAndOnlyFor48Hours() throws {
    let store = try seededStore()
    let start = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let invitation = try store.inviteOperator(email: "ann@x.io", name: "Ann", role: .basic, baseGroup: "HQ")
    #expect(!invitation.reminder && invitation.expiresAt == start.adding(seconds: 48 * 3600))
    let first = code(in: try store.dueMail(at: start)[0])
    #expect(try store.operatorNamed("ann@x.io").hasPassword == false)

    // Too weak: refused, and the code still works.
    #expect(throws: StoreError.self) { try store.redeemCode(first, password: "short") }
    let credential = try store.redeemCode(first, password: "annpass123")
    #expect(credential.operatorEmail == "ann@x.io")
    #expect(throws: StoreError.forbidden("code not accepted: unknown, already used or expired")) {
      try store.redeemCode(first, password: "annpass456")
    }

    try store.createOperator(email: "bob@x.io", name: "Bob", role: .basic, baseGroup: nil, password: "bobpass123")
    #expect(try store.requestPasswordReset(email: "bob@x.io"))
    #expect(try store.requestPasswordReset(email: "nobody@x.io") == false)
    let reset = try store.dueMail(at: start).first { $0.kind == .reset }!
    try store.inviteOperator(email: "cy@x.io", name: nil, role: .support, baseGroup: nil)
    let late = try store.dueMail(at: start).first { $0.recipient == "cy@x.io" }!
    store.clock = { start.adding(seconds: 3601) }
    #expect(throws: StoreError.self) { try store.redeemCode(self.code(in: reset), password: "bobpass456") }
    store.clock = { start.adding(seconds: 48 * 3600 + 1) }
    #expect(throws: StoreError.self) { try store.redeemCode(self.code(in: late), password: "cypass1234") }
  }

  @Test func onlyOperatorManagersInvite() throws {
    let store = try seededStore()
    store.actor = .operator(try store.createOperator(
      email: "basic@x.io", name: "B", role: .basic, baseGroup: "HQ", password: nil))
    #expect(throws: StoreError.self) {
      try store.inviteOperator(email: "ann@x.io", name: nil, role: .basic, baseGroup: "HQ")
    }
  }

  @Test func mailIsGivenUpAfterTheLastAttempt() throws {
    let store = try seededStore()
    let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!
    let id = try store.queueMail(to: "a@x.io", operatorID: nil, kind: .alarm, subject: "s", body: "b")
    let policy = MailRetryPolicy(firstDelaySeconds: 1, maxAttempts: 2)
    #expect(try store.markMailFailed(id, error: "refused", policy: policy, at: now)?.state == "queued")
    #expect(try store.dueMail(at: now).isEmpty)
    #expect(try store.dueMail(at: now.adding(seconds: 1)).count == 1)
    #expect(try store.markMailFailed(id, error: "refused", policy: policy, at: now)?.state == "failed")
    #expect(try store.dueMail(at: now.adding(seconds: 3600)).isEmpty)
  }
}
