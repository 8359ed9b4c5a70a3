import Testing

@testable import EvctlCore

@Suite struct GroupStoreTests {
  @Test func pathsAndTreeOrder() throws {
    let store = try seededStore()
    #expect(try store.groups().map(\.path) == ["Elsewhere", "HQ", "HQ/Floor 1", "HQ/Garage"])
    #expect(try store.resolveGroup("hq/floor 1").name == "Floor 1")
    #expect(try store.resolveGroup("Garage").path == "HQ/Garage")
  }

  @Test func moveRefusesCycles() throws {
    let store = try seededStore()
    #expect(throws: StoreError.self) { try store.moveGroup("HQ", to: "HQ/Floor 1") }
    #expect(throws: StoreError.self) { try store.moveGroup("HQ", to: "HQ") }
    try store.moveGroup("HQ/Garage", to: "Elsewhere")
    #expect(try store.resolveGroup("Garage").path == "Elsewhere/Garage")
  }

  @Test func deleteOnlyEmptyGroupsAndSayWhatIsInside() throws {
    let store = try seededStore()
    do {
      try store.deleteGroup("HQ")
      Issue.record("deleted a non-empty group")
    } catch StoreError.conflict(let message) {
      #expect(message.contains("2 subgroup(s) (Floor 1, Garage)"))
      #expect(message.contains("1 charging user(s)"))
    }
    try store.deleteStation("CP-9")
    try store.deleteGroup("Elsewhere")
    #expect(throws: StoreError.notFound(kind: "group", name: "Elsewhere")) {
      try store.resolveGroup("Elsewhere")
    }
  }

  @Test func siblingNamesAreUniqueCaseInsensitively() throws {
    let store = try seededStore()
    #expect(throws: StoreError.alreadyExists(kind: "group", name: "HQ/garage")) {
      try store.createGroup(name: "garage", parent: "HQ")
    }
    try store.createGroup(name: "Garage", parent: "Elsewhere")
    #expect(throws: StoreError.self) { try store.resolveGroup("Garage") }
  }

  @Test(arguments: ["", "a/b", "42"])
  func refusesBadGroupNames(name: String) throws {
    let store = try makeStore()
    #expect(throws: StoreError.self) { try store.createGroup(name: name, parent: nil) }
  }
}

@Suite struct StationStoreTests {
  @Test(arguments: ["CP/1", "CP 1", "", String(repeating: "a", count: 49), "ü"])
  func identitiesWithForbiddenCharactersAreRefused(identity: String) throws {
    let store = try makeStore()
    #expect(throws: StoreError.self) { try store.createStation(identity: identity, name: "x") }
  }

  @Test func identitiesAreUniqueCaseInsensitively() throws {
    let store = try seededStore()
    #expect(throws: StoreError.self) { try store.createStation(identity: "cp-1", name: "dup") }
    #expect(try store.station("cp-1").identity == "CP-1")
  }

  @Test func filtersBySubtreeSearchAndOrphans() throws {
    let store = try seededStore()
    try store.createStation(identity: "LOOSE", name: "No group")
    #expect(try store.stations(StationFilter(group: "HQ")).map(\.identity) == ["CP-1", "CP-2"])
    #expect(try store.stations(StationFilter(search: "far")).map(\.identity) == ["CP-9"])
    #expect(try store.stations(StationFilter(orphansOnly: true)).map(\.identity) == ["LOOSE"])
  }

  @Test func connectorsAreNumberedFromOne() throws {
    let store = try seededStore()
    #expect(try store.connectors("CP-1").map(\.connectorID) == [1, 2])
    let updated = try store.updateConnector("CP-1", connector: 2, type: "Type2", maxCurrent: 32, mode: "open")
    #expect(updated.mode == "open")
    #expect(throws: StoreError.self) { try store.updateConnector("CP-1", connector: 3, type: "x") }
    #expect(throws: StoreError.self) { try store.updateConnector("CP-1", connector: 1, mode: "free") }
  }

  @Test func stationPasswordsAreStoredHashed() throws {
    let store = try seededStore()
    try store.setStationPassword("CP-1", password: Array("0123456789abcdef".utf8))
    let hash = try store.db.queryOne("SELECT password_hash FROM stations WHERE identity = 'CP-1'")?
      .string("password_hash")
    #expect(hash?.hasPrefix("pbkdf2-sha256$") == true)
    #expect(throws: StoreError.self) { try store.setStationPassword("CP-1", password: Array("short".utf8)) }
  }

  @Test func importIsAllOrNothingWithLineNumbers() throws {
    let store = try seededStore()
    let csv = """
      identity,name,group,connectors
      CP-20,Twenty,HQ,2
      CP/21,Bad,HQ,1
      CP-22,Twenty-two,Nowhere,1
      CP-20,Again,HQ,1
      CP-23,,HQ,x
      """
    do {
      _ = try store.importStations(csv: csv, file: "s.csv")
      Issue.record("a bad import was accepted")
    } catch StoreError.badInput(let lines) {
      #expect(lines.count == 4)
      #expect(lines[0].hasPrefix("s.csv:3: identifier contains forbidden characters"))
      #expect(lines[1] == "s.csv:4: group 'Nowhere' not found")
      #expect(lines[2] == "s.csv:5: duplicate identity 'CP-20' (also on line 2)")
      #expect(lines[3] == "s.csv:6: name is empty")
    }
    #expect(throws: StoreError.self) { try store.station("CP-20") }
  }

  @Test func importCreatesAndUpdates() throws {
    let store = try seededStore()
    let csv = "identity,name,group,availability\nCP-1,Renamed,Garage,private\nCP-30,New,HQ,public\n"
    let dry = try store.importStations(csv: csv, file: "s.csv", dryRun: true)
    #expect(dry == ImportSummary(created: 1, updated: 1, unchanged: 0, written: false))
    #expect(try store.station("CP-1").name == "One")
    let summary = try store.importStations(csv: csv, file: "s.csv")
    #expect(summary.created == 1 && summary.updated == 1 && summary.written)
    let cp1 = try store.station("CP-1")
    #expect(cp1.name == "Renamed" && cp1.groupPath == "HQ/Garage" && !cp1.isPublic)
  }
}

@Suite struct TokenStoreTests {
  @Test func duplicateTagsInAnySpellingAreRefused() throws {
    let store = try seededStore()
    try store.addToken(idTag: "04:a1:b2:c3", userEmail: "eva@x.io")
    #expect(throws: StoreError.alreadyExists(kind: "token", name: "04A1B2C3", hint: "token already exists")) {
      try store.addToken(idTag: "0x04A1B2C3", userEmail: "eva@x.io")
    }
    #expect(try store.token("04a1b2c3").rawIDTag == "04:a1:b2:c3")
  }

  @Test func importReportsEveryBadRowAndWritesNothing() throws {
    let store = try seededStore()
    let csv = """
      id_tag,user,valid_to,blocked
      AAA1,eva@x.io,2027-01-01,false
      AAA2,nobody@x.io,,
      AAA3,eva@x.io,someday,
      aaa1,eva@x.io,,
      AAA4,eva@x.io,,maybe
      """
    do {
      _ = try store.importTokens(csv: csv, file: "t.csv")
      Issue.record("a bad import was accepted")
    } catch StoreError.badInput(let lines) {
      #expect(lines == [
        "t.csv:3: user 'nobody@x.io' not found",
        "t.csv:4: valid_to 'someday' is not a date or ISO 8601 time (e.g. 2026-12-31 or 2026-12-31T23:59:00Z)",
        "t.csv:5: duplicate id tag 'AAA1' (also on line 2)",
        "t.csv:6: blocked 'maybe' is not true or false",
      ])
    }
    #expect(try store.tokens().map(\.idTag) == ["TAG1"])
  }

  @Test func importThenExportRoundTrips() throws {
    let store = try seededStore()
    let csv = "id_tag,user,name,valid_to,blocked,parent_id_tag\nB1,eva@x.io,Card,2027-01-01,true,TAG1\n"
    #expect(try store.importTokens(csv: csv, file: "t.csv").created == 1)
    #expect(try store.importTokens(csv: csv, file: "t.csv").unchanged == 1)
    let exported = try store.exportTokens()
    #expect(exported[0] == Store.tokenColumns)
    #expect(exported.contains(["B1", "eva@x.io", "Card", "", "2027-01-01T00:00:00.000Z", "true", "TAG1"]))
  }

  @Test func expiringFilter() throws {
    let store = try seededStore()
    try store.addToken(idTag: "SOON", userEmail: "eva@x.io", validTo: store.clock().adding(seconds: 86_400))
    try store.addToken(idTag: "LATER", userEmail: "eva@x.io", validTo: store.clock().adding(seconds: 90 * 86_400))
    #expect(try store.tokens(TokenFilter(expiringWithinSeconds: 7 * 86_400)).map(\.idTag) == ["SOON"])
  }

  @Test func authorizeAppliesAccessRightsOnPrivateStations() throws {
    let store = try seededStore()
    var changes = StationChanges()
    changes.isPublic = false
    try store.updateStation("CP-1", changes)
    let stationID = try store.station("CP-1").id
    let now = store.clock()
    #expect(try store.authorize(idTag: "tag1", stationID: stationID, purpose: .authorize, at: now).decision.status == .invalid)
    try store.grantAccess("eva@x.io", group: "HQ")
    #expect(try store.authorize(idTag: "tag1", stationID: stationID, purpose: .authorize, at: now).decision.status == .accepted)
    try store.revokeAccess("eva@x.io", group: "HQ")
    try store.grantAccess("eva@x.io", station: "CP-1")
    #expect(try store.authorize(idTag: "TAG1", stationID: stationID, purpose: .authorize, at: now).decision.status == .accepted)
  }

  /// serve authorizes on every Authorize and StartTransaction; on PostgreSQL each statement is a
  /// round trip, so the token, the station's openness and the token's sessions elsewhere come
  /// in one (issue 14, PostgreSQL throughput).
  @Test func authorizingAtAPublicStationIsOneStatement() throws {
    let store = try seededStore()
    let stationID = try store.station("CP-1").id
    let now = store.clock()
    let before = store.statementsRun
    #expect(try store.authorize(idTag: "tag1", stationID: stationID, purpose: .authorize, at: now).decision.status == .accepted)
    #expect(store.statementsRun - before == 1)
  }

  /// That statement finds the token's sessions elsewhere through `transactions_id_tag` on both
  /// backends, with PostgreSQL's generic plan too (serve's prepared statements get one): not by
  /// reading every active session, which it did on PostgreSQL while the case-insensitive
  /// `tokens.id_tag` decided the comparison.
  @Test func authorizingFindsTheTokensSessionsByTheirIndex() throws {
    let store = try seededStore()
    // A network's worth of sessions, 300 of them active, on 500 tags; and statistics of them.
    try store.db.transaction {
      for i in 1...2_000 {
        try store.db.run(
          """
          INSERT INTO transactions (id, station_id, connector_id, id_tag, authorization_status, meter_start,
            started_at, start_timestamp_raw, state, received_at)
          VALUES (?, ?, 1, ?, 'Accepted', ?, '2026-11-21T11:00:00.000Z', ?, ?, '2026-11-21T11:00:00.000Z')
          """, [i, try store.station(i % 2 == 0 ? "CP-1" : "CP-2").id, "T\(i % 500)", i, "raw\(i)",
                i % 7 == 0 ? "active" : "completed"])
      }
    }
    try store.db.execute("ANALYZE")
    let sql = Store.authorizeSelect(store.dialect)
    var plan: [String] = []
    switch store.dialect {
    case .sqlite:
      for row in try store.db.query("EXPLAIN QUERY PLAN " + sql, [1, 1, 1, 1, "TAG1"]) {
        plan += row.values.compactMap { $0.string }
      }
    case .postgresql:
      var numbered = ""
      var index = 0
      for character in sql {
        if character == "?" {
          index += 1
          numbered += "$\(index)"
        } else {
          numbered.append(character)
        }
      }
      try store.db.execute("PREPARE authorize_plan (bigint, bigint, bigint, bigint, text) AS " + numbered)
      try store.db.execute("SET plan_cache_mode = force_generic_plan")
      for row in try store.db.query("EXPLAIN EXECUTE authorize_plan (1, 1, 1, 1, 'TAG1')") {
        plan += row.values.compactMap { $0.string }
      }
    }
    let text = plan.joined(separator: "\n")
    #expect(text.contains("transactions_id_tag"), "\(text)")
  }
}

@Suite struct OperatorStoreTests {
  @Test func loginIssuesASessionThatExpires() throws {
    let store = try seededStore()
    try store.createOperator(email: "ann@x.io", name: "Ann", role: .basic, baseGroup: "HQ", password: "secret123")
    #expect(throws: StoreError.self) { try store.login(email: "ann@x.io", password: "wrong1234") }
    let session = try store.login(email: "ANN@x.io", password: "secret123")
    #expect(try store.operatorForCredential(session.secret)?.email == "ann@x.io")
    let issued = store.clock()
    store.clock = { issued.adding(seconds: 3 * 3600) }
    #expect(try store.operatorForCredential(session.secret) == nil)
  }

  @Test(arguments: ["short1", "onlyletters", "12345678"])
  func passwordPolicy(password: String) throws {
    let store = try seededStore()
    #expect(throws: StoreError.self) {
      try store.createOperator(email: "p@x.io", name: "P", role: .basic, baseGroup: nil, password: password)
    }
  }

  @Test func deactivationEndsSessions() throws {
    let store = try seededStore()
    try store.createOperator(email: "ann@x.io", name: "Ann", role: .basic, baseGroup: nil, password: "secret123")
    let session = try store.login(email: "ann@x.io", password: "secret123")
    try store.setOperatorActive("ann@x.io", active: false)
    #expect(try store.operatorForCredential(session.secret) == nil)
    #expect(throws: StoreError.self) { try store.login(email: "ann@x.io", password: "secret123") }
  }
}
