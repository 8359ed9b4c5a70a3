import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// Repeatable filters (OR within one option, AND across options) and the single-value rule.
@Suite struct FilterTests {
  /// Three stations in two sites; sessions of different lengths, energies, connectors and tokens.
  func seeded() throws -> Sandbox {
    let box = try Sandbox()
    box.run("group create HQ --kind site")
    box.run("group create Depot --kind site")
    box.run("station create CP-A --name A --group HQ --connectors 2")
    box.run("station create CP-B --name B --group HQ --connectors 2")
    box.run("station create CP-C --name C --group Depot")
    box.run("user create eva@x.io --first Eva --last Berg")
    box.run("user create max@x.io --first Max --last Berg")
    box.run("token add TAG1 --user eva@x.io")
    box.run("token add TAG2 --user max@x.io")
    let store = try box.openStore()
    // id, station, connector, tag, token id, start, minutes, Wh
    let rows: [(Int, Int, Int, String, Int?, String, Int, Int)] = [
      (1, 1, 1, "TAG1", 1, "2026-11-01T07:00:00.000Z", 60, 12_000),
      (2, 2, 2, "TAG2", 2, "2026-11-01T08:00:00.000Z", 10, 300),
      (3, 3, 1, "TAG1", 1, "2026-11-01T09:00:00.000Z", 120, 5_000),
      (4, 2, 1, "FREE", nil, "2026-11-01T10:00:00.000Z", 30, 2_000),
    ]
    for (id, station, connector, tag, token, start, minutes, wh) in rows {
      let begin = Timestamp(parsing: start)!
      let stop = begin.adding(seconds: Int64(minutes * 60)).iso8601
      try store.db.run(
        """
        INSERT INTO transactions (id, station_id, connector_id, id_tag, token_id, authorization_status,
          meter_start, started_at, start_timestamp_raw, meter_stop, stopped_at, stop_reason, state, received_at)
        VALUES (?, ?, ?, ?, ?, 'Accepted', 1000, ?, ?, ?, ?, 'EVDisconnected', 'completed', ?)
        """, [id, station, connector, tag, token, start, start, 1000 + wh, stop, start])
    }
    return box
  }

  func ids(_ box: Sandbox, _ line: String) -> [String] {
    let result = box.run(line + " -o csv --no-headers")
    #expect(result.code == .success, "\(line): \(result.err)")
    return result.out.split(whereSeparator: \.isNewline).map { String($0.split(separator: ",")[0]) }
  }

  @Test func repeatedReportFiltersAreOredWithinAndAndedAcross() throws {
    let box = try seeded()
    #expect(ids(box, "report sessions --station CP-A --station CP-C") == ["1", "3"])
    #expect(ids(box, "report sessions --token TAG1 --token TAG2") == ["1", "2", "3"])
    #expect(ids(box, "report sessions --group HQ --group Depot") == ["1", "2", "3", "4"])
    #expect(ids(box, "report sessions --user eva@x.io --user max@x.io --station CP-B") == ["2"])
    #expect(ids(box, "report sessions --station CP-A --station CP-B --token TAG2") == ["2"])
    let energy = box.run("report energy --by station --station CP-A --station CP-B -o csv --no-headers")
    #expect(energy.out.hasPrefix("CP-A,1,") && energy.out.contains("CP-B,2,"), "\(energy.out)")
  }

  @Test func reportSessionsFiltersByConnectorAuthorizationEnergyAndDuration() throws {
    let box = try seeded()
    #expect(ids(box, "report sessions --connector 2") == ["2"])
    #expect(ids(box, "report sessions --authorization anonymous") == ["4"])
    #expect(ids(box, "report sessions --authorization rfid --station CP-B") == ["2"])
    #expect(ids(box, "report sessions --min-energy 2") == ["1", "3", "4"])
    #expect(ids(box, "report sessions --min-energy 5000Wh") == ["1", "3"])
    #expect(ids(box, "report sessions --min-duration 1h") == ["1", "3"])
    #expect(box.run("report sessions --min-energy lots").code == .usage)
    #expect(box.run("report sessions --authorization card").code == .usage)
    #expect(box.run("report sessions --connector two").code == .usage)
  }

  @Test func statusTakesSeveralGroups() throws {
    let box = try seeded()
    let one = box.run("status --group Depot -o json")
    let both = box.run("status --group Depot --group HQ -o json")
    #expect(try JSONValue.parse(one.out)["stations"]?["total"]?.intValue == 1)
    #expect(try JSONValue.parse(both.out)["stations"]?["total"]?.intValue == 3)
  }

  @Test func eventListTakesSeveralGroups() throws {
    let box = try seeded()
    let store = try box.openStore()
    for (station, at) in [(1, "2026-11-01T07:00:00.000Z"), (3, "2026-11-01T08:00:00.000Z")] {
      try store.db.run("INSERT INTO events (station_id, kind, detail, at) VALUES (?, 'boot', 'x', ?)", [station, at])
    }
    func count(_ args: String) -> Int {
      box.run("event list --kind boot \(args) -o csv --no-headers").out.split(whereSeparator: \.isNewline).count
    }
    #expect(count("--group HQ") == 1)
    #expect(count("--group Depot") == 1)
    #expect(count("--group HQ --group Depot") == 2)
  }

  @Test func stationListFiltersByStateSerialFirmwareAndSearchesSerials() throws {
    let box = try seeded()
    let store = try box.openStore()
    try store.db.run(
      "UPDATE stations SET serial_number = 'SN-111', firmware_version = '5.1', connected = TRUE, last_seen_at = ? WHERE identity = 'CP-A'",
      [Timestamp.now().iso8601])
    try store.db.run(
      "UPDATE stations SET charge_box_serial_number = 'BOX-222', firmware_version = '5.2', last_seen_at = '2026-01-01T00:00:00.000Z' WHERE identity = 'CP-B'")
    func list(_ args: String) -> [String] {
      let result = box.run("station list \(args) -o csv --no-headers")
      #expect(result.code == .success, "\(args): \(result.err)")
      return result.out.split(whereSeparator: \.isNewline).map { String($0.split(separator: ",")[0]) }
    }
    #expect(list("--state online") == ["CP-A"])
    #expect(list("--state offline --state never_connected") == ["CP-B", "CP-C"])
    #expect(list("--serial sn-111") == ["CP-A"])
    #expect(list("--serial BOX-222 --serial SN-111") == ["CP-A", "CP-B"])
    #expect(list("--firmware 5.2") == ["CP-B"])
    #expect(list("--firmware 5.1 --firmware 5.2 --group HQ --state offline") == ["CP-B"])
    #expect(list("--search 222") == ["CP-B"])
    #expect(box.run("station list --state asleep").code == .usage)
  }

  /// Every option of every command, given twice: a repeatable one keeps both values, any other
  /// is refused with a usage error naming it.
  @Test func everyOptionEitherRepeatsOrRefusesARepeat() throws {
    var checked = 0
    for (path, command) in Commands.root.walk() where command.action != nil {
      var base = Array(path.dropFirst())
      for spec in command.arguments where spec.kind == .positional && spec.isRequired {
        base.append(spec.choices.first ?? "1")
      }
      for spec in command.arguments where spec.kind == .option && spec.isRequired {
        base += ["--\(spec.name)", spec.choices.first ?? "1"]
      }
      for spec in Commands.root.arguments + command.arguments where spec.kind == .option {
        let value = spec.choices.first ?? "1"
        let other = spec.choices.dropFirst().first ?? "2"
        var argv = base.filter { $0 != "--\(spec.name)" }
        if spec.isRequired, let at = base.firstIndex(of: "--\(spec.name)") {
          argv = Array(base[..<at]) + Array(base[(at + 2)...])
        }
        argv += ["--\(spec.name)", value, "--\(spec.name)", other]
        let where_ = "\(path.joined(separator: " ")) --\(spec.name)"
        do {
          let (_, parsed) = try Parser.parse(argv, root: Commands.root)
          #expect(spec.isRepeating, "\(where_) accepted a repeat without being repeatable")
          #expect(parsed.values(spec.name) == [value, other], "\(where_) lost a value")
        } catch {
          #expect(!spec.isRepeating, "\(where_): \(error.message)")
          #expect(error.message.contains("'--\(spec.name)' given more than once"), "\(where_): \(error.message)")
        }
        checked += 1
      }
    }
    #expect(checked > 100)
  }
}
