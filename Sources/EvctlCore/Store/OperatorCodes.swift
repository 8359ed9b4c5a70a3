/// One-time codes sent by mail: invitations (Ensto's invitation and reminder) and password
/// resets. Only a digest of each code is stored; a code works once, until it expires, and a new
/// code of the same purpose replaces the operator's earlier ones.
extension Store {
  /// How long an invitation code works.
  public static let invitationLifetimeSeconds: Int64 = 48 * 3600
  /// How long a password-reset code works (decision: shorter than an invitation, since it
  /// replaces a working password).
  public static let resetLifetimeSeconds: Int64 = 3600

  /// What ``inviteOperator(email:name:role:baseGroup:)`` did.
  public struct Invitation: Sendable {
    public var operatorEmail: String
    /// Whether the operator existed already (without a password): the mail is a reminder.
    public var reminder: Bool
    public var expiresAt: Timestamp
    public var mailID: Int
  }

  /// Invites an operator: creates them without a password (or, for an invited operator who has
  /// not set one yet, sends a reminder with a new code) and queues a mail with a one-time code.
  @discardableResult
  public func inviteOperator(email: String, name: String?, role: Role?, baseGroup: String?) throws -> Invitation {
    try require(.manageOperators)
    guard MailMessage.isSafeAddress(email) else {
      throw StoreError.invalid("invalid email address '\(email)': mail cannot be sent to it")
    }
    return try db.transaction {
      var reminder = false
      let target: Operator
      if let existing = try? operatorNamed(email) {
        guard !existing.hasPassword else {
          throw StoreError.conflict(
            "operator '\(existing.email)' has a password already; 'evctl password-reset \(existing.email)' sends them a code")
        }
        guard existing.active else {
          throw StoreError.conflict("operator '\(existing.email)' is deactivated; activate them first")
        }
        if role != nil || baseGroup != nil || name != nil {
          try updateOperator(existing.email, name: name, role: role, baseGroup: baseGroup)
        }
        target = try operatorNamed(existing.email)
        reminder = true
      } else {
        guard let role else {
          throw StoreError.invalid("--role is needed to invite a new operator")
        }
        target = try createOperator(
          email: email, name: name ?? "", role: role, baseGroup: baseGroup, password: nil)
      }
      let (code, expires) = try issueCode(operatorID: target.id, purpose: "invite",
                                          lifetime: Store.invitationLifetimeSeconds)
      let text = MailTexts.invitation(
        email: target.email, role: target.role, baseGroup: target.baseGroupPath, code: code,
        validHours: Int(Store.invitationLifetimeSeconds / 3600), reminder: reminder)
      let mail = try queueMail(to: target.email, operatorID: target.id, kind: .invite,
                               subject: text.subject, body: text.body)
      return Invitation(operatorEmail: target.email, reminder: reminder, expiresAt: expires, mailID: mail)
    }
  }

  /// Queues a password-reset code for an active operator. Unknown or inactive emails get no
  /// mail and no error, so the answer does not tell which emails exist.
  ///
  /// - Returns: whether a mail was queued (for tests; the CLI does not say).
  @discardableResult
  public func requestPasswordReset(email: String) throws -> Bool {
    try db.transaction {
      guard let row = try db.queryOne("SELECT * FROM operators WHERE email = ?", [email]),
        row.bool("active"), let id = row.int("id"), let address = row.string("email"),
        MailMessage.isSafeAddress(address)
      else { return false }
      let (code, _) = try issueCode(operatorID: id, purpose: "reset", lifetime: Store.resetLifetimeSeconds)
      let text = MailTexts.passwordReset(
        email: address, code: code, validHours: Int(Store.resetLifetimeSeconds / 3600))
      try queueMail(to: address, operatorID: id, kind: .reset, subject: text.subject, body: text.body)
      return true
    }
  }

  /// Uses a one-time code: sets the operator's password and opens a login session.
  ///
  /// - Throws: ``StoreError/forbidden(_:)`` with one message for an unknown, used or expired
  ///   code; ``StoreError/invalid(_:)`` for a weak password (the code then stays usable).
  public func redeemCode(_ code: String, password: String) throws -> IssuedCredential {
    let denied = StoreError.forbidden("code not accepted: unknown, already used or expired")
    let digest = PasswordHash.secretDigest(Self.normalisedCode(code))
    return try db.transaction {
      guard
        let row = try db.queryOne(
          """
          SELECT c.id, c.operator_id, o.email FROM operator_codes c JOIN operators o ON o.id = c.operator_id
          WHERE c.code_hash = ? AND c.used_at IS NULL AND c.expires_at > ? AND o.active
          """, [digest, now().iso8601]),
        let codeID = row.int("id"), let operatorID = row.int("operator_id"), let email = row.string("email")
      else { throw denied }
      try Operator.validate(password: password)
      let hash = PasswordHash.make(Array(password.utf8), iterations: PasswordHash.operatorIterations)
      let stamp = now().iso8601
      try db.run("UPDATE operator_codes SET used_at = ? WHERE id = ?", [stamp, codeID])
      try db.run(
        "UPDATE operators SET password_hash = ?, updated_at = ? WHERE id = ?", [hash, stamp, operatorID])
      // A reset ends the sessions opened with the old password.
      try db.run("DELETE FROM operator_credentials WHERE operator_id = ? AND kind = 'session'", [operatorID])
      return try login(email: email, password: password)
    }
  }

  /// `abcde-fghjk …` → `ABCDEFGHJK…`: case, spaces and dashes do not matter when typing a code.
  static func normalisedCode(_ code: String) -> String {
    String(code.uppercased().filter { $0 != "-" && $0 != " " })
  }

  /// Makes a new code (100 random bits in 20 characters of an unambiguous alphabet, shown in
  /// groups of five) and forgets the operator's earlier codes of the same purpose.
  private func issueCode(operatorID: Int, purpose: String, lifetime: Int64) throws -> (String, Timestamp) {
    let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    let characters = Crypto.randomBytes(20).map { alphabet[Int($0) % alphabet.count] }
    let code = stride(from: 0, to: 20, by: 5).map { String(characters[$0..<$0 + 5]) }.joined(separator: "-")
    let expires = now().adding(seconds: lifetime)
    try db.run(
      "DELETE FROM operator_codes WHERE operator_id = ? AND purpose = ? AND used_at IS NULL",
      [operatorID, purpose])
    try db.run(
      """
      INSERT INTO operator_codes (operator_id, purpose, code_hash, created_at, expires_at)
      VALUES (?, ?, ?, ?, ?)
      """, [operatorID, purpose, PasswordHash.secretDigest(Self.normalisedCode(code)), now().iso8601,
            expires.iso8601])
    return (code, expires)
  }
}
