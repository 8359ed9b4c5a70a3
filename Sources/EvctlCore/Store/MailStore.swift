/// The mail outbox: CLI commands and serve queue mail here; `serve --smtp` delivers it from a
/// thread of its own with its own connection, so the event loop never waits on a mail server.
extension Store {
  func makeOutboxMail(_ row: Row) -> OutboxMail {
    OutboxMail(
      id: row.int("id")!, operatorID: row.int("operator_id"), recipient: row.string("recipient") ?? "",
      kind: MailKind(rawValue: row.string("kind") ?? "") ?? .alarm, subject: row.string("subject") ?? "",
      body: row.string("body") ?? "", state: row.string("state") ?? "queued",
      attempts: row.int("attempts") ?? 0,
      nextAttemptAt: row.date("next_attempt_at") ?? Timestamp(milliseconds: 0),
      lastError: row.string("last_error"), createdAt: row.date("created_at") ?? Timestamp(milliseconds: 0),
      sentAt: row.date("sent_at"))
  }

  /// Queues one mail for delivery as soon as serve's mailer gets to it.
  @discardableResult
  public func queueMail(to recipient: String, operatorID: Int?, kind: MailKind, subject: String,
                        body: String) throws -> Int {
    let stamp = now().iso8601
    let newID = try db.insertReturningID(
      """
      INSERT INTO mail_outbox (operator_id, recipient, kind, subject, body, next_attempt_at, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      """, [operatorID, recipient, kind.rawValue, subject, body, stamp, stamp])
    return newID
  }

  /// Queued mail whose next attempt is due, oldest first.
  public func dueMail(at time: Timestamp, limit: Int = 20) throws -> [OutboxMail] {
    try db.query(
      "SELECT * FROM mail_outbox WHERE state = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
      [time.iso8601, limit]
    ).map(makeOutboxMail)
  }

  /// Records a delivered mail.
  public func markMailSent(_ id: Int, at time: Timestamp) throws {
    try db.run(
      "UPDATE mail_outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ?",
      [time.iso8601, id])
  }

  /// Records a failed attempt: retried after the policy's delay, or given up after its last
  /// attempt (`failed`).
  ///
  /// - Returns: the mail's new state.
  @discardableResult
  public func markMailFailed(_ id: Int, error: String, policy: MailRetryPolicy, at time: Timestamp) throws -> OutboxMail? {
    guard let row = try db.queryOne("SELECT attempts FROM mail_outbox WHERE id = ?", [id]) else { return nil }
    let attempts = (row.int("attempts") ?? 0) + 1
    let giveUp = attempts >= policy.maxAttempts
    try db.run(
      "UPDATE mail_outbox SET attempts = ?, last_error = ?, state = ?, next_attempt_at = ? WHERE id = ?",
      [attempts, String(error.prefix(500)), giveUp ? "failed" : "queued",
       time.adding(seconds: policy.delay(afterAttempt: attempts)).iso8601, id])
    return try db.queryOne("SELECT * FROM mail_outbox WHERE id = ?", [id]).map(makeOutboxMail)
  }

  /// The newest mail to an operator the actor may see, newest first (`operator show`).
  public func mailOfOperator(_ email: String, limit: Int = 5) throws -> [OutboxMail] {
    let target = try operatorNamed(email)
    return try db.query(
      "SELECT * FROM mail_outbox WHERE operator_id = ? ORDER BY id DESC LIMIT ?", [target.id, limit]
    ).map(makeOutboxMail)
  }

  /// Deletes sent and given-up mail older than `before`, a bounded chunk at a time.
  @discardableResult
  public func pruneMail(before time: Timestamp, limit: Int = 1000) throws -> Int {
    try db.run(
      """
      DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox WHERE state <> 'queued'
        AND created_at < ? ORDER BY id LIMIT ?)
      """, [time.iso8601, limit])
  }

  // MARK: Alarm mail

  /// The active operators who chose `mode` and whose base group holds `groupID` (an alarm of
  /// no station or an ungrouped station: only operators of the whole network).
  func alarmMailRecipients(mode: AlarmMail, groupID: Int?, tree: GroupTree) throws -> [Row] {
    try db.query(
      "SELECT * FROM operators WHERE active AND alarm_mail = ? ORDER BY id", [mode.rawValue]
    ).filter { row in
      guard let base = row.int("base_group_id") else { return true }
      return tree.contains(groupID, under: base)
    }
  }

  /// Queues one mail per operator with instant alarm mail whose base group holds the alarm's
  /// station; called by serve for each new alarm, inside its batch.
  ///
  /// - Returns: how many mails were queued.
  @discardableResult
  public func queueAlarmMail(_ alarm: Alarm) throws -> Int {
    let tree = try groupTree()
    let groupID = try alarm.stationID.flatMap {
      try db.queryOne("SELECT group_id FROM stations WHERE id = ?", [$0])?.int("group_id")
    }
    let recipients = try alarmMailRecipients(mode: .instant, groupID: groupID, tree: tree)
    let text = MailTexts.alarm(alarm, group: groupID.flatMap { tree.byID[$0]?.path })
    for row in recipients {
      try queueMail(to: row.string("email")!, operatorID: row.int("id"), kind: .alarm,
                    subject: text.subject, body: text.body)
    }
    return recipients.count
  }

  /// Queues the daily digest for every operator with daily alarm mail whose hour has come
  /// today (in `zone`) and who has not had today's yet. An operator whose base group has no
  /// active alarm gets no mail that day (decision: no empty digests).
  ///
  /// - Returns: how many digests were queued.
  @discardableResult
  public func queueDueDigests(at time: Timestamp, zone: LocalTime) throws -> Int {
    let today = zone.day(time)
    let hour = (Int((time.seconds + Int64(zone.offset(at: time))) % 86_400) + 86_400) % 86_400 / 3600
    let due = try db.query(
      """
      SELECT * FROM operators WHERE active AND alarm_mail = 'daily' AND alarm_mail_hour <= ?
        AND (last_digest_on IS NULL OR last_digest_on < ?) ORDER BY id
      """, [hour, today])
    guard !due.isEmpty else { return 0 }
    let tree = try groupTree()
    let active = try db.query(
      """
      SELECT a.*, s.group_id FROM alarms a LEFT JOIN stations s ON s.id = a.station_id
      WHERE a.cleared_at IS NULL ORDER BY a.raised_at, a.id
      """)
    var queued = 0
    for row in due {
      let base = row.int("base_group_id")
      let mine = active.filter { alarm in
        guard let base else { return true }
        return alarm.int("station_id") != nil && tree.contains(alarm.int("group_id"), under: base)
      }.map(makeAlarm)
      if !mine.isEmpty {
        let text = MailTexts.digest(mine, group: base.flatMap { tree.byID[$0]?.path }, day: today)
        try queueMail(to: row.string("email")!, operatorID: row.int("id"), kind: .digest,
                      subject: text.subject, body: text.body)
        queued += 1
      }
      try db.run("UPDATE operators SET last_digest_on = ? WHERE id = ?", [today, row.int("id")])
    }
    return queued
  }

  /// Sets an operator's alarm mail (self, or an admin for operators in their domain).
  @discardableResult
  public func setAlarmMail(_ email: String, mode: AlarmMail?, hour: Int?) throws -> Operator {
    if let hour, !(0...23).contains(hour) {
      throw StoreError.invalid("--alarm-mail-hour must be 0 to 23, not \(hour)")
    }
    return try db.transaction {
      let target = try operatorNamed(email)
      if case .operator(let me) = actor, me.id == target.id {
      } else {
        try require(.manageOperators)
        try requireDomain(target.baseGroupID, what: "operator '\(target.email)'")
      }
      try db.run(
        """
        UPDATE operators SET alarm_mail = coalesce(?, alarm_mail), alarm_mail_hour = coalesce(?, alarm_mail_hour),
          updated_at = ? WHERE id = ?
        """, [mode?.rawValue, hour, now().iso8601, target.id])
      return try operatorNamed(target.email)
    }
  }
}
