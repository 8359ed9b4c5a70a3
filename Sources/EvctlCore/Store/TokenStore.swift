/// Filters for ``Store/tokens(_:)``.
public struct TokenFilter: Sendable {
  public var userEmail: String?
  /// `valid`, `blocked`, `expired` or `not_yet_valid`.
  public var status: String?
  /// Tokens whose validity ends within this many seconds from now.
  public var expiringWithinSeconds: Int64?

  /// Creates a filter; every field is optional.
  public init(userEmail: String? = nil, status: String? = nil, expiringWithinSeconds: Int64? = nil) {
    self.userEmail = userEmail
    self.status = status
    self.expiringWithinSeconds = expiringWithinSeconds
  }
}

/// The new values of a token; `nil` leaves a field unchanged.
public struct TokenChanges: Sendable {
  public var name: String?
  public var validFrom: Timestamp?
  public var validTo: Timestamp?
  public var noExpiry = false
  public var parentIDTag: String?
  public var clearParent = false
  public var userEmail: String?
  public var allowConcurrent: Bool?

  /// Creates an empty change set.
  public init() {}
}

extension Store {
  static let tokenSelect = """
    SELECT t.*, u.email AS user_email, u.group_id AS user_group_id
    FROM tokens t JOIN charging_users u ON u.id = t.user_id
    """

  func makeToken(_ row: Row) -> Token {
    Token(
      id: row.int("id")!, idTag: row.string("id_tag")!, rawIDTag: row.string("raw_id_tag") ?? "",
      userID: row.int("user_id")!, userEmail: row.string("user_email") ?? "",
      name: row.string("name"), validFrom: row.date("valid_from"), validTo: row.date("valid_to"),
      blocked: row.bool("blocked"), parentIDTag: row.string("parent_id_tag"),
      allowConcurrent: row.bool("allow_concurrent"),
      createdAt: row.date("created_at") ?? Timestamp(milliseconds: 0))
  }

  /// The tokens the actor may see that match `filter`.
  public func tokens(_ filter: TokenFilter = TokenFilter()) throws -> [Token] {
    let tree = try groupTree()
    let current = now()
    return try db.query(Store.tokenSelect + " ORDER BY t.id_tag")
      .filter { tree.contains($0.int("user_group_id"), under: actor.baseGroupID) }
      .map(makeToken)
      .filter { token in
        if let email = filter.userEmail, token.userEmail.lowercased() != email.lowercased() {
          return false
        }
        if let status = filter.status, token.status(at: current) != status { return false }
        if let within = filter.expiringWithinSeconds {
          guard let end = token.validTo, end > current, end <= current.adding(seconds: within)
          else { return false }
        }
        return true
      }
  }

  /// One token by idTag, in any accepted spelling.
  public func token(_ idTag: String) throws -> Token {
    let canonical = try IdTagCanonicalizer.canonical(idTag)
    let tree = try groupTree()
    guard let row = try db.queryOne(Store.tokenSelect + " WHERE t.id_tag = ?", [canonical]),
      tree.contains(row.int("user_group_id"), under: actor.baseGroupID)
    else { throw StoreError.notFound(kind: "token", name: canonical) }
    return makeToken(row)
  }

  /// Adds a token for a charging user.
  @discardableResult
  public func addToken(
    idTag raw: String, decimal: Bool = false, userEmail: String, name: String? = nil,
    validFrom: Timestamp? = nil, validTo: Timestamp? = nil, parentIDTag: String? = nil,
    allowConcurrent: Bool = false, blocked: Bool = false
  ) throws -> Token {
    try require(.manageTokens)
    let idTag = try IdTagCanonicalizer.canonical(raw, decimal: decimal)
    let parent = try parentIDTag.map { try IdTagCanonicalizer.canonical($0) }
    try validateWindow(from: validFrom, to: validTo)
    if let parent, parent == idTag {
      throw StoreError.invalid("a token cannot be its own parent")
    }
    return try db.transaction {
      let owner = try user(userEmail)
      let stamp = now().iso8601
      do {
        try db.run(
          """
          INSERT INTO tokens (id_tag, raw_id_tag, user_id, name, valid_from, valid_to, blocked,
            parent_id_tag, allow_concurrent, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
          [
            idTag, raw, owner.id, name, validFrom?.iso8601, validTo?.iso8601, blocked, parent,
            allowConcurrent, stamp, stamp,
          ])
      } catch let error as any DatabaseFailure where error.isUniqueViolation {
        throw StoreError.alreadyExists(kind: "token", name: idTag, hint: "token already exists")
      }
      return try token(idTag)
    }
  }

  /// Changes a token.
  @discardableResult
  public func updateToken(_ idTag: String, _ changes: TokenChanges) throws -> Token {
    try require(.manageTokens)
    return try db.transaction {
      let current = try token(idTag)
      let validFrom = changes.validFrom ?? current.validFrom
      let validTo = changes.noExpiry ? nil : (changes.validTo ?? current.validTo)
      try validateWindow(from: validFrom, to: validTo)
      var parent = current.parentIDTag
      if changes.clearParent { parent = nil }
      if let raw = changes.parentIDTag { parent = try IdTagCanonicalizer.canonical(raw) }
      if parent == current.idTag { throw StoreError.invalid("a token cannot be its own parent") }
      let ownerID = try changes.userEmail.map { try user($0).id } ?? current.userID
      try db.run(
        """
        UPDATE tokens SET name = coalesce(?, name), valid_from = ?, valid_to = ?,
          parent_id_tag = ?, user_id = ?, allow_concurrent = coalesce(?, allow_concurrent),
          updated_at = ? WHERE id = ?
        """,
        [
          changes.name, validFrom?.iso8601, validTo?.iso8601, parent, ownerID,
          changes.allowConcurrent, now().iso8601, current.id,
        ])
      return try token(current.idTag)
    }
  }

  /// Blocks or unblocks a token.
  @discardableResult
  public func setTokenBlocked(_ idTag: String, blocked: Bool) throws -> Token {
    try require(.manageTokens)
    let current = try token(idTag)
    try db.run(
      "UPDATE tokens SET blocked = ?, updated_at = ? WHERE id = ?",
      [blocked, now().iso8601, current.id])
    return try token(current.idTag)
  }

  /// Deletes a token.
  public func deleteToken(_ idTag: String) throws {
    try require(.deleteToken)
    let current = try token(idTag)
    try db.run("DELETE FROM tokens WHERE id = ?", [current.id])
  }

  private func validateWindow(from: Timestamp?, to: Timestamp?) throws {
    if let from, let to, to <= from {
      throw StoreError.invalid(
        "valid-to (\(to.iso8601)) must be later than valid-from (\(from.iso8601))")
    }
  }

  // MARK: Authorization

  /// ``authorize(idTag:stationID:connectorID:purpose:at:)``'s one statement. The token's
  /// sessions elsewhere are matched byte-wise (``SQLDialect/binary``), as the stored tags are, so
  /// that PostgreSQL finds them through `transactions_id_tag` instead of reading every active
  /// session (`tokens.id_tag` is case-insensitive there, and would decide the comparison).
  static func authorizeSelect(_ dialect: SQLDialect) -> String {
    """
    SELECT t.*, u.email AS user_email, u.group_id AS user_group_id,
      (SELECT s.public FROM stations s WHERE s.id = ?) AS station_public,
      (SELECT s.group_id FROM stations s WHERE s.id = ?) AS station_group_id,
      (SELECT count(*) FROM transactions x WHERE x.id_tag = t.id_tag \(dialect.binary) AND x.state = 'active'
         AND NOT (x.station_id = ? AND x.connector_id = ?)) AS active_elsewhere
    FROM tokens t JOIN charging_users u ON u.id = t.user_id WHERE t.id_tag = ?
    """
  }

  /// Gathers the facts about `idTag` at `stationID` and decides its status.
  ///
  /// Used by `serve` for Authorize and StartTransaction; it ignores the actor's domain.
  public func authorize(
    idTag raw: String, stationID: Int, connectorID: Int = 0,
    purpose: TokenAuthorizer.Purpose, at time: Timestamp
  ) throws -> (decision: AuthorizationDecision, tokenID: Int?) {
    // One round trip for the token, the station's openness and group, and the token's active
    // sessions elsewhere: serve runs this for every Authorize and StartTransaction, and on
    // PostgreSQL each statement is a round trip.
    guard let canonical = try? IdTagCanonicalizer.canonical(raw),
      let row = try db.queryOne(Store.authorizeSelect(dialect), [stationID, stationID, stationID, connectorID, canonical])
    else {
      return (TokenAuthorizer.decide(AuthorizationFacts(token: nil), at: time, purpose: purpose), nil)
    }
    let token = makeToken(row)
    let parent = try token.parentIDTag.flatMap {
      try db.queryOne(Store.tokenSelect + " WHERE t.id_tag = ?", [$0]).map(makeToken)
    }
    let isPublic = row.bool("station_public")
    var hasAccess = false
    if !isPublic {
      let tree = try groupTree()
      let stationGroup = row.int("station_group_id")
      for right in try db.query(
        "SELECT group_id, station_id FROM access_rights WHERE user_id = ?", [token.userID])
      {
        if right.int("station_id") == stationID { hasAccess = true }
        if let group = right.int("group_id"), tree.contains(stationGroup, under: group) {
          hasAccess = true
        }
      }
    }
    let elsewhere = row.int("active_elsewhere") ?? 0
    let facts = AuthorizationFacts(
      token: token, parent: parent, stationIsPublic: isPublic, userHasAccess: hasAccess,
      activeTransactionsElsewhere: elsewhere)
    return (TokenAuthorizer.decide(facts, at: time, purpose: purpose), token.id)
  }
}
