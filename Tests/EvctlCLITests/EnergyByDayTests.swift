import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// `report energy --by day` folded in one pass (``Store/energyByDay(_:zone:)``); these check it gives
/// what the per-session loop gives (which `--chart` still takes), across the end of summer time,
/// with implausible readings and energy from meter values, on either backend.
@Suite struct EnergyByDayTests {
  func seeded() throws -> Sandbox {
    let box = try Sandbox()
    for line in [
      "group create HQ --kind site", "station create CP-1 --name One --group HQ --connectors 2",
      "station create CP-2 --name Two --connectors 1", "user create eva@x.io --first Eva --last Berg",
      "token add TAG1 --user eva@x.io",
    ] {
      let result = box.run(line)
      #expect(result.code == .success, "\(line): \(result.err)")
    }
    let store = try box.openStore()
    // (id, station, connector, start, stop, meter start, meter stop)
    let rows: [(Int, Int, Int, String, String, Int, Int?)] = [
      (1, 1, 1, "2026-10-24T21:30:00.000Z", "2026-10-24T23:30:00.000Z", 1000, 12_500),
      (2, 1, 2, "2026-10-24T22:30:00.250Z", "2026-10-24T23:00:00.000Z", 1000, 3_000),
      (3, 2, 1, "2026-10-25T00:30:00.000Z", "2026-10-25T02:00:00.999Z", 500, 900),
      (4, 1, 1, "2026-10-25T23:30:00.000Z", "2026-10-26T01:00:00.000Z", 9_000, 100),
      (5, 2, 1, "2026-11-01T07:00:00.000Z", "2026-11-01T08:00:00.000Z", 1000, nil),
      (6, 1, 2, "2026-11-01T07:30:00.000Z", "2026-11-01T08:30:00.000Z", 0, 20_000_000),
      (7, 1, 1, "2026-11-01T09:00:00.000Z", "2026-11-01T10:00:00.000Z", 2000, 2750),
    ]
    for (id, station, connector, start, stop, meterStart, meterStop) in rows {
      try store.db.run(
        """
        INSERT INTO transactions (id, station_id, connector_id, id_tag, token_id, authorization_status,
          meter_start, started_at, start_timestamp_raw, meter_stop, stopped_at, stop_reason, state, received_at)
        VALUES (?, ?, ?, 'TAG1', 1, 'Accepted', ?, ?, ?, ?, ?, 'EVDisconnected', 'completed', ?)
        """, [id, station, connector, meterStart, start, start, meterStop, stop, start])
    }
    try store.db.run(
      """
      INSERT INTO meter_values (station_id, connector_id, transaction_id, sampled_at, measurand, value, energy_wh)
      VALUES (2, 1, 5, '2026-11-01T07:30:00.000Z', 'Energy.Active.Import.Register', '2500', 2500.5)
      """)
    return box
  }

  @Test func daySumsEqualThePerSessionLoop() throws {
    let box = try seeded()
    let store = try box.openStore()
    for zone in [nil, "Europe/Amsterdam", "America/St_Johns", "Asia/Kolkata"] {
      #expect(try store.energyByDay(SessionFilter(), zone: LocalTime(identifier: zone)) != nil)
      for extra in ["", " --station CP-1", " --from 2026-10-25 --to 2026-11-01T08:00:00Z", " --station CP-2"] {
        let tz = zone.map { " --tz \($0)" } ?? ""
        for format in ["csv", "json"] {
          let sql = box.run("report energy --by day\(tz)\(extra) -o \(format)")
          // --chart takes the per-session loop; with -o csv or json the chart goes to stderr.
          let loop = box.run("report energy --by day --chart\(tz)\(extra) -o \(format)")
          #expect(sql.code == .success && loop.code == .success, "\(sql.err) \(loop.err)")
          #expect(sql.out == loop.out, "\(tz)\(extra) -o \(format)")
          #expect(sql.err == loop.err.split(separator: "\n").filter { $0.hasPrefix("warning") }.map { $0 + "\n" }.joined())
        }
      }
    }
    let days = try JSONValue.parse(box.run("report energy --by day --tz Europe/Amsterdam -o json").out)
      .arrayValue?.compactMap { $0["day"]?.stringValue }
    #expect(days == ["2026-10-24", "2026-10-25", "2026-10-26", "2026-11-01", "total"])
    #expect(box.run("report energy --by day -o csv").err.contains("2 session(s) with implausible"))
  }

  /// A large SQLite store is scanned in two halves of the id range on two connections at once;
  /// the sums are those of one scan, whatever half a day's sessions fall in.
  @Test func twoReadersSumWhatOneReaderSums() throws {
    let box = try seeded()
    let store = try box.openStore()
    func summary(_ sums: DayEnergy?) -> [String] {
      guard let sums else { return ["nil"] }
      return sums.rows.map { "\($0.day) \($0.sessions) \($0.energyWh) \($0.connectors) \($0.durationSeconds)" }
        + sums.implausible.map { "\($0.id) \($0.reason)" } + ["\(sums.connectors)"]
    }
    for zone in [nil, "Europe/Amsterdam", "Asia/Kolkata"] {
      for station in [nil, "CP-1"] {
        var filter = SessionFilter()
        if let station { filter.stations = [station] }
        let one = summary(try store.energyByDay(filter, zone: LocalTime(identifier: zone), readers: 1))
        let two = summary(try store.energyByDay(filter, zone: LocalTime(identifier: zone), readers: 2))
        #expect(one == two, "\(zone ?? "UTC")")
        #expect(one.count > 2)
      }
    }
  }
}
