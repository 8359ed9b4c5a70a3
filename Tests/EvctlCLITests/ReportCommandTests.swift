import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// Reports through the CLI over recorded sessions, checked against golden files.
///
/// Re-record with `EVCTL_RECORD=1 swift test --filter ReportCommandTests`.
@Suite struct ReportCommandTests {
  func seeded() throws -> Sandbox {
    let box = try Sandbox()
    box.run("group create HQ --kind site")
    box.run("station create CP-1 --name 'Gate, north' --group HQ --connectors 2")
    box.run("user create eva@x.io --first Eva --last Berg")
    box.run("token add TAG1 --user eva@x.io")
    let store = try box.openStore()
    for (id, start, stop, meterStop) in [
      (1, "2026-10-24T21:30:00.000Z", "2026-10-24T23:30:00.000Z", 12_500),
      (2, "2026-10-25T08:00:00.000Z", "2026-10-25T09:15:00.000Z", 3_000),
      (3, "2026-11-01T07:00:00.000Z", "2026-11-01T08:00:00.000Z", 9_999),
    ] {
      try store.db.run(
        """
        INSERT INTO transactions (id, station_id, connector_id, id_tag, token_id, authorization_status,
          meter_start, started_at, start_timestamp_raw, meter_stop, stopped_at, stop_reason, state, received_at)
        VALUES (?, 1, 1, 'TAG1', 1, 'Accepted', 1000, ?, ?, ?, ?, 'EVDisconnected', 'completed', ?)
        """, [id, start, start, meterStop, stop, start])
    }
    return box
  }

  func golden(_ name: String, _ actual: String) throws {
    let path = repositoryRoot + "/Tests/EvctlCLITests/Fixtures/" + name
    if ProcessInfo.processInfo.environment["EVCTL_RECORD"] == "1" {
      try actual.write(toFile: path, atomically: true, encoding: .utf8)
      return
    }
    let expected = try String(contentsOfFile: path, encoding: .utf8)
    #expect(actual == expected, "\(name) differs; re-record with EVCTL_RECORD=1 if the change is intended")
  }

  @Test func sessionsAsCSVInALocalTimeZone() throws {
    let box = try seeded()
    let result = box.run("report sessions --tz Europe/Amsterdam -o csv")
    #expect(result.code == .success, "\(result.err)")
    try golden("sessions-amsterdam.csv", result.out)
  }

  @Test func energyPerLocalDayAcrossTheEndOfSummerTime() throws {
    let box = try seeded()
    let result = box.run("report energy --by day --tz Europe/Amsterdam -o csv")
    try golden("energy-by-day-amsterdam.csv", result.out)
    let utc = box.run("report energy --by day -o json")
    let days = try JSONValue.parse(utc.out).arrayValue?.compactMap { $0["day"]?.stringValue }
    #expect(days == ["2026-10-24", "2026-10-25", "2026-11-01", "total"])
  }

  @Test func anonymousReportsLeaveOutPeople() throws {
    let box = try seeded()
    let out = box.run("report sessions --anonymous -o json").out
    #expect(!out.contains("eva@x.io") && !out.contains("TAG1"))
  }

  @Test func statusIsAMonitoringCheck() throws {
    let box = try seeded()
    let json = try JSONValue.parse(box.run("status -o json").out)
    #expect(json["stations"]?["never_connected"] == 1)
    #expect(json["stations"]?["total"] == 1)
    #expect(json["active_alarms"] == [])
  }

  @Test func badTimeZonesAndTimesAreUsageOrDataErrors() throws {
    let box = try seeded()
    #expect(box.run("report sessions --tz Mars/Base").code == .usage)
    #expect(box.run("report sessions --from someday").code == .usage)
    #expect(box.run("report sessions --from 2026-02-30").code == .usage)
    #expect(box.run("report energy --by decade").code == .usage)
  }
}
