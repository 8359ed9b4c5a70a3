import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// Times people type and read, exact machine output, escaping, `-o`, and error lines
/// (issue 10 items 1, 2, 3, 6, 7, 12, 13, 16; issue 11 item 4's CLI inputs).
@Suite struct TimeAndOutputTests {
  func provisioned() throws -> Sandbox {
    let box = try Sandbox()
    box.run("group create HQ --kind site")
    box.run("station create CP-001 --name Gate --group HQ --connectors 2")
    box.run("user create eva@x.io --first Eva --last Berg")
    box.run("token add TAG1 --user eva@x.io")
    return box
  }

  func sql(_ box: Sandbox, _ text: String, _ values: [any SQLiteBindable] = []) throws {
    let store = try box.openStore()
    _ = try store.db.run(text, values)
  }

  @Test func everyTimeOptionSaysWhichWayItPoints() {
    var checked = 0
    for (path, command) in Commands.root.walk() {
      for option in command.arguments where option.kind == .option && option.valueName == "time" {
        checked += 1
        #expect(option.help.contains("points into the past") || option.help.contains("points into the future"),
                "\(path.joined(separator: " ")) --\(option.name): \(option.help)")
      }
    }
    #expect(checked > 10)
  }

  @Test func sinceCountsBackFromNow() throws {
    let box = try provisioned()
    let now = Timestamp.now()
    for (kind, ago) in [("old", Int64(3 * 3600)), ("recent", Int64(1800))] {
      try sql(box, "INSERT INTO events (station_id, identity, kind, detail, at) VALUES (1, 'CP-001', ?, '', ?)",
              [kind, now.adding(seconds: -ago).iso8601])
    }
    for line in ["event list --since 1h -o json", "event list --since -1h -o json", "station events CP-001 --since 1h -o json"] {
      let result = box.run(line)
      #expect(result.code == .success, "\(line): \(result.err)")
      let kinds = try JSONValue.parse(Array(result.out.utf8)).arrayValue?.compactMap { ($0["kind"] ?? $0["event"])?.stringValue }
      #expect(kinds == ["recent"], "\(line): \(result.out)")
    }
    #expect(box.run("event list --since 1h30m -o json").out.contains("recent"))
    #expect(box.run("event list --since yesterday -o json").out.contains("old"))
    #expect(box.run("event list --since +1h -o json").out == "[]\n")
  }

  @Test func deadlinesPointIntoTheFuture() throws {
    let box = try provisioned()
    let suspend = box.run("group suspend HQ --until 18:00")
    #expect(suspend.code == .success, "\(suspend.err)")
    let store = try box.openStore()
    let until = try store.db.queryOne("SELECT until FROM group_suspensions")?.string("until") ?? ""
    let time = try #require(Timestamp(parsing: until))
    #expect(until.hasSuffix("T18:00:00.000Z"))
    #expect(time > Timestamp.now() && time.milliseconds - Timestamp.now().milliseconds <= 86_400_000)
    #expect(box.run("token add TAG2 --user eva@x.io --valid-to 365d").code == .success)
    let validTo = try #require(try store.token("TAG2").validTo)
    let days = (validTo.milliseconds - Timestamp.now().milliseconds) / 86_400_000
    #expect(days == 364 || days == 365)
    #expect(box.run("token add TAG3 --user eva@x.io --valid-from -2h --valid-to +2h").code == .success)
    #expect(try store.token("TAG3").validFrom! < Timestamp.now())
    for line in ["report sessions --from 7d", "report sessions --from yesterday --to -1h",
                 "report sessions --from 2026-11-01 --tz Europe/Amsterdam", "--tz Asia/Tokyo event list --since 08:00",
                 "report energy --by day --from 2026-11-01T06:00:00+01:00"] {
      let result = box.run(line)
      #expect(result.code == .success, "\(line): \(result.err)")
    }
    #expect(box.run("event list --tz Mars/Base").code == .usage)
  }

  @Test func impossibleDatesAreRefusedNamingTheOption() throws {
    let box = try provisioned()
    for (line, words) in [
      ("token add TAG9 --user eva@x.io --valid-to 2026-02-30", "'--valid-to': day 30 does not exist: February 2026 has 28 days"),
      ("token add TAG9 --user eva@x.io --valid-to 2026-12-31T23:59:60", "'--valid-to': second 60 does not exist"),
      ("group suspend HQ --until 24:00", "'--until': hour 24 does not exist"),
      ("report sessions --from 2026-13-01", "'--from': month 13 does not exist"),
    ] {
      let result = box.run(line)
      #expect(result.code == .usage, "\(line)")
      #expect(result.err.contains(words), "\(line): \(result.err)")
    }
    #expect(box.run("token show TAG9").code == .notFound)
    let csv = box.directory + "/tokens.csv"
    try "id_tag,user,valid_to\nTAG8,eva@x.io,2026-02-30\n".write(toFile: csv, atomically: true, encoding: .utf8)
    let imported = box.run("token import \(csv)")
    #expect(imported.code == .dataError && imported.err.contains(":2: ") && imported.err.contains("February 2026 has 28 days"),
            "\(imported.err)")
  }

  @Test func hugeNumbersOnTheCommandLineAreUsageErrors() throws {
    let box = try provisioned()
    for line in ["token add TAG9 --user eva@x.io --valid-to 99999999999999999d",
                 "operator token create --name x --expires 99999999999999w",
                 "serve --listen 127.0.0.1:0 --message-log-retention 99999999999999w",
                 "reservation create --station CP-001 --connector 1 --id-tag TAG1 --expires 99999999999999w",
                 "group capacity set HQ --max-current 32 --alternate-every 99999999999999w", "serve --listen 127.0.0.1:0 --ping-interval 999999999999999999"] {
      let result = box.run(line)
      #expect(result.code == .usage, "\(line): \(result.err)")
      #expect(result.err.contains("too long") || result.err.contains("must be 1 to 86400"), "\(line): \(result.err)")
    }
  }

  @Test func tablesShowTimesForPeopleMachineFormatsExactly() throws {
    let box = try provisioned()
    box.run("token add TAG2 --user eva@x.io --valid-to 2h")
    let table = box.run("token list --color never", tty: true).out
    #expect(table.contains("in 1h59m") || table.contains("in 2h"), "\(table)")
    let wide = box.run("token list -o wide", tty: true).out
    #expect(!wide.contains(" in ") && wide.contains("Z "), "\(wide)")
    try sql(box, """
      INSERT INTO transactions (id, station_id, connector_id, id_tag, token_id, authorization_status,
        meter_start, started_at, start_timestamp_raw, meter_stop, stopped_at, stop_reason, state, received_at)
      VALUES (1, 1, 1, 'TAG1', 1, 'Accepted', 1000, '2026-10-25T08:00:00.000Z', '2026-10-25T08:00:00Z', 13345,
        '2026-10-25T09:30:00.000Z', 'Local', 'completed', '2026-10-25T08:00:00.000Z')
      """)
    let sessions = box.run("report sessions --color never", tty: true).out
    #expect(sessions.contains("2026-10-25 08:00") && sessions.contains("1h30m") && sessions.contains("12.35"), "\(sessions)")
    let csv = box.run("report sessions -o csv").out
    #expect(csv.contains(",5400,12.345,CP-001,") && csv.contains(",12345,\r\n"), "\(csv)")
    #expect(csv.contains("2026-10-25T08:00:00+00:00"))
    let json = try JSONValue.parse(Array(box.run("report sessions -o json").out.utf8))
    #expect(json[0]?["energy_kwh"] == .double(12.345))
    #expect(json[0]?["energy_wh"] == .int(12_345))
    let listed = try JSONValue.parse(Array(box.run("transaction list -o json").out.utf8))
    #expect(listed[0]?["energy_kwh"] == .double(12.345) && listed[0]?["energy_wh"] == .int(12_345))
    let energy = try JSONValue.parse(Array(box.run("report energy --by station -o json").out.utf8))
    #expect(energy[0]?["energy_kwh"] == .double(12.345) && energy[0]?["energy_wh"] == .int(12_345))
  }

  @Test func defaultStationListFitsEightyColumns() throws {
    let box = try provisioned()
    box.run("group create 'Parking garage north, level minus two' --kind site")
    box.run("station create CP-002 --name 'The very long name of the charger at the north gate' --group 'Parking garage north, level minus two'")
    let table = box.run("station list --color never", tty: true).out
    for line in table.split(separator: "\n") { #expect(line.count <= 80, "\(line.count): \(line)") }
    #expect(table.contains("…") && table.contains("CP-002"))
    #expect(box.run("station list -o wide", tty: true).out.contains("The very long name of the charger at the north gate"))
  }

  @Test func controlCharactersAreEscapedOnTerminalsAndInTSV() throws {
    let box = try provisioned()
    let hostile = "Evil\u{1B}]0;title\u{07}\u{1B}[2J"
    #expect(box.run("station create CP-666 --name '\(hostile)'").code == .success)
    for line in ["station list", "station list -o wide", "station show CP-666", "group tree"] {
      let out = box.run(line + " --color never", tty: true, env: ["COLUMNS": "200"]).out
      #expect(!out.contains("\u{1B}") && !out.contains("\u{07}"), "\(line)")
      #expect(out.contains("Evil\\x1b]0;title\\x07\\x1b[2J"), "\(line): \(out)")
    }
    #expect(!box.run("station list -o tsv").out.contains("\u{1B}"))
    #expect(box.run("station list -o json").out.contains("Evil\\u001b]0;title\\u0007\\u001b[2J"))
  }

  @Test func tsvHasTheWideColumnsInOrderAndHeadersOnRequest() throws {
    let box = try provisioned()
    box.run("token add TAG2 --user eva@x.io")
    #expect(box.run("station list -o tsv --headers").out.hasPrefix(
      "identity\tname\tgroup\tstate\tconnectors\tlast_seen_at\tid\tdescription\tavailability\tregistration_policy\t"
        + "registration_status\theartbeat_interval\thas_password\tvendor\tmodel\tserial_number\tcharge_box_serial_number\t"
        + "firmware_version\ticcid\timsi\tmeter_type\tmeter_serial_number\tlast_boot_at\tcreated_at\t"
        + "updated_at\taddress\tlatitude\tlongitude\texternal_id\tuuid\tmax_current\tsecurity_profile\n"))
    #expect(!box.run("station list -o tsv").out.hasPrefix("identity"))
    #expect(box.run("report sessions --headers").out.hasPrefix(
      "id\tstart\tend\tduration_s\tenergy_kwh\tstation\tstation_name\tconnector\tgroup\tauthorization\t"
        + "id_tag\tuser\tmeter_start_wh\tmeter_stop_wh\tstop_reason\tstate\treceived_at\tenergy_wh\timplausible\n"))
    for command in ["station list", "token list", "user list", "group list", "operator list", "alarm list",
                    "event list", "command list", "transaction list", "report sessions"] {
      let tsv = box.run("\(command) -o tsv --headers").out.split(separator: "\n", omittingEmptySubsequences: false)
      let wide = box.run("\(command) -o wide").out.split(separator: "\n").first.map(String.init) ?? ""
      let keys = tsv.first.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) } ?? []
      #expect(keys.map { $0.replacingOccurrences(of: "_", with: " ").uppercased() }
        == wide.components(separatedBy: "  ").filter { !$0.isEmpty }.map { $0.trimmingCharacters(in: .whitespaces) },
        "\(command)")
      for row in tsv.dropFirst() where !row.isEmpty {
        #expect(row.split(separator: "\t", omittingEmptySubsequences: false).count == keys.count, "\(command): \(row)")
      }
    }
  }

  @Test func outputFormatsAreHonouredOrRefused() throws {
    let box = try provisioned()
    for line in ["status -o csv", "status -o tsv", "group tree -o csv", "token export -o json", "token export -o table"] {
      let result = box.run(line)
      #expect(result.code == .usage, "\(line)")
      #expect(result.out.isEmpty && result.err.hasPrefix("error: "), "\(line): \(result.err)")
    }
    #expect(box.run("status -o json").code == .success)
    #expect(box.run("token export").out.hasPrefix("id_tag"))
    let csv = box.run("report energy --by day --chart -o csv")
    #expect(csv.code == .success && !csv.out.contains("█"), "\(csv.out)")
    let table = box.run("report energy --by day --chart -o table")
    #expect(table.code == .success)
  }

  @Test func failuresAlwaysWriteOneErrorLineEvenQuiet() throws {
    let box = try provisioned()
    for line in ["-q station show NOPE", "-q station reset CP-001", "-q -o json station reset CP-001",
                 "-q reservation create --station CP-001 --connector 1 --id-tag TAG1 --expires 30m -o json",
                 "-q local-list push --station CP-001"] {
      let result = box.run(line)
      #expect(result.code != .success, "\(line)")
      #expect(result.err.split(separator: "\n").contains { $0.hasPrefix("error: ") }, "\(line): \(result.err)")
    }
    let created = box.run("group create Depot -o json")
    #expect((try? JSONValue.parse(Array(created.out.utf8))) != nil, "\(created.out)")
  }

  /// Fields in one CSV line, counting commas outside quotes.
  static func csvFields(_ line: Substring) -> Int {
    var count = 1
    var quoted = false
    for c in line {
      if c == "\"" { quoted.toggle() } else if c == ",", !quoted { count += 1 }
    }
    return count
  }

  @Test func everyCommandHonoursOrRefusesEachFormat() throws {
    let box = try provisioned()
    try sql(box, """
      INSERT INTO transactions (id, station_id, connector_id, id_tag, token_id, authorization_status,
        meter_start, started_at, start_timestamp_raw, meter_stop, stopped_at, stop_reason, state, received_at)
      VALUES (1, 1, 1, 'TAG1', 1, 'Accepted', 1000, '2026-10-25T08:00:00.000Z', '2026-10-25T08:00:00Z', 13345,
        '2026-10-25T09:30:00.000Z', 'Local', 'completed', '2026-10-25T08:00:00.000Z')
      """)
    let commands = [
      "station list", "station show CP-001", "station events CP-001", "group list", "group show HQ", "group tree",
      "token list", "token show TAG1", "token export", "user list", "user show eva@x.io", "operator list",
      "alarm list", "event list", "command list", "transaction list", "transaction show 1", "report sessions",
      "report energy --by day", "report energy --by day --chart", "status", "version", "whoami", "db path",
      "local-list show CP-001", "profile list", "reservation list",
    ]
    for command in commands {
      for format in OutputFormat.allCases {
        let line = "\(command) -o \(format.rawValue)"
        let result = box.run(line)
        if result.code == .usage {
          #expect(result.err.contains("cannot print -o \(format.rawValue)") && result.out.isEmpty, "\(line): \(result.err)")
          continue
        }
        #expect(result.code == .success, "\(line): \(result.err)")
        switch format {
        case .json:
          #expect((try? JSONValue.parse(Array(result.out.utf8))) != nil, "\(line): \(result.out)")
        case .csv:
          let lines = result.out.split(separator: "\r\n")
          let widths = Set(lines.map(Self.csvFields))
          #expect(widths.count <= 1, "\(line): \(result.out)")
        case .tsv:
          let widths = Set(result.out.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).count })
          #expect(widths.count <= 1, "\(line): \(result.out)")
        case .table, .wide: break
        }
      }
    }
  }
}
