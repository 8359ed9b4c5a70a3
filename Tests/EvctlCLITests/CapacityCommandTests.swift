import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// `group capacity set/show` and `group load report` (issue 9 items 2, 4, 6, 9).
@Suite struct CapacityCommandTests {
  func box() throws -> Sandbox {
    let box = try Sandbox()
    box.run("group create HQ --kind site")
    return box
  }

  func capacity(_ box: Sandbox) throws -> JSONValue? {
    try JSONValue.parse(box.run("group capacity show HQ -o json").out)[0]
  }

  @Test func setChangesOnlyTheOptionsGivenAndRemovingIsExplicit() throws {
    let box = try box()
    #expect(box.run("group capacity set HQ --max-current 16 --safe-current 8 --alternate-every 1m").code == .success)
    #expect(box.run("group capacity set HQ --max-current 20").code == .success)
    var shown = try capacity(box)
    #expect(shown?["max_current"]?.doubleValue == 20)
    #expect(shown?["safe_current"]?.doubleValue == 8)
    #expect(shown?["alternate_seconds"]?.intValue == 60)
    #expect(box.run("group capacity set HQ --no-safe-current").code == .success)
    shown = try capacity(box)
    #expect(shown?["safe_current"] == .null)
    #expect(shown?["max_current"]?.doubleValue == 20)
    // The first set of a group needs the maximum; contradictions are usage errors.
    box.run("group create Depot")
    let first = box.run("group capacity set Depot --safe-current 8")
    #expect(first.code == .dataError)
    #expect(first.err.contains("--max-current"))
    #expect(box.run("group capacity set HQ --safe-current 8 --no-safe-current").code == .usage)
  }

  @Test func minCurrentBelowTheIECMinimumNeedsTheTestBenchFlag() throws {
    let box = try box()
    let refused = box.run("group capacity set HQ --max-current 16 --min-current 3")
    #expect(refused.code == .dataError)
    #expect(refused.err.contains("IEC 61851") && refused.err.contains("--allow-below-iec-minimum"))
    #expect(box.run("group capacity show HQ -o json").out.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    #expect(box.run("group capacity set HQ --max-current 16 --min-current 3 --allow-below-iec-minimum").code == .success)
    #expect(try capacity(box)?["min_current"]?.doubleValue == 3)
  }

  @Test func negativeLoadIsExportAndTheMeterMayIncludeTheChargers() throws {
    let box = try box()
    box.run("group capacity set HQ --max-current 32 --meter-includes-chargers")
    #expect(box.run("group load report HQ --l1 -10").code == .success)
    let shown = try capacity(box)
    #expect(shown?["other_load"]?["l1"]?.doubleValue == -10)
    #expect(shown?["meter_includes_chargers"] == .bool(true))
    box.run("group capacity set HQ --no-meter-includes-chargers")
    #expect(try capacity(box)?["meter_includes_chargers"] == .bool(false))
  }

  @Test func expiredReadingsShowTheSafeCurrentNotTheStaleLoad() throws {
    let box = try box()
    box.run("group capacity set HQ --max-current 32 --safe-current 8")
    // A reading whose text cannot occur in a timestamp (HH:MM:SS.mmm), which the table also shows.
    box.run("group load report HQ --l1 123.5 --valid-for 0")
    let shown = try capacity(box)
    #expect(shown?["other_load"] == .null)
    #expect(shown?["in_force"]?.stringValue?.hasPrefix("safe current 8 A (readings expired at ") == true)
    let table = box.run("group capacity show", tty: true).out
    #expect(!table.contains("123.5"))
    #expect(table.contains("safe current 8 A (readings expired at"))
  }
}
