import Testing

@testable import EvctlCore

/// Calendar buckets for charts (issue 16 item 3): every bucket of a period, dated labels.
@Suite struct TimeBucketsTests {
  func t(_ text: String) -> Timestamp { Timestamp(parsing: text)! }

  @Test func monthsRollOverTheYearInTheLocalZone() throws {
    let months = TimeBuckets(.month, zone: try LocalTime(identifier: "Europe/Amsterdam"))
    let starts = months.starts(from: t("2026-11-15T00:00:00Z"), to: t("2027-01-31T23:00:00Z"), limit: 10)!
    #expect(starts.map(months.label) == ["Nov 2026", "Dec 2026", "Jan 2027"])
    #expect(starts[2] == t("2026-12-31T23:00:00Z"))  // local midnight, CET
  }

  @Test func isoWeeksStartOnMondayAndCrossTheYear() throws {
    let weeks = TimeBuckets(.week, zone: try LocalTime(identifier: nil))
    let starts = weeks.starts(from: t("2026-12-24T12:00:00Z"), to: t("2027-01-05T00:00:00Z"), limit: 10)!
    #expect(starts.map(weeks.label) == ["2026-12-21 W52", "2026-12-28 W53", "2027-01-04 W01"])
  }

  @Test func hoursFollowTheWallClockInHalfHourZones() throws {
    let hours = TimeBuckets(.hour, zone: try LocalTime(identifier: "Asia/Kolkata"))
    #expect(hours.start(of: t("2026-11-21T10:45:00Z")) == t("2026-11-21T10:30:00Z"))  // 16:15 → 16:00 IST
    let starts = hours.starts(from: t("2026-11-21T10:30:00Z"), to: t("2026-11-21T12:30:00Z"), limit: 10)!
    #expect(starts.map(hours.label) == ["2026-11-21 16:00", "2026-11-21 17:00"])
    #expect(hours.starts(from: t("2026-01-01T00:00:00Z"), to: t("2027-01-01T00:00:00Z"), limit: 1000) == nil)
  }

  @Test func daysAreNamedWithTheirWeekday() throws {
    let days = TimeBuckets(.day, zone: try LocalTime(identifier: nil))
    let starts = days.starts(from: t("2026-11-29T05:00:00Z"), to: t("2026-12-02T00:00:00Z"), limit: 10)!
    #expect(starts.map(days.label) == ["Sun 2026-11-29", "Mon 2026-11-30", "Tue 2026-12-01"])
    for day in [-800_000, -1, 0, 59, 20_000, 2_000_000] {
      let (y, m, d) = TimeBuckets.civil(day)
      #expect(TimeBuckets.days(year: y, month: m, day: d) == day)
    }
  }
}
