import Testing

@testable import EvctlCore

@Suite struct LocalTimeTests {
  let amsterdam = try! LocalTime(identifier: "Europe/Amsterdam")

  @Test func formatsWithTheOffsetInForce() {
    #expect(amsterdam.format(Timestamp(parsing: "2026-07-01T10:00:00Z")!) == "2026-07-01T12:00:00+02:00")
    #expect(amsterdam.format(Timestamp(parsing: "2026-12-01T10:00:00Z")!) == "2026-12-01T11:00:00+01:00")
  }

  @Test func datesAreLocalMidnightAcrossDST() {
    // Summer time ends on 2026-10-25: that day has 25 hours.
    let start = amsterdam.parse("2026-10-25")!
    let next = amsterdam.parse("2026-10-26")!
    #expect(start.iso8601 == "2026-10-24T22:00:00.000Z")
    #expect(next.iso8601 == "2026-10-25T23:00:00.000Z")
    #expect((next.milliseconds - start.milliseconds) / 3_600_000 == 25)
    // Summer time starts on 2026-03-29: that day has 23 hours.
    #expect((amsterdam.parse("2026-03-30")!.milliseconds - amsterdam.parse("2026-03-29")!.milliseconds) / 3_600_000 == 23)
    #expect(amsterdam.parse("2026-10-25T12:00:00Z")!.iso8601 == "2026-10-25T12:00:00.000Z")
  }

  @Test func bucketsByLocalDayWeekAndMonth() throws {
    let lateEvening = Timestamp(parsing: "2026-10-31T23:30:00Z")!
    #expect(amsterdam.day(lateEvening) == "2026-11-01")
    #expect(amsterdam.month(lateEvening) == "2026-11")
    #expect(amsterdam.week(lateEvening) == "2026-W44")
    #expect(try LocalTime(identifier: nil).day(lateEvening) == "2026-10-31")
    #expect(throws: StoreError.self) { try LocalTime(identifier: "Mars/Olympus") }
  }
}

/// A store with sessions recorded as `serve` records them.
func reportStore() throws -> Store {
  let store = try seededStore()
  try store.createUser(email: "tom@x.io", firstName: "Tom", lastName: "J", group: "HQ")
  try store.addToken(idTag: "TOM1", userEmail: "tom@x.io")
  try store.updateConnector("CP-2", connector: 1, mode: "open")
  func insert(_ id: Int, station: Int, connector: Int, tag: String, token: Int?, start: String, stop: String?,
              meterStart: Int, meterStop: Int?) throws {
    try store.db.run(
      """
      INSERT INTO transactions (id, station_id, connector_id, id_tag, token_id, authorization_status,
        meter_start, started_at, start_timestamp_raw, meter_stop, stopped_at, state, received_at)
      VALUES (?, ?, ?, ?, ?, 'Accepted', ?, ?, ?, ?, ?, ?, ?)
      """,
      [id, station, connector, tag, token, meterStart, start, start, meterStop, stop,
       stop == nil ? "active" : "completed", start])
  }
  // CP-1 (HQ/Floor 1), Eva's card; the night summer time ended, late on the 24th local time.
  try insert(1, station: 1, connector: 1, tag: "TAG1", token: 1, start: "2026-10-24T21:30:00.000Z",
             stop: "2026-10-24T23:30:00.000Z", meterStart: 1000, meterStop: 12_500)
  // CP-1, Tom, missing StopTransaction: energy comes from meter values.
  try insert(2, station: 1, connector: 2, tag: "TOM1", token: 2, start: "2026-10-25T08:00:00.000Z",
             stop: nil, meterStart: 500, meterStop: nil)
  try store.db.run(
    """
    INSERT INTO meter_values (station_id, connector_id, transaction_id, sampled_at, measurand, value,
      numeric_value, unit, energy_wh) VALUES (1, 2, 2, '2026-10-25T09:00:00.000Z',
      'Energy.Active.Import.Register', '4.5', 4.5, 'kWh', 4500)
    """)
  // CP-2 (HQ/Garage), free charging connector: anonymous.
  try insert(3, station: 2, connector: 1, tag: "FREE", token: nil, start: "2026-11-02T10:00:00.000Z",
             stop: "2026-11-02T11:00:00.000Z", meterStart: 0, meterStop: 7000)
  // CP-9 (Elsewhere), started remotely.
  try insert(4, station: 3, connector: 1, tag: "TAG1", token: 1, start: "2026-11-03T10:00:00.000Z",
             stop: "2026-11-03T10:30:00.000Z", meterStart: 0, meterStop: 1000)
  try store.db.run(
    """
    INSERT INTO commands (station_id, action, payload, state, requested_by, created_at, expires_at)
    VALUES (3, 'RemoteStartTransaction', '{"connectorId":1,"idTag":"TAG1"}', 'accepted', 'local',
      '2026-11-03T09:59:30.000Z', '2026-11-03T10:00:00.000Z')
    """)
  return store
}

@Suite struct SessionReportTests {
  func sessions(_ store: Store, _ filter: SessionFilter = SessionFilter()) throws -> [SessionRecord] {
    var out: [SessionRecord] = []
    try store.forEachSession(filter) { out.append($0) }
    return out
  }

  @Test func energyAndAuthorizationPerSession() throws {
    let all = try sessions(try reportStore())
    #expect(all.map(\.id) == [1, 2, 3, 4])
    #expect(all.map(\.energyWh) == [11_500, 4000, 7000, 1000])
    #expect(all.map(\.authorization) == ["rfid", "rfid", "anonymous", "remote"])
    #expect(all[0].groupPath == "HQ/Floor 1")
    #expect(all[1].userEmail == "tom@x.io")
  }

  @Test func filtersByLocalDaysGroupsTokensAndState() throws {
    let store = try reportStore()
    let zone = try LocalTime(identifier: "Europe/Amsterdam")
    let day = SessionFilter(from: zone.parse("2026-10-24"), to: zone.parse("2026-10-25"))
    #expect(try sessions(store, day).map(\.id) == [1])
    #expect(try sessions(store, SessionFilter(group: "HQ")).map(\.id) == [1, 2, 3])
    #expect(try sessions(store, SessionFilter(idTag: "tag1")).map(\.id) == [1, 4])
    #expect(try sessions(store, SessionFilter(userEmail: "tom@x.io")).map(\.id) == [2])
    #expect(try sessions(store, SessionFilter(active: true)).map(\.id) == [2])
  }

  @Test func operatorsSeeOnlyTheirDomainsSessions() throws {
    let store = try reportStore()
    store.actor = .operator(try store.createOperator(email: "g@x.io", name: "G", role: .basic, baseGroup: "HQ/Garage", password: nil))
    #expect(try sessions(store).map(\.id) == [3])
  }
}

@Suite struct AlarmAndTransactionTests {
  @Test func alarmsAreRaisedOnceAndCleared() throws {
    let store = try seededStore()
    let now = store.clock()
    #expect(try store.raiseAlarm(stationID: 1, identity: "CP-1", kind: .connectorFaulted, connectorID: 1, code: "GroundFailure", detail: "x", at: now) != nil)
    #expect(try store.raiseAlarm(stationID: 1, identity: "CP-1", kind: .connectorFaulted, connectorID: 1, code: "GroundFailure", detail: "x", at: now) == nil)
    #expect(try store.raiseAlarm(stationID: 1, identity: "CP-1", kind: .connectorFaulted, connectorID: 2, detail: "y", at: now) != nil)
    #expect(try store.alarms(active: true).count == 2)
    #expect(try store.clearAlarms(stationID: 1, kind: .connectorFaulted, connectorID: 1, at: now) == 1)
    let remaining = try store.alarms(active: true)
    #expect(remaining.map(\.connectorID) == [2])
    let acked = try store.acknowledgeAlarm(remaining[0].id)
    #expect(acked.acknowledgedBy == "local" && acked.isActive)
    #expect(try store.alarms(active: nil).count == 2)
  }

  @Test func ghostTransactionsAreFoundAndClosedWithoutInventingData() throws {
    let store = try reportStore()
    try store.db.run("UPDATE connectors SET status = 'Available', status_at = '2026-10-25T10:00:00.000Z' WHERE station_id = 1 AND connector_id = 2")
    #expect(try store.stuckTransactionIDs() == [2])
    try store.closeTransaction(2, reason: "station forgot")
    let row = try #require(try store.db.queryOne("SELECT * FROM transactions WHERE id = 2"))
    #expect(row.string("state") == "closed_by_operator")
    #expect(row.string("closed_by") == "local")
    #expect(row.int("meter_stop") == nil)
    #expect(throws: StoreError.self) { try store.closeTransaction(2, reason: "again") }
    #expect(try store.stuckTransactionIDs().isEmpty)
  }
}
