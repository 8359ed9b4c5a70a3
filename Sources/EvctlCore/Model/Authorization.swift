/// The OCPP 1.6 `AuthorizationStatus` [S16 §7.2].
public enum AuthorizationStatus: String, Sendable, CaseIterable {
  case accepted = "Accepted"
  case blocked = "Blocked"
  case expired = "Expired"
  case invalid = "Invalid"
  case concurrentTx = "ConcurrentTx"
}

/// What a station is told about an idTag: the OCPP `IdTagInfo`.
public struct AuthorizationDecision: Equatable, Sendable {
  public var status: AuthorizationStatus
  /// Until when the station may cache this answer; always bounded for accepted tags.
  public var expiryDate: Timestamp?
  public var parentIDTag: String?
  /// Why, in words, for logs and events.
  public var reason: String

  /// The answer on an open connector: Accepted whatever the tag, with an expiry of `now` so
  /// that the station does not cache an unknown tag as valid for its other connectors.
  public static func freeCharging(at now: Timestamp) -> AuthorizationDecision {
    AuthorizationDecision(
      status: .accepted, expiryDate: now, parentIDTag: nil, reason: "open connector: free charging")
  }

  /// The `IdTagInfo` JSON object.
  public var idTagInfo: JSONValue {
    var info: [String: JSONValue] = ["status": .string(status.rawValue)]
    if let expiryDate { info["expiryDate"] = .string(expiryDate.iso8601) }
    if let parentIDTag { info["parentIdTag"] = .string(parentIDTag) }
    return .object(info)
  }
}

/// Everything the decision needs to know about a token, gathered by the store.
public struct AuthorizationFacts: Sendable {
  /// The token, or `nil` when the idTag is unknown.
  public var token: Token?
  /// The parent token, when the token names a parent that is itself a registered token.
  public var parent: Token?
  /// Whether the station is public (any valid token) rather than private (access rights only).
  public var stationIsPublic: Bool
  /// Whether the token's user holds an access right to the station or one of its groups.
  public var userHasAccess: Bool
  /// Active transactions of this token on other connectors.
  public var activeTransactionsElsewhere: Int

  /// Creates the facts for one decision.
  public init(
    token: Token?, parent: Token? = nil, stationIsPublic: Bool = true,
    userHasAccess: Bool = false, activeTransactionsElsewhere: Int = 0
  ) {
    self.token = token
    self.parent = parent
    self.stationIsPublic = stationIsPublic
    self.userHasAccess = userHasAccess
    self.activeTransactionsElsewhere = activeTransactionsElsewhere
  }
}

/// The single function that decides a token's status for a station at a moment.
///
/// Authorize, StartTransaction and the local authorization lists all use it (DESIGN §5).
public enum TokenAuthorizer {
  /// How long a station may cache an accepted answer when the token has no end date (brief §2.3).
  public static let cacheLifetimeSeconds: Int64 = 86_400

  /// What the request is for: `ConcurrentTx` only applies to StartTransaction [S16 §7.2].
  public enum Purpose: Sendable {
    case authorize, startTransaction, localList
  }

  /// Decides the status of a token.
  public static func decide(
    _ facts: AuthorizationFacts, at now: Timestamp, purpose: Purpose
  ) -> AuthorizationDecision {
    guard let token = facts.token else {
      return AuthorizationDecision(status: .invalid, reason: "unknown id tag")
    }
    let parentTag = token.parentIDTag
    func deny(_ status: AuthorizationStatus, _ reason: String) -> AuthorizationDecision {
      AuthorizationDecision(status: status, expiryDate: nil, parentIDTag: parentTag, reason: reason)
    }
    if token.blocked { return deny(.blocked, "token is blocked") }
    if let parent = facts.parent, parent.blocked { return deny(.blocked, "parent token is blocked") }
    if let validTo = token.validTo, validTo <= now {
      return deny(.expired, "token expired at \(validTo.iso8601)")
    }
    if let parent = facts.parent, let validTo = parent.validTo, validTo <= now {
      return deny(.expired, "parent token expired at \(validTo.iso8601)")
    }
    if let validFrom = token.validFrom, validFrom > now {
      return deny(.invalid, "token is not valid before \(validFrom.iso8601)")
    }
    if !facts.stationIsPublic && !facts.userHasAccess {
      return deny(.invalid, "no access right to this private station")
    }
    if purpose == .startTransaction, !token.allowConcurrent, facts.activeTransactionsElsewhere > 0 {
      return deny(.concurrentTx, "token is already in another transaction")
    }
    var expiry = now.adding(seconds: cacheLifetimeSeconds)
    for end in [token.validTo, facts.parent?.validTo].compactMap({ $0 }) where end < expiry {
      expiry = end
    }
    return AuthorizationDecision(
      status: .accepted, expiryDate: expiry, parentIDTag: parentTag, reason: "accepted")
  }
}
