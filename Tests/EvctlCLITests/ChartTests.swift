import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// Issue 16 item 3: charts people read, checked by the text a person sees.
@Suite struct ChartTests {
  /// Sessions at 23:30 on Sat 24 Oct, 09:00 on Sun 25 Oct and 08:00 on Sun 1 Nov (Amsterdam).
  func box() throws -> Sandbox { try ReportCommandTests().seeded() }

  func lines(_ text: String, after title: String) -> [String] {
    let all = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = all.firstIndex(where: { $0.hasPrefix(title) }) else { return [] }
    return Array(all[(start + 1)...].prefix { !$0.isEmpty })
  }

  func barLength(_ line: String) -> Int { line.filter { "█▏▎▍▌▋▊▉".contains($0) }.count }

  @Test func everyDayOfThePeriodIsDrawnWithItsDateEmptyOnesToo() throws {
    let box = try box()
    let out = box.run(
      "report energy --by day --from 2026-10-24 --to 2026-11-02 --tz Europe/Amsterdam --chart -o table",
      env: ["COLUMNS": "60"]).out
    let rows = lines(out, after: "energy (kWh) per day, Europe/Amsterdam")
    #expect(rows.count == 9, "\(out)")
    #expect(rows.first?.hasPrefix("Sat 2026-10-24  █") == true && rows.first?.hasSuffix(" 11.5 kWh") == true, "\(rows)")
    #expect(rows.contains("Mon 2026-10-26  0 kWh"), "\(rows)")
    #expect(rows.last?.hasPrefix("Sun 2026-11-01  █") == true && rows.last?.hasSuffix(" 9 kWh") == true, "\(rows)")
    #expect(rows.allSatisfy { $0.count <= 60 }, "\(rows)")
    // The table above still lists only the days with sessions (a contract for scripts).
    let table = out.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.isEmpty }
    #expect(table.first?.hasPrefix("DAY") == true && table.count == 5, "\(out)")
    // Wider terminal, longer bars.
    let wide = lines(box.run("report energy --by day --from 2026-10-24 --to 2026-11-02 --tz Europe/Amsterdam --chart -o table",
                             env: ["COLUMNS": "120"]).out, after: "energy (kWh) per day")
    #expect(barLength(wide[0]) > barLength(rows[0]) + 40, "\(wide[0])")
  }

  @Test func sessionsAndAverageDurationAreChartedToo() throws {
    let box = try box()
    let sessions = lines(box.run(
      "report energy --by week --from 2026-10-19 --to 2026-11-09 --tz Europe/Amsterdam --chart --metric sessions -o table").out,
      after: "sessions per week, Europe/Amsterdam")
    #expect(sessions.count == 3, "\(sessions)")
    #expect(sessions[0].hasPrefix("2026-10-19 W43  █") && sessions[0].hasSuffix(" 2"), "\(sessions)")
    #expect(sessions[1].hasPrefix("2026-10-26 W44  █") && sessions[1].hasSuffix(" 1"), "\(sessions)")
    #expect(sessions[2] == "2026-11-02 W45  0", "\(sessions)")
    let duration = lines(box.run(
      "report energy --by month --from 2026-10-01 --to 2026-12-01 --chart --metric duration -o table").out,
      after: "average session duration per month, UTC")
    #expect(duration.count == 2, "\(duration)")
    #expect(duration[0].hasPrefix("Oct 2026  █") && duration[0].hasSuffix(" 1h37m"), "\(duration)")
    #expect(duration[1].hasPrefix("Nov 2026  █") && duration[1].hasSuffix(" 1h"), "\(duration)")
  }

  @Test func hoursAcrossTheEndOfSummerTimeAreEachShownOnce() throws {
    let box = try box()
    let rows = lines(box.run(
      "report energy --by hour --from 2026-10-25T00:00:00+02:00 --to 2026-10-25T04:00:00+01:00 --tz Europe/Amsterdam --chart -o table").out,
      after: "energy (kWh) per hour")
    #expect(rows.map { String($0.prefix(23)).trimmingCharacters(in: .whitespaces) } == [
      "2026-10-25 00:00", "2026-10-25 01:00", "2026-10-25 02:00 +02:00", "2026-10-25 02:00 +01:00",
      "2026-10-25 03:00",
    ], "\(rows)")
    // Machine rows by hour carry the exact bucket start.
    let json = try JSONValue.parse(box.run("report energy --by hour --tz Europe/Amsterdam -o json").out)
    #expect(json.arrayValue?.first?["hour"]?.stringValue == "2026-10-24T23:00:00+02:00")
  }

  @Test func sessionsPerHourOfDaySayWhenPeopleCharge() throws {
    let box = try box()
    let result = box.run("report sessions --tz Europe/Amsterdam --chart -o table")
    let rows = lines(result.out, after: "sessions started per hour of day (Europe/Amsterdam)")
    #expect(rows.count == 24, "\(result.out)")
    for (hour, count) in [(8, 1), (9, 1), (23, 1), (0, 0), (12, 0)] {
      let label = (hour < 10 ? "0" : "") + "\(hour):00"
      let row = rows.first { $0.hasPrefix(label) } ?? ""
      #expect(count == 0 ? row == "\(label)  0" : (row.contains("█") && row.hasSuffix(" \(count)")), "\(row)")
    }
  }

  @Test func chartsNeverGoToStdoutWithAMachineFormat() throws {
    let box = try box()
    for line in ["report energy --by day --chart -o csv", "report energy --by day --chart -o json",
                 "report energy --by station --chart --metric sessions -o tsv", "report sessions --chart -o csv",
                 "report sessions --chart -o json"] {
      let result = box.run(line)
      #expect(result.code == .success, "\(line): \(result.err)")
      #expect(!result.out.contains("█") && result.err.contains("█"), "\(line)")
    }
    _ = try JSONValue.parse(box.run("report sessions --chart -o json").out)
  }

  @Test func chartOptionsAreCheckedBeforeAnythingIsRead() throws {
    let box = try box()
    let metric = box.run("report energy --by day --metric sessions")
    #expect(metric.code == .usage && metric.err.contains("'--chart'"), "\(metric.err)")
    let many = box.run("report energy --by hour --from 2020-01-01 --to 2026-01-01 --chart")
    #expect(many.code == .usage && many.err.contains("more than 1000 hour buckets"), "\(many.err)")
    #expect(box.run("report energy --by day --chart --metric power").code == .usage)
  }
}
