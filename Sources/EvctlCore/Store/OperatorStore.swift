/// A secret handed out once: a login session or an API token.
public struct IssuedCredential: Sendable {
  /// The secret; only its digest is stored.
  public var secret: String
  /// When it stops working; `nil` for never.
  public var expiresAt: Timestamp?
  /// The operator it belongs to.
  public var operatorEmail: String
}

extension Store {
  /// How long a login session lasts.
  public static let sessionLifetimeSeconds: Int64 = 7_200

  func makeOperator(_ row: Row, tree: GroupTree) -> Operator {
    let base = row.int("base_group_id")
    return Operator(
      id: row.int("id")!, email: row.string("email")!, name: row.string("name") ?? "",
      role: Role(rawValue: row.string("role") ?? "") ?? .basic, baseGroupID: base,
      baseGroupPath: base.flatMap { tree.byID[$0]?.path }, active: row.bool("active"),
      createdAt: row.date("created_at") ?? Timestamp(milliseconds: 0),
      alarmMail: AlarmMail(rawValue: row.string("alarm_mail") ?? "") ?? .off,
      alarmMailHour: row.int("alarm_mail_hour") ?? 7, hasPassword: row.string("password_hash") != nil)
  }

  /// The operators the actor may see (those based inside the actor's domain).
  public func operators() throws -> [Operator] {
    let tree = try groupTree()
    return try db.query("SELECT * FROM operators ORDER BY email \(dialect.nocase)")
      .map { makeOperator($0, tree: tree) }
      .filter { isVisible($0, tree: tree) }
  }

  /// One operator by email.
  public func operatorNamed(_ email: String) throws -> Operator {
    let tree = try groupTree()
    guard let row = try db.queryOne("SELECT * FROM operators WHERE email = ?", [email]) else {
      throw StoreError.notFound(kind: "operator", name: email)
    }
    let op = makeOperator(row, tree: tree)
    guard isVisible(op, tree: tree) || isSelf(op) else {
      throw StoreError.notFound(kind: "operator", name: email)
    }
    return op
  }

  private func isVisible(_ op: Operator, tree: GroupTree) -> Bool {
    guard let base = actor.baseGroupID else { return true }
    return tree.contains(op.baseGroupID, under: base)
  }

  func isSelf(_ op: Operator) -> Bool {
    if case .operator(let me) = actor { return me.id == op.id }
    return false
  }

  /// Creates an operator.
  @discardableResult
  public func createOperator(
    email: String, name: String, role: Role, baseGroup: String?, password: String?
  ) throws -> Operator {
    try require(.manageOperators)
    try ChargingUser.validate(email: email)
    if let password { try Operator.validate(password: password) }
    let hash = password.map {
      PasswordHash.make(Array($0.utf8), iterations: PasswordHash.operatorIterations)
    }
    return try db.transaction {
      let baseID = try baseGroup.map { try resolveGroup($0).id }
      try requireDomain(baseID, what: baseGroup.map { "group '\($0)'" } ?? "the whole network")
      let stamp = now().iso8601
      do {
        try db.run(
          """
          INSERT INTO operators (email, name, role, base_group_id, password_hash, created_at,
            updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
          """, [email, name, role.rawValue, baseID, hash, stamp, stamp])
      } catch let error as any DatabaseFailure where error.isUniqueViolation {
        throw StoreError.alreadyExists(kind: "operator", name: email)
      }
      return try operatorNamed(email)
    }
  }

  /// Changes an operator's email, name, role or base group. Every operator may change their own
  /// email and name ("My account"); the rest needs `manageOperators`. Login sessions and API
  /// tokens belong to the operator, not to the email, so they keep working after a change.
  @discardableResult
  public func updateOperator(
    _ email: String, newEmail: String? = nil, name: String? = nil, role: Role? = nil,
    baseGroup: String? = nil
  ) throws -> Operator {
    if let newEmail { try ChargingUser.validate(email: newEmail) }
    return try db.transaction {
      let target = try operatorNamed(email)
      let onlyOwnAccount = isSelf(target) && role == nil && baseGroup == nil
      if !onlyOwnAccount {
        try require(.manageOperators)
        try requireDomain(target.baseGroupID, what: "operator '\(target.email)'")
      }
      let baseID = try baseGroup.map { try resolveGroup($0).id }
      if let baseGroup { try requireDomain(baseID, what: "group '\(baseGroup)'") }
      if let role, role != .admin, target.role == .admin, target.active {
        try requireAnotherActiveAdmin(besides: target, doing: "demote")
      }
      do {
        try db.run(
          """
          UPDATE operators SET email = coalesce(?, email), name = coalesce(?, name),
            role = coalesce(?, role), base_group_id = coalesce(?, base_group_id), updated_at = ?
          WHERE id = ?
          """, [newEmail, name, role?.rawValue, baseID, now().iso8601, target.id])
      } catch let error as any DatabaseFailure where error.isUniqueViolation {
        throw StoreError.alreadyExists(kind: "operator", name: newEmail ?? email)
      }
      if isSelf(target), case .operator(var me) = actor {
        me.email = newEmail ?? me.email
        me.name = name ?? me.name
        actor = .operator(me)
      }
      return try operatorNamed(newEmail ?? target.email)
    }
  }

  /// Activates or deactivates an operator; a deactivated operator's sessions stop working.
  @discardableResult
  public func setOperatorActive(_ email: String, active: Bool) throws -> Operator {
    try require(.manageOperators)
    return try db.transaction {
      let target = try operatorNamed(email)
      try requireDomain(target.baseGroupID, what: "operator '\(target.email)'")
      if !active, target.role == .admin, target.active {
        try requireAnotherActiveAdmin(besides: target, doing: "deactivate")
      }
      try db.run(
        "UPDATE operators SET active = ?, updated_at = ? WHERE id = ?",
        [active, now().iso8601, target.id])
      if !active { try db.run("DELETE FROM operator_credentials WHERE operator_id = ?", [target.id]) }
      return try operatorNamed(email)
    }
  }

  /// Deletes an operator, never the last active admin.
  public func deleteOperator(_ email: String) throws {
    try require(.manageOperators)
    try db.transaction {
      let target = try operatorNamed(email)
      try requireDomain(target.baseGroupID, what: "operator '\(target.email)'")
      if target.role == .admin, target.active {
        try requireAnotherActiveAdmin(besides: target, doing: "delete")
      }
      try db.run("DELETE FROM operators WHERE id = ?", [target.id])
    }
  }

  /// Sets an operator's password; operators may always set their own.
  public func setOperatorPassword(_ email: String, password: String) throws {
    try Operator.validate(password: password)
    let target = try operatorNamed(email)
    if !isSelf(target) {
      try require(.manageOperators)
      try requireDomain(target.baseGroupID, what: "operator '\(target.email)'")
    }
    let hash = PasswordHash.make(Array(password.utf8), iterations: PasswordHash.operatorIterations)
    try db.run(
      "UPDATE operators SET password_hash = ?, updated_at = ? WHERE id = ?",
      [hash, now().iso8601, target.id])
  }

  private func requireAnotherActiveAdmin(besides target: Operator, doing verb: String) throws {
    let others =
      try db.queryOne(
        "SELECT count(*) FROM operators WHERE role = 'admin' AND active AND id <> ?",
        [target.id])?.values.first?.int ?? 0
    guard others > 0 else {
      throw StoreError.conflict(
        "cannot \(verb) '\(target.email)': it is the last active admin operator")
    }
  }

  // MARK: Credentials

  /// Checks an operator's password and opens a two-hour session.
  ///
  /// - Throws: ``StoreError/forbidden(_:)`` with one message for every failure, so that it does
  ///   not reveal which emails exist.
  public func login(email: String, password: String) throws -> IssuedCredential {
    let denied = StoreError.forbidden("login failed: wrong email or password, or inactive operator")
    guard let row = try db.queryOne("SELECT * FROM operators WHERE email = ?", [email]),
      row.bool("active"), let hash = row.string("password_hash"),
      PasswordHash.verify(Array(password.utf8), against: hash)
    else { throw denied }
    return try issueCredential(
      operatorID: row.int("id")!, email: row.string("email")!, kind: "session", name: nil,
      lifetime: Store.sessionLifetimeSeconds)
  }

  /// Creates an API token for the acting operator, for scripts and cron (`EVCTL_TOKEN`).
  public func createAPIToken(name: String, lifetimeSeconds: Int64?) throws -> IssuedCredential {
    guard case .operator(let me) = actor else {
      throw StoreError.invalid(
        "API tokens belong to an operator: log in first with 'evctl login EMAIL'")
    }
    return try issueCredential(
      operatorID: me.id, email: me.email, kind: "api", name: name, lifetime: lifetimeSeconds)
  }

  /// Forgets a credential (logout).
  public func revokeCredential(secret: String) throws {
    try db.run(
      "DELETE FROM operator_credentials WHERE secret_hash = ?",
      [PasswordHash.secretDigest(secret)])
  }

  /// Finds the active operator a secret belongs to; `nil` when it is unknown or expired.
  public func operatorForCredential(_ secret: String) throws -> Operator? {
    guard
      let row = try db.queryOne(
        """
        SELECT o.* FROM operator_credentials c JOIN operators o ON o.id = c.operator_id
        WHERE c.secret_hash = ? AND o.active AND (c.expires_at IS NULL OR c.expires_at > ?)
        """, [PasswordHash.secretDigest(secret), now().iso8601])
    else { return nil }
    return makeOperator(row, tree: try groupTree())
  }

  private func issueCredential(
    operatorID: Int, email: String, kind: String, name: String?, lifetime: Int64?
  ) throws -> IssuedCredential {
    let secret = "evctl_" + Crypto.hex(Crypto.randomBytes(24))
    let expires = lifetime.map { now().adding(seconds: $0) }
    try db.run(
      """
      INSERT INTO operator_credentials (operator_id, kind, name, secret_hash, created_at, expires_at)
      VALUES (?, ?, ?, ?, ?, ?)
      """,
      [operatorID, kind, name, PasswordHash.secretDigest(secret), now().iso8601, expires?.iso8601])
    return IssuedCredential(secret: secret, expiresAt: expires, operatorEmail: email)
  }
}
