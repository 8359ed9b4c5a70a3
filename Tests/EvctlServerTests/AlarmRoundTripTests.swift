import EvctlCore
import Testing

@testable import EvctlServer

/// A non-Faulted StatusNotification clears the connector's `connector_faulted` alarm, but runs the
/// clearing UPDATE only while one may be active (issue 14, PostgreSQL throughput: it was a round
/// trip for about every other CALL).
@Suite struct AlarmRoundTripTests {
  let now = Timestamp(parsing: "2026-12-04T12:00:00Z")!

  func status(_ central: CentralSystem, _ value: String, connector: Int = 1) throws -> Int {
    let before = central.store.statementsRun
    _ = try central.store.atomically {
      try central.handle(
        action: "StatusNotification",
        payload: ["connectorId": .int(Int64(connector)), "status": .string(value),
                  "errorCode": .string(value == "Faulted" ? "GroundFailure" : "NoError")],
        stationID: 1, identity: "CP-1", at: now)
    }
    return central.store.statementsRun - before
  }

  func faulted(_ central: CentralSystem) throws -> Int {
    try central.store.alarms(active: true).filter { $0.kind == "connector_faulted" }.count
  }

  @Test func theClearingUpdateRunsOnlyWhileAFaultAlarmMayBeActive() throws {
    let central = try makeCentral()
    _ = try central.store.atomically {
      try central.handle(action: "BootNotification", payload: ["chargePointVendor": "V", "chargePointModel": "M"],
                         stationID: 1, identity: "CP-1", at: now)
    }
    _ = try status(central, "Faulted")
    #expect(try faulted(central) == 1)
    let clearing = try status(central, "Available")
    #expect(try faulted(central) == 0)
    let known = try status(central, "Available")
    #expect(known == clearing - 1, "the second Available skips the UPDATE")
    #expect(try status(central, "Charging") < clearing, "nor does Charging")
    // Faulted again: the next Available clears it again.
    _ = try status(central, "Faulted")
    #expect(try faulted(central) == 1)
    #expect(try status(central, "Available") == clearing)
    #expect(try faulted(central) == 0)
    // Another connector has its own knowledge.
    #expect(try status(central, "Available", connector: 2) == clearing)
  }

  @Test func aReconnectForgetsWhatWasKnown() throws {
    let central = try makeCentral()
    _ = try central.store.atomically {
      try central.handle(action: "BootNotification", payload: ["chargePointVendor": "V", "chargePointModel": "M"],
                         stationID: 1, identity: "CP-1", at: now)
    }
    _ = try status(central, "Available")
    // An alarm this node did not see raised (another node held the station meanwhile).
    try central.store.raiseAlarm(stationID: 1, identity: "CP-1", kind: .connectorFaulted, connectorID: 1,
                                 code: "GroundFailure", detail: "elsewhere", at: now)
    try central.store.atomically { try central.connected(stationID: 1, identity: "CP-1", replaced: false, at: now) }
    _ = try status(central, "Available")
    #expect(try faulted(central) == 0)
  }

  @Test func aRolledBackBatchForgetsWhatWasKnown() throws {
    let central = try makeCentral()
    _ = try central.store.atomically {
      try central.handle(action: "BootNotification", payload: ["chargePointVendor": "V", "chargePointModel": "M"],
                         stationID: 1, identity: "CP-1", at: now)
    }
    try central.store.raiseAlarm(stationID: 1, identity: "CP-1", kind: .connectorFaulted, connectorID: 1,
                                 code: "GroundFailure", detail: "RCD", at: now)
    struct Abort: Error {}
    #expect(throws: Abort.self) {
      try central.store.atomically {
        _ = try central.handle(
          action: "StatusNotification",
          payload: ["connectorId": 1, "status": "Available", "errorCode": "NoError"],
          stationID: 1, identity: "CP-1", at: now)
        throw Abort()
      }
    }
    central.discardPendingWrites()
    #expect(try faulted(central) == 1, "the clearing was rolled back")
    _ = try status(central, "Available")
    #expect(try faulted(central) == 0)
  }
}
