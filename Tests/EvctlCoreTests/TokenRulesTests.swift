import Testing

@testable import EvctlCore

@Suite struct IdTagCanonicalizerTests {
  @Test(arguments: [
    ("04a1b2c3", false, "04A1B2C3"),
    ("04:a1:b2:c3", false, "04A1B2C3"),
    ("04-A1-B2-C3", false, "04A1B2C3"),
    ("04 a1 b2 c3", false, "04A1B2C3"),
    ("0x04a1b2c3", false, "04A1B2C3"),
    ("dec:12345678", false, "00BC614E"),
    ("12345678", true, "00BC614E"),
    ("  employee-17 ", false, "EMPLOYEE-17"),
  ])
  func storesOneCanonicalForm(raw: String, decimal: Bool, expected: String) throws {
    #expect(try IdTagCanonicalizer.canonical(raw, decimal: decimal) == expected)
  }

  @Test(arguments: ["", "123456789012345678901", "has space", "dec:12ab", "0xZZ", "naïve"])
  func refusesWhatAStationCannotSend(raw: String) {
    #expect(throws: StoreError.self) { try IdTagCanonicalizer.canonical(raw) }
  }
}

@Suite struct TokenAuthorizerTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func token(
    blocked: Bool = false, from: String? = nil, to: String? = nil, parent: String? = nil,
    concurrent: Bool = false
  ) -> Token {
    Token(
      id: 1, idTag: "TAG", rawIDTag: "tag", userID: 1, userEmail: "u@x.io", name: nil,
      validFrom: from.flatMap(Timestamp.init(parsing:)), validTo: to.flatMap(Timestamp.init(parsing:)),
      blocked: blocked, parentIDTag: parent, allowConcurrent: concurrent,
      createdAt: now)
  }

  func decide(_ facts: AuthorizationFacts, _ purpose: TokenAuthorizer.Purpose = .authorize)
    -> AuthorizationDecision
  {
    TokenAuthorizer.decide(facts, at: now, purpose: purpose)
  }

  @Test func unknownTagIsInvalid() {
    #expect(decide(AuthorizationFacts(token: nil)).status == .invalid)
  }

  @Test func acceptedAnswersCarryABoundedExpiry() {
    let decision = decide(AuthorizationFacts(token: token()))
    #expect(decision.status == .accepted)
    #expect(decision.expiryDate == now.adding(seconds: 86_400))
  }

  @Test func expiryIsTheTokenEndWhenSooner() {
    let decision = decide(AuthorizationFacts(token: token(to: "2026-11-21T18:00:00Z")))
    #expect(decision.expiryDate == Timestamp(parsing: "2026-11-21T18:00:00Z"))
  }

  @Test func blockedWinsOverEverythingElse() {
    #expect(decide(AuthorizationFacts(token: token(blocked: true, to: "2020-01-01"))).status == .blocked)
  }

  @Test func expiredAndNotYetValid() {
    #expect(decide(AuthorizationFacts(token: token(to: "2026-11-21T12:00:00Z"))).status == .expired)
    #expect(decide(AuthorizationFacts(token: token(from: "2026-12-01"))).status == .invalid)
  }

  @Test func aBlockedOrExpiredParentTagStopsItsChildren() {
    let parent = token(blocked: true)
    #expect(decide(AuthorizationFacts(token: token(parent: "P"), parent: parent)).status == .blocked)
    let old = token(to: "2026-01-01")
    let decision = decide(AuthorizationFacts(token: token(parent: "P"), parent: old))
    #expect(decision.status == .expired)
    #expect(decision.parentIDTag == "P")
  }

  @Test func privateStationsNeedAnAccessRight() {
    let denied = AuthorizationFacts(token: token(), stationIsPublic: false, userHasAccess: false)
    #expect(decide(denied).status == .invalid)
    let granted = AuthorizationFacts(token: token(), stationIsPublic: false, userHasAccess: true)
    #expect(decide(granted).status == .accepted)
  }

  @Test func concurrentTransactionsOnlyMatterForStartTransaction() {
    let busy = AuthorizationFacts(token: token(), activeTransactionsElsewhere: 1)
    #expect(decide(busy, .authorize).status == .accepted)
    #expect(decide(busy, .startTransaction).status == .concurrentTx)
    let allowed = AuthorizationFacts(token: token(concurrent: true), activeTransactionsElsewhere: 1)
    #expect(decide(allowed, .startTransaction).status == .accepted)
  }

  @Test func idTagInfoUsesTheSchemaNames() {
    let decision = decide(AuthorizationFacts(token: token(parent: "P")))
    #expect(decision.idTagInfo["expiryDate"] != nil)
    #expect(decision.idTagInfo["parentIdTag"] == "P")
    #expect(decision.idTagInfo["status"] == "Accepted")
  }
}
