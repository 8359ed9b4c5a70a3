import Testing

@testable import EvctlCore

@Suite struct LocalListPlannerTests {
  let a = LocalListEntry(idTag: "A")
  let b = LocalListEntry(idTag: "B")
  let c = LocalListEntry(idTag: "C", expiryDate: Timestamp(parsing: "2027-01-01"))

  @Test func fullListsAreSplitByTheMessageLimit() throws {
    let plan = try LocalListPlanner.plan(
      desired: [a, b, c], held: [], currentVersion: 4, differential: false, maxListLength: 10,
      maxMessageLength: 2)
    #expect(plan.messages.map { $0["updateType"] } == ["Full", "Differential"])
    #expect(plan.messages.map { $0["listVersion"] } == [5, 6])
    #expect(plan.finalVersion == 6)
    #expect(plan.messages[1]["localAuthorizationList"]?[0]?["idTagInfo"]?["expiryDate"] == "2027-01-01T00:00:00.000Z")
  }

  @Test func differentialsCarryOnlyChangesAndRemovals() throws {
    var changed = b
    changed.parentIDTag = "P"
    let plan = try LocalListPlanner.plan(
      desired: [a, changed], held: [a, b, c], currentVersion: 7, differential: true,
      maxListLength: nil, maxMessageLength: nil)
    #expect(plan.messages.count == 1)
    let entries = plan.messages[0]["localAuthorizationList"]?.arrayValue ?? []
    #expect(entries.map { $0["idTag"] } == ["B", "C"])
    #expect(entries[1]["idTagInfo"] == nil, "a removal has no idTagInfo")
    #expect((plan.changed, plan.removed) == (1, 1))
  }

  @Test func upToDateMeansNoMessage() throws {
    let plan = try LocalListPlanner.plan(
      desired: [a, b], held: [b, a], currentVersion: 3, differential: true, maxListLength: nil,
      maxMessageLength: nil)
    #expect(plan.messages.isEmpty)
    #expect(plan.finalVersion == 3)
  }

  @Test func anEmptyFullListClearsTheStation() throws {
    let plan = try LocalListPlanner.plan(
      desired: [], held: [], currentVersion: 0, differential: false, maxListLength: nil, maxMessageLength: 5)
    #expect(plan.messages == [["listVersion": 1, "updateType": "Full", "localAuthorizationList": []]])
  }

  @Test func aListThatDoesNotFitIsRefused() {
    #expect(throws: LocalListPlanner.Refusal.self) {
      try LocalListPlanner.plan(
        desired: [a, b, c], held: [], currentVersion: 0, differential: false, maxListLength: 2,
        maxMessageLength: nil)
    }
  }

  @Test func theBuilderAppliesTheTokenRulesPerStation() throws {
    let store = try seededStore()
    try store.addToken(idTag: "BLOCKED", userEmail: "eva@x.io", blocked: true)
    try store.addToken(idTag: "CHILD", userEmail: "eva@x.io", validTo: Timestamp(parsing: "2027-06-01"), parentIDTag: "TAG1")
    var privately = StationChanges()
    privately.isPublic = false
    try store.updateStation("CP-2", privately)
    let builder = try store.localListBuilder()
    #expect(builder.entries(for: try store.station("CP-1")).map(\.idTag) == ["CHILD", "TAG1"])
    #expect(builder.entries(for: try store.station("CP-2")).isEmpty)
    try store.grantAccess("eva@x.io", group: "HQ")
    #expect(try store.localListBuilder().entries(for: try store.station("CP-2")).count == 2)
  }
}

@Suite struct ChargingProfileTests {
  func profile(
    purpose: ProfilePurpose = .txDefault, kind: ProfileKind = .relative, recurrency: String? = nil,
    periods: [SchedulePeriod] = [SchedulePeriod(startPeriod: 0, limit: 16)], start: Timestamp? = nil
  ) -> ChargingProfile {
    ChargingProfile(id: 1, name: "p", purpose: purpose, kind: kind, recurrency: recurrency, stackLevel: 1,
                    unit: "A", periods: periods, startSchedule: start)
  }

  @Test func acceptsAPlainProfile() throws {
    try profile().validate()
  }

  @Test(arguments: [
    [SchedulePeriod(startPeriod: 10, limit: 16)],
    [SchedulePeriod(startPeriod: 0, limit: 16), SchedulePeriod(startPeriod: 0, limit: 8)],
    [SchedulePeriod(startPeriod: 0, limit: 16.25)],
    [SchedulePeriod(startPeriod: 0, limit: -1)],
    [SchedulePeriod(startPeriod: 0, limit: 16, numberPhases: 4)],
    [],
  ])
  func refusesBadPeriods(periods: [SchedulePeriod]) {
    #expect(throws: StoreError.self) { try profile(periods: periods).validate() }
  }

  @Test func recurrencyGoesOnlyWithRecurring() {
    #expect(throws: StoreError.self) { try profile(recurrency: "Daily").validate() }
    #expect(throws: StoreError.self) { try profile(kind: .recurring).validate() }
    #expect(throws: StoreError.self) {
      try profile(kind: .recurring, recurrency: "Daily", periods: [SchedulePeriod(startPeriod: 0, limit: 1), SchedulePeriod(startPeriod: 90_000, limit: 2)], start: .now()).validate()
    }
  }

  @Test func theWireFormHasTheSchemaNames() {
    let json = profile(purpose: .txProfile, kind: .absolute).wireJSON(transactionID: 9, now: Timestamp(parsing: "2026-11-21T12:00:00Z")!)
    #expect(json["transactionId"] == 9)
    #expect(json["chargingSchedule"]?["startSchedule"] == "2026-11-21T12:00:00.000Z")
    #expect(json["chargingSchedule"]?["chargingSchedulePeriod"]?[0]?["limit"] == .double(16))
  }

  @Test func purposeAndConnectorRulesAreCheckedBeforeSending() throws {
    let store = try seededStore()
    let cap = try store.createChargingProfile(profile(purpose: .chargePointMax, kind: .absolute))
    #expect(throws: StoreError.self) {
      try store.setChargingProfilePayload(station: "CP-1", profile: cap, connector: 1, transaction: nil)
    }
    _ = try store.setChargingProfilePayload(station: "CP-1", profile: cap, connector: 0, transaction: nil)
    var tx = profile(purpose: .txProfile)
    tx.name = "tx"
    let txProfile = try store.createChargingProfile(tx)
    #expect(throws: StoreError.self) {
      try store.setChargingProfilePayload(station: "CP-1", profile: txProfile, connector: 1, transaction: nil)
    }
    try store.db.run(
      """
      INSERT INTO transactions (id, station_id, connector_id, id_tag, authorization_status, meter_start,
        started_at, start_timestamp_raw, received_at) VALUES (3, 1, 1, 'TAG1', 'Accepted', 0, '2026-11-21T11:00:00.000Z', 'x', '2026-11-21T11:00:00.000Z')
      """)
    let payload = try store.setChargingProfilePayload(station: "CP-1", profile: txProfile, connector: 1, transaction: nil)
    #expect(payload["csChargingProfiles"]?["transactionId"] == 3)
    #expect(throws: StoreError.self) {
      try store.setChargingProfilePayload(station: "CP-1", profile: txProfile, connector: 1, transaction: 4)
    }
  }

  @Test func theStationsOwnLimitsAreRespectedWhenKnown() throws {
    let store = try seededStore()
    try store.db.run(
      "INSERT INTO station_configuration (station_id, key, value, readonly, fetched_at) VALUES (1, 'ChargeProfileMaxStackLevel', '0', TRUE, '2026-11-21T11:00:00.000Z')")
    let p = try store.createChargingProfile(profile())
    #expect(throws: StoreError.self) {
      try store.setChargingProfilePayload(station: "CP-1", profile: p, connector: 0, transaction: nil)
    }
  }

  @Test func storedProfilesRoundTrip() throws {
    let store = try seededStore()
    let created = try store.createChargingProfile(
      profile(kind: .recurring, recurrency: "Weekly",
              periods: [SchedulePeriod(startPeriod: 0, limit: 16), SchedulePeriod(startPeriod: 3600, limit: 7.5, numberPhases: 1)],
              start: Timestamp(parsing: "2026-11-23T00:00:00Z")))
    #expect(try store.chargingProfile("p") == created)
    #expect(created.periods.last == SchedulePeriod(startPeriod: 3600, limit: 7.5, numberPhases: 1))
    #expect(throws: StoreError.self) { try store.createChargingProfile(created) }
  }
}

@Suite struct CommandStoreTests {
  @Test func anOfflineStationIsAnImmediateError() throws {
    let store = try seededStore()
    #expect(throws: StoreError.unavailable("station CP-1 is offline (never connected)")) {
      try store.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Soft"])
    }
    let queued = try store.enqueueCommand(
      station: "CP-1", action: "Reset", payload: ["type": "Soft"], queue: true,
      expires: store.clock().adding(seconds: 60))
    #expect(queued.state == .queued)
    #expect(try store.expireIfQueued(queued.id, reason: "test"))
    #expect(try store.command(queued.id).state == .expired)
    #expect(try !store.expireIfQueued(queued.id, reason: "again"))
  }

  @Test func basicOperatorsMayNotUpdateFirmwareButMayReset() throws {
    let store = try seededStore()
    try store.db.run("UPDATE stations SET connected = TRUE, last_seen_at = ?", [store.clock().iso8601])
    store.actor = .operator(try store.createOperator(email: "b@x.io", name: "B", role: .basic, baseGroup: nil, password: nil))
    #expect(throws: StoreError.self) {
      try store.enqueueCommand(station: "CP-1", action: "UpdateFirmware", payload: [:])
    }
    let reset = try store.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Soft"])
    #expect(reset.requestedBy == "b@x.io")
  }

  @Test func outcomesAreReadFromTheAnswer() {
    #expect(CommandOutcome.interpret(action: "Reset", response: ["status": "Accepted"]) == (.accepted, "Accepted"))
    #expect(CommandOutcome.interpret(action: "ChangeAvailability", response: ["status": "Scheduled"]) == (.accepted, "Scheduled"))
    #expect(CommandOutcome.interpret(action: "UnlockConnector", response: ["status": "UnlockFailed"]) == (.rejected, "UnlockFailed"))
    #expect(CommandOutcome.interpret(action: "GetDiagnostics", response: ["fileName": "d.zip"]) == (.accepted, "file d.zip"))
    #expect(CommandOutcome.interpret(action: "UpdateFirmware", response: [:]) == (.accepted, nil))
  }
}
