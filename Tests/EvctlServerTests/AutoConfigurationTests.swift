import EvctlCore
import Testing

@testable import EvctlServer

/// Issue 9 item 17: GetConfiguration after the first accepted boot and after a firmware change.
@Suite struct AutoConfigurationTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func boot(_ central: CentralSystem, firmware: String, id: String) throws {
    _ = try central.handle(
      action: "BootNotification",
      payload: ["chargePointVendor": "V", "chargePointModel": "M", "firmwareVersion": .string(firmware)],
      stationID: 1, identity: "CP-1", at: now)
  }

  func getConfigurations(_ central: CentralSystem) throws -> [RemoteCommand] {
    try central.store.db.query("SELECT id FROM commands WHERE action = 'GetConfiguration' ORDER BY id")
      .map { try central.store.command($0.int("id")!) }
  }

  @Test func theFirstAcceptedBootFetchesTheConfigurationOnce() throws {
    let central = try makeCentral()
    try boot(central, firmware: "1.0", id: "b1")
    let fetched = try getConfigurations(central)
    #expect(fetched.count == 1)
    #expect(fetched.first?.payloadText == "{}")
    #expect(fetched.first?.state == .queued)
    try boot(central, firmware: "1.0", id: "b2")
    #expect(try getConfigurations(central).count == 1, "one on its way is enough")
    // The answer arrives: the snapshot is stored; a reboot with the same firmware fetches nothing.
    let command = try #require(fetched.first)
    _ = try central.store.claimCommand(command.id, messageID: "evctl-\(command.id)", at: now)
    try central.commandFinished(
      command, state: .accepted, status: nil,
      response: ["configurationKey": [["key": "HeartbeatInterval", "readonly": false, "value": "300"]]],
      error: nil, sentAt: now, at: now)
    #expect(try central.store.configurationValue("CP-1", key: "HeartbeatInterval") == "300")
    try boot(central, firmware: "1.0", id: "b3")
    #expect(try getConfigurations(central).count == 1)
    try boot(central, firmware: "2.0", id: "b4")
    #expect(try getConfigurations(central).count == 2, "new firmware: fetch again")
  }

  @Test func anInstalledFirmwareFetchesTheConfigurationAgain() throws {
    let central = try makeCentral()
    try central.store.db.run(
      "INSERT INTO station_configuration (station_id, key, value, readonly, known, fetched_at) VALUES (1, 'HeartbeatInterval', '300', FALSE, TRUE, ?)",
      [now.iso8601])
    _ = try central.handle(action: "FirmwareStatusNotification", payload: ["status": "Downloading"],
                           stationID: 1, identity: "CP-1", at: now)
    #expect(try getConfigurations(central).isEmpty)
    _ = try central.handle(action: "FirmwareStatusNotification", payload: ["status": "installed"],
                           stationID: 1, identity: "CP-1", at: now)
    #expect(try getConfigurations(central).count == 1)
  }

  @Test func pendingStationsAndNoAutoConfigFetchNothing() throws {
    var configuration = ServerConfiguration()
    configuration.autoConfiguration = false
    let off = CentralSystem(store: try makeCentral().store, configuration: configuration)
    try boot(off, firmware: "1.0", id: "b1")
    #expect(try getConfigurations(off).isEmpty)
    let pending = try makeCentral()
    var changes = StationChanges()
    changes.registrationPolicy = .pending
    try pending.store.updateStation("CP-1", changes)
    try boot(pending, firmware: "1.0", id: "b1")
    #expect(try getConfigurations(pending).isEmpty)
  }
}
