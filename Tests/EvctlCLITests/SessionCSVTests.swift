import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// `report sessions -o csv` writes each row straight from the store's buffers; these check that
/// it writes the same bytes as its declared columns through ``CSVWriter`` on awkward values
/// (quotes, commas, line breaks, formula prefixes, non-ASCII, NULLs, implausible readings),
/// on either backend.
@Suite struct SessionCSVTests {
  func seeded() throws -> Sandbox {
    let box = try Sandbox()
    for line in [
      "group create HQ --kind site", "station create CP-1 --name 'Gate, \"north\"' --group HQ --connectors 2",
      "station create CP-2 --name '=HYPERLINK(1)' --connectors 1", "user create eva@x.io --first Eva --last Berg",
      "token add TAG1 --user eva@x.io",
    ] {
      let result = box.run(line)
      #expect(result.code == .success, "\(line): \(result.err)")
    }
    let store = try box.openStore()
    try store.db.run("UPDATE stations SET name = ? WHERE identity = 'CP-2'", ["Zürich\nBahnhof -1"])
    let rows: [(Int, Int, String, String?, Int, Int?, String?, String, String?)] = [
      (1, 1, "2026-10-24T21:30:00.000Z", "2026-10-24T23:30:00.000Z", 1000, 12_500, "EVDisconnected", "TAG1", "eva@x.io"),
      (2, 2, "2026-10-25T08:00:00.123Z", nil, 1000, nil, nil, "+ABC,1", nil),
      (3, 1, "2026-11-01T07:00:00.000Z", "2026-11-01T08:00:00.000Z", 9_999, 5, "Other \"x\"", "-12", "=x@y.z"),
      (4, 2, "2026-11-02T07:00:00.000Z", "2026-11-01T08:00:00.000Z", -5, 7, "@Local", "Ärger", "ü@x.io"),
    ]
    for (id, station, start, stop, meterStart, meterStop, reason, tag, user) in rows {
      try store.db.run(
        """
        INSERT INTO transactions (id, station_id, connector_id, id_tag, token_id, authorization_status,
          meter_start, started_at, start_timestamp_raw, meter_stop, stopped_at, stop_reason, state, received_at, user_email)
        VALUES (?, ?, 1, ?, ?, 'Accepted', ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [id, station, tag, id == 1 ? 1 : nil, meterStart, start, start, meterStop, stop, reason,
         stop == nil ? "active" : "completed", start, user])
    }
    return box
  }

  @Test(arguments: [false, true]) func rowsWrittenInPlaceEqualTheColumns(anonymous: Bool) throws {
    let box = try seeded()
    let store = try box.openStore()
    let now = store.clock()
    for zoneName in [nil, "Europe/Amsterdam", "America/St_Johns"] {
      let zone = try LocalTime(identifier: zoneName)
      let columns = Commands.sessionColumns(zone: zone, now: now, anonymous: anonymous)
      var groupFields: [Int: [UInt8]] = [:]
      var count = 0
      try store.forEachSessionRow(SessionFilter()) { row in
        var fast: [UInt8] = []
        Commands.writeSessionCSV(row, to: &fast, zone: zone, now: now, anonymous: anonymous, groupFields: &groupFields)
        let record = row.record
        let expected = CSVWriter.line(columns.map { $0.value(record) ?? "" }) + "\r\n"
        #expect(String(decoding: fast, as: UTF8.self) == expected, "session \(row.id) in \(zoneName ?? "UTC")")
        count += 1
      }
      #expect(count == 4)
    }
  }

  @Test func theCommandsCSVIsTheColumnsCSV() throws {
    let box = try seeded()
    // Finished sessions only: an active one's duration runs with the clock.
    let result = box.run("report sessions --tz Europe/Amsterdam --completed -o csv")
    #expect(result.code == .success, "\(result.err)")
    let store = try box.openStore()
    let zone = try LocalTime(identifier: "Europe/Amsterdam")
    let columns = Commands.sessionColumns(zone: zone, now: store.clock(), anonymous: false)
    var expected = CSVWriter.line(columns.map(\.key)) + "\r\n"
    var completed = SessionFilter()
    completed.active = false
    try store.forEachSession(completed) { record in
      expected += CSVWriter.line(columns.map { $0.value(record) ?? "" }) + "\r\n"
    }
    #expect(result.out == expected)
    #expect(result.out.contains("'=x@y.z") && result.out.contains("\"Gate, \"\"north\"\"\""))
  }
}
