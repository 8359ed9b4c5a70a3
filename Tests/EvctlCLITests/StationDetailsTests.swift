import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// Issue 16 item 5: station address and coordinates, external ids and UUIDs, the station-level
/// maximum current, group states and `updated_at`.
@Suite struct StationDetailsTests {
  func json(_ text: String) throws -> JSONValue {
    try JSONValue.parse(Array(text.utf8))
  }

  func box() throws -> Sandbox {
    let box = try Sandbox()
    for line in ["group create HQ --kind site", "group create Garage --parent HQ",
                 "station create CP-001 --name Gate --group Garage --connectors 2"] {
      #expect(box.run(line).code == .success, "\(line)")
    }
    return box
  }

  @Test func stationsKeepAddressCoordinatesExternalIdAndMaximum() throws {
    let box = try box()
    let created = box.run(
      "station create CP-002 --name Back --group HQ --address 'Main St 1, Utrecht' --lat 52.09 --lon 5.12 --external-id NL-E002 --max-current 32")
    #expect(created.code == .success, "\(created.err)")
    let shown = try json(box.run("station show CP-002 -o json").out)
    #expect(shown["address"]?.stringValue == "Main St 1, Utrecht")
    #expect(shown["latitude"]?.doubleValue == 52.09 && shown["longitude"]?.doubleValue == 5.12)
    #expect(shown["external_id"]?.stringValue == "NL-E002")
    #expect(shown["max_current"]?.doubleValue == 32)
    let uuid = shown["uuid"]?.stringValue ?? ""
    #expect(UUID(uuidString: uuid) != nil && uuid == uuid.lowercased() && Array(uuid)[14] == "4", "\(uuid)")
    // Each connector has its own UUID, different from the station's and from each other.
    let connectors = try json(box.run("station connector list CP-001 -o json").out).arrayValue ?? []
    let uuids = Set(connectors.compactMap { $0["uuid"]?.stringValue })
    #expect(uuids.count == 2 && uuids.allSatisfy { UUID(uuidString: $0) != nil })
    // Found by external id or UUID.
    #expect(box.run("station list --search NL-E002 -o json").out.contains("CP-002"))
    #expect(box.run("station list --search \(uuid) -o json").out.contains("CP-002"))
    // Cleared explicitly; contradictions and half coordinates are usage errors.
    #expect(box.run("station update CP-002 --no-address --no-location --no-external-id --no-max-current").code == .success)
    let cleared = try json(box.run("station show CP-002 -o json").out)
    for key in ["address", "latitude", "longitude", "external_id", "max_current"] {
      #expect(cleared[key] == .null, "\(key)")
    }
    #expect(cleared["uuid"]?.stringValue == uuid)  // the UUID never changes
    for bad in ["station update CP-002 --address x --no-address", "station update CP-002 --lat 52",
                "station update CP-002 --lat 91 --lon 5", "station update CP-002 --max-current 0"] {
      let result = box.run(bad)
      #expect(result.code == .usage || result.code == .dataError, "\(bad): \(result.code)")
      #expect(result.err.hasPrefix("error: "), "\(bad): \(result.err)")
    }
  }

  @Test func externalIdsAreUniqueAndTheFailureChangesNothing() throws {
    let box = try box()
    #expect(box.run("station update CP-001 --external-id EXT-1").code == .success)
    #expect(box.run("station create CP-002 --name Back --external-id ext-2").code == .success)
    let taken = box.run("station update CP-002 --external-id EXT-1 --name Renamed")
    #expect(taken.code == .failure)
    #expect(taken.err.contains("external id 'EXT-1' already belongs to station 'CP-001'"), "\(taken.err)")
    let after = try json(box.run("station show CP-002 -o json").out)
    #expect(after["external_id"]?.stringValue == "ext-2" && after["name"]?.stringValue == "Back")
    // Connectors: their own external ids, unique among connectors.
    #expect(box.run("station connector update CP-001 1 --external-id C-1").code == .success)
    #expect(box.run("station connector update CP-001 2 --external-id C-1").code == .failure)
    let connectors = try json(box.run("station connector list CP-001 -o json").out).arrayValue ?? []
    #expect(connectors.map { $0["external_id"] ?? .null } == [.string("C-1"), .null])
  }

  @Test func groupListShowsEachGroupsState() throws {
    let box = try box()
    #expect(box.run("station create CP-002 --name Back --group HQ").code == .success)
    let store = try box.openStore()
    func states() throws -> [String: String] {
      var result: [String: String] = [:]
      for group in try json(box.run("group list -o json").out).arrayValue ?? [] {
        result[group["path"]?.stringValue ?? ""] = group["state"]?.stringValue
      }
      return result
    }
    #expect(try states() == ["HQ": "unknown", "HQ/Garage": "unknown"])
    let now = Timestamp.now().iso8601
    _ = try store.db.run("UPDATE stations SET connected = TRUE, last_seen_at = ?", [now])
    #expect(try states() == ["HQ": "available", "HQ/Garage": "available"])
    _ = try store.db.run(
      """
      INSERT INTO transactions (id, station_id, connector_id, id_tag, authorization_status, meter_start,
        started_at, start_timestamp_raw, state, received_at)
      VALUES (1, 2, 1, 'TAG', 'Accepted', 0, ?, ?, 'active', ?)
      """, [now, now, now])
    #expect(try states() == ["HQ": "in_use", "HQ/Garage": "available"])
    _ = try store.db.run("UPDATE connectors SET status = 'Faulted' WHERE station_id = 1 AND connector_id = 1")
    #expect(try states() == ["HQ": "fault", "HQ/Garage": "fault"])
    // The table says it in words.
    let table = box.run("group list -o table").out
    #expect(table.contains("STATE") && table.contains("fault"), "\(table)")
  }

  @Test func groupsAndStationsRecordWhenTheyWereChanged() throws {
    let box = try box()
    let store = try box.openStore()
    _ = try store.db.run("UPDATE groups SET updated_at = '2020-01-01T00:00:00.000Z'")
    _ = try store.db.run("UPDATE stations SET updated_at = '2020-01-01T00:00:00.000Z'")
    func updatedAt(_ line: String) throws -> String {
      try json(box.run(line).out)["updated_at"]?.stringValue ?? ""
    }
    #expect(try updatedAt("group show HQ -o json") == "2020-01-01T00:00:00.000Z")
    #expect(box.run("group update HQ --address 'Main St 1'").code == .success)
    #expect(try updatedAt("group show HQ -o json") > "2026")
    #expect(box.run("group move Garage --top").code == .success)
    #expect(try updatedAt("group show Garage -o json") > "2026")
    #expect(box.run("station connector update CP-001 1 --type Type2").code == .success)
    #expect(try updatedAt("station show CP-001 -o json") > "2026")
    // In the wide table and TSV too (appended, so earlier positions never move).
    #expect(box.run("group list -o wide").out.contains("UPDATED AT"))
    #expect(box.run("station list -o wide").out.contains("UPDATED AT"))
  }

  @Test func stationImportReadsTheDetailColumns() throws {
    let box = try box()
    let csv = """
      identity,name,group,address,latitude,longitude,external_id,max_current
      CP-010,North,HQ,"Stationsplein 1, Utrecht",52.09,5.11,NL-010,32
      CP-011,South,HQ,,,,NL-011,

      """
    let imported = box.run("station import -", stdin: csv)
    #expect(imported.code == .success, "\(imported.err)")
    let north = try json(box.run("station show CP-010 -o json").out)
    #expect(north["address"]?.stringValue == "Stationsplein 1, Utrecht" && north["latitude"]?.doubleValue == 52.09)
    #expect(north["external_id"]?.stringValue == "NL-010" && north["max_current"]?.doubleValue == 32)
    // Bad rows are named by line, and nothing is written.
    let bad = """
      identity,name,latitude,longitude,external_id
      CP-012,East,95,5,NL-012
      CP-013,West,,,NL-010

      """
    let refused = box.run("station import -", stdin: bad)
    #expect(refused.code == .dataError, "\(refused.err)")
    #expect(refused.err.contains("-:2: latitude 95.0 is outside -90…90"), "\(refused.err)")
    #expect(refused.err.contains("-:3: external id 'NL-010' already belongs to station 'CP-010'"), "\(refused.err)")
    #expect(box.run("station show CP-013").code == .notFound)
  }
}
