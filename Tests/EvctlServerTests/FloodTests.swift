import EvctlCore
import Testing

@testable import EvctlServer

@Suite struct UnknownIdentityFloodTests {
  func attempt(_ central: CentralSystem, _ identity: String) throws -> String {
    let session = ConnectionSession(central: central, now: .now())
    let request = upgradeRequest.replacingOccurrences(of: "/ocpp/CP-1", with: "/ocpp/\(identity)")
    _ = try session.receiveBatch(Array(request.utf8), now: .now())
    return String(decoding: session.takeOutput(), as: UTF8.self)
  }

  @Test func manyUnknownIdentitiesCostBoundedAlarmsEventsAndLog() throws {
    let central = try makeCentral()
    var lines: [String] = []
    central.log = { lines.append($0) }
    var hooked = 0
    central.onAlarm = { _ in hooked += 1 }
    for index in 0..<300 { #expect(try attempt(central, "GHOST-\(index)").hasPrefix("HTTP/1.1 404")) }
    for _ in 0..<50 { _ = try attempt(central, "GHOST-7") }
    try central.everySecond(at: .now())
    let active = try central.store.alarms(active: true)
    #expect(active.count == UnknownIdentities.perInterval + 1)
    #expect(active.first(where: { $0.identity == "GHOST-7" })?.occurrences == 51)
    let summary = try #require(active.first(where: { $0.identity == "*" }))
    #expect(summary.occurrences == 300 - UnknownIdentities.perInterval)
    let events = try central.store.db.queryOne("SELECT count(*) AS n FROM events")?.int("n")
    #expect(events == UnknownIdentities.perInterval + 1)
    #expect(lines.count <= 2 * UnknownIdentities.perInterval + 3)
    #expect(hooked == AlarmThrottle.perMinute)
  }

  @Test func aRealAlarmIsNeverHiddenBehindUnknownIdentities() throws {
    let central = try makeCentral()
    let station = try central.store.station("CP-1")
    let now = Timestamp.now()
    try central.store.raiseAlarm(stationID: station.id, identity: "CP-1", kind: .connectorFaulted,
                                 connectorID: 1, code: "GroundFailure", detail: "RCD", at: now)
    for index in 0..<1_100 {
      try central.store.raiseAlarm(stationID: nil, identity: "X-\(index)", kind: .notRegistered,
                                   detail: nil, at: now)
    }
    #expect(try central.store.alarms(active: true).contains { $0.kind == "connector_faulted" })
    #expect(try central.store.alarms(active: nil, limit: 10).contains { $0.kind == "connector_faulted" })
  }

  @Test func eventsAndClearedAlarmsAreKeptForTheirRetentionOnly() throws {
    let central = try makeCentral()
    let station = try central.store.station("CP-1")
    let old = Timestamp(parsing: "2020-01-01T00:00:00Z")!
    let now = Timestamp.now()
    try central.recordEvent(stationID: station.id, identity: "CP-1", kind: "connected", detail: nil, at: old)
    try central.recordEvent(stationID: station.id, identity: "CP-1", kind: "connected", detail: nil, at: now)
    try central.store.raiseAlarm(stationID: station.id, identity: "CP-1", kind: .offline, detail: nil, at: old)
    try central.store.clearAlarms(stationID: station.id, kind: .offline, at: old)
    try central.store.raiseAlarm(stationID: station.id, identity: "CP-1", kind: .security, detail: nil, at: old)
    try central.store.raiseAlarm(stationID: nil, identity: "GHOST", kind: .notRegistered, detail: nil, at: old)
    try central.pruneMessageLog(at: now)
    try central.everySecond(at: now)
    #expect(try central.store.db.queryOne("SELECT count(*) AS n FROM events")?.int("n") == 1)
    // The old security alarm is active: kept. The quiet unknown identity is cleared, kept a while.
    let left = try central.store.alarms(active: nil).map { "\($0.kind):\($0.isActive)" }.sorted()
    #expect(left == ["not_registered:false", "security:true"])
  }
}

@Suite struct AlarmThrottleTests {
  @Test func theSameAlarmRunsOnceAndRunsAreRateLimited() throws {
    let store = try makeCentral().store
    func alarm(_ identity: String) throws -> Alarm {
      let raised = try store.raiseAlarm(stationID: nil, identity: identity, kind: .security, detail: nil, at: .now())
      try store.clearUnattachedAlarms(identity: identity, kind: .security, at: .now())
      return try #require(raised)
    }
    var throttle = AlarmThrottle()
    let start = Timestamp(milliseconds: 1_000_000_000)
    let first = throttle.admit(try alarm("CP-1"), at: start)
    let flapping = throttle.admit(try alarm("CP-1"), at: start.adding(seconds: 120))
    #expect(first && !flapping)
    var admitted = 0
    for index in 0..<30 where throttle.admit(try alarm("CP-\(index + 2)"), at: start.adding(seconds: 120)) {
      admitted += 1
    }
    #expect(admitted == AlarmThrottle.perMinute)
    let report = throttle.report(at: start.adding(seconds: 200))
    #expect(report?.contains("not run for 21 alarms") == true)
    let later = throttle.admit(try alarm("CP-1"), at: start.adding(seconds: 700))
    #expect(later)
  }
}
