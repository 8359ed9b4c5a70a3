import Testing

@testable import EvctlCore

/// The one time grammar of the command line (issue 10 items 1 and 2, issue 11 item 4).
@Suite struct TimeInputTests {
  let now = Timestamp(parsing: "2026-12-03T09:30:00Z")!
  let utc = try! LocalTime(identifier: nil)
  let amsterdam = try! LocalTime(identifier: "Europe/Amsterdam")

  func parse(_ text: String, _ direction: TimeDirection, zone: LocalTime? = nil) -> String? {
    guard case .success(let time) = TimeInput.parse(text, pointing: direction, now: now, zone: zone ?? utc)
    else { return nil }
    return time.iso8601
  }

  func reason(_ text: String, _ direction: TimeDirection = .future) -> String? {
    guard case .failure(let error) = TimeInput.parse(text, pointing: direction, now: now, zone: utc) else { return nil }
    return error.reason
  }

  @Test func filtersPointIntoThePastAndDeadlinesIntoTheFuture() {
    #expect(parse("1h", .past) == "2026-12-03T08:30:00.000Z")
    #expect(parse("7d", .past) == "2026-11-26T09:30:00.000Z")
    #expect(parse("365d", .future) == "2027-12-03T09:30:00.000Z")
    #expect(parse("12h", .future) == "2026-12-03T21:30:00.000Z")
    #expect(parse("1h30m", .future) == "2026-12-03T11:00:00.000Z")
  }

  @Test func explicitSignsWinOverTheDirection() {
    #expect(parse("+2h", .past) == "2026-12-03T11:30:00.000Z")
    #expect(parse("-2h", .future) == "2026-12-03T07:30:00.000Z")
  }

  @Test func wordsAndWallTimes() {
    #expect(parse("now", .past) == now.iso8601)
    #expect(parse("yesterday", .past) == "2026-12-02T00:00:00.000Z")
    #expect(parse("today", .past) == "2026-12-03T00:00:00.000Z")
    #expect(parse("tomorrow", .future) == "2026-12-04T00:00:00.000Z")
    #expect(parse("18:00", .future) == "2026-12-03T18:00:00.000Z")
    #expect(parse("08:00", .future) == "2026-12-04T08:00:00.000Z")
    #expect(parse("08:00", .past) == "2026-12-03T08:00:00.000Z")
    #expect(parse("18:00", .past) == "2026-12-02T18:00:00.000Z")
    #expect(parse("18:00", .future, zone: amsterdam) == "2026-12-03T17:00:00.000Z")
  }

  @Test func isoWithAndWithoutZone() {
    #expect(parse("2026-11-01", .past) == "2026-11-01T00:00:00.000Z")
    #expect(parse("2026-11-01", .past, zone: amsterdam) == "2026-10-31T23:00:00.000Z")
    #expect(parse("2026-11-01T06:00:00", .past, zone: amsterdam) == "2026-11-01T05:00:00.000Z")
    #expect(parse("2026-11-01T06:00:00Z", .past, zone: amsterdam) == "2026-11-01T06:00:00.000Z")
    #expect(parse("2026-11-01T06:00:00.250+02:00", .past) == "2026-11-01T04:00:00.250Z")
    #expect(parse("2026-11-01 06:00", .past) == "2026-11-01T06:00:00.000Z")
    #expect(parse("2028-02-29", .future) == "2028-02-29T00:00:00.000Z")
  }

  @Test func datesAndTimesThatDoNotExistAreRefusedNamingThePart() {
    #expect(reason("2026-02-30") == "day 30 does not exist: February 2026 has 28 days")
    #expect(reason("2026-13-01")?.hasPrefix("month 13") == true)
    #expect(reason("2026-12-31T23:59:60")?.hasPrefix("second 60") == true)
    #expect(reason("24:00")?.hasPrefix("hour 24") == true)
    #expect(reason("12:60")?.hasPrefix("minute 60") == true)
    #expect(reason("2026-04-31")?.contains("April 2026 has 30 days") == true)
    #expect(reason("soon") != nil)
    #expect(reason("2026-11-01T06:00:00+25:00") != nil)
    // Stations stay lenient: the same text from a station still parses.
    #expect(Timestamp(parsing: "2026-02-30") != nil)
  }

  @Test func hugeDurationsAreRefusedNotTrapped() {
    #expect(reason("99999999999999999d")?.contains("too long") == true)
    #expect(reason("99999999999999w")?.contains("too long") == true)
    #expect(reason("-99999999999999999999999s", .past) != nil)
    #expect(DurationText.seconds("99999999999999w") == nil)
    #expect(DurationText.parse("99999999999999w") == .failure(.tooLong))
    #expect(DurationText.seconds("1h30m") == 5400)
    #expect(DurationText.seconds("90") == 90)
    #expect(DurationText.seconds("30mx") == nil)
  }

  @Test func durationsForPeople() {
    #expect(DurationText.format(seconds: 5400) == "1h30m")
    #expect(DurationText.format(seconds: 45) == "45s")
    #expect(DurationText.format(seconds: 0) == "0s")
    #expect(DurationText.format(seconds: 3600) == "1h")
    #expect(DurationText.format(seconds: 93_784) == "1d2h")
  }

  @Test func meterPlausibility() {
    let ok = MeterPlausibility.energy(meterStart: 1000, meterStop: 13_345, maxEnergyWh: nil)
    #expect(ok == .success(12_345))
    for (start, stop, values) in [(Int.min, Int.max, nil), (50_000, 1_000, nil), (0, nil, Double.infinity),
                                   (0, 20_000_000, nil)] as [(Int, Int?, Double?)] {
      guard case .failure = MeterPlausibility.energy(meterStart: start, meterStop: stop, maxEnergyWh: values) else {
        Issue.record("\(start) \(String(describing: stop)) accepted")
        continue
      }
    }
  }

  @Test func controlCharactersAreEscaped() {
    #expect(PrintableText.escaped("a\u{1B}[2Jb\u{07}") == "a\\x1b[2Jb\\x07")
    #expect(PrintableText.escaped("x\u{9B}y") == "x\\u009by")
    #expect(PrintableText.escaped("line\nnext", keeping: ["\n"]) == "line\nnext")
    #expect(PrintableText.escaped("Grüße") == "Grüße")
  }
}
