import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// `station list` streams its rows (issue 15 item 7): the output is the same text as the whole
/// list rendered at once, in every format, with filters and for an empty list.
@Suite struct StationListOutputTests {
  @Test func streamedListIsTheSameTextAsTheListRenderedAtOnce() throws {
    let box = try Sandbox()
    box.run("group create HQ --kind site")
    box.run("station create CP-B --name 'B \"quoted\"' --group HQ --connectors 2 --security-profile 0 --address 'Main 1' --lat 60.17 --lon 24.94 --max-current 32")
    box.run("station create cp-a --name A --connectors 1 --security-profile 0")
    box.run("station create CP-C --name C --group HQ --security-profile 0")
    let store = try box.openStore()
    try store.db.run("UPDATE connectors SET status = 'Faulted' WHERE station_id = (SELECT id FROM stations WHERE identity = 'CP-C')")
    let stations = try store.stations()
    let json = box.run("station list -o json")
    #expect(json.code == .success)
    #expect(json.out == JSONValue.array(stations.map(\.json)).pretty + "\n")
    #expect(try JSONValue.parse(json.out).arrayValue?.map { $0["identity"]?.stringValue } == ["cp-a", "CP-B", "CP-C"])
    let renderer = Renderer(format: .csv, showHeaders: true, color: false)
    #expect(box.run("station list -o csv").out == renderer.list(stations, columns: Commands.stationColumns, json: \.json))
    let one = box.run("station list --group HQ --search quoted -o json").out
    #expect(one == JSONValue.array([stations[1].json]).pretty + "\n")
    #expect(box.run("station list --state charging -o json").out == "[]\n")
    #expect(box.run("station list --state charging -o csv --no-headers").out.isEmpty)
  }
}
