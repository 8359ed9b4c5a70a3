/// Calendar buckets of local time (hours, days, ISO weeks, months) for reports and charts: which
/// bucket a moment falls in, the buckets of a period one after another, and a dated label.
///
/// A bucket is named by its first moment, so the two 02:00 hours of a night that leaves summer
/// time stay two buckets.
public struct TimeBuckets: Sendable {
  /// How long a bucket is.
  public enum Size: String, Sendable, CaseIterable {
    case hour, day, week, month
  }

  public let size: Size
  public let zone: LocalTime

  /// Buckets of `size` in `zone`.
  public init(_ size: Size, zone: LocalTime) {
    self.size = size
    self.zone = zone
  }

  /// The first moment of the bucket `time` falls in.
  public func start(of time: Timestamp) -> Timestamp {
    switch size {
    case .hour:
      let offset = Int64(zone.offset(at: time)) * 1000
      let wall = time.milliseconds + offset
      let floored = wall >= 0 ? wall / 3_600_000 * 3_600_000 : (wall - 3_599_999) / 3_600_000 * 3_600_000
      return Timestamp(milliseconds: floored - offset)
    case .day:
      return zone.timestamp(day: zone.localDay(of: time), secondOfDay: 0)
    case .week:
      let day = zone.localDay(of: time)
      // Day 0 (1970-01-01) was a Thursday; ISO weeks start on Monday.
      let monday = day - ((day % 7 + 7 + 3) % 7)
      return zone.timestamp(day: monday, secondOfDay: 0)
    case .month:
      let (year, month, _) = TimeBuckets.civil(zone.localDay(of: time))
      return zone.timestamp(day: TimeBuckets.days(year: year, month: month, day: 1), secondOfDay: 0)
    }
  }

  /// The first moment of the bucket after the one starting at `start`.
  public func next(after start: Timestamp) -> Timestamp {
    switch size {
    case .hour:
      // An hour later, re-aligned to the local wall clock (half-hour zones, DST changes).
      return self.start(of: Timestamp(milliseconds: start.milliseconds + 3_600_000 + 60_000))
    case .day:
      return zone.timestamp(day: zone.localDay(of: start) + 1, secondOfDay: 0)
    case .week:
      return zone.timestamp(day: zone.localDay(of: start) + 7, secondOfDay: 0)
    case .month:
      let (year, month, _) = TimeBuckets.civil(zone.localDay(of: start))
      let (nextYear, nextMonth) = month == 12 ? (year + 1, 1) : (year, month + 1)
      return zone.timestamp(day: TimeBuckets.days(year: nextYear, month: nextMonth, day: 1), secondOfDay: 0)
    }
  }

  /// The starts of every bucket that overlaps `from ..< to`, oldest first; `nil` when there
  /// would be more than `limit`.
  public func starts(from: Timestamp, to: Timestamp, limit: Int) -> [Timestamp]? {
    var result: [Timestamp] = []
    var current = start(of: from)
    while current < to {
      if result.count == limit { return nil }
      result.append(current)
      let following = next(after: current)
      guard following > current else { break }
      current = following
    }
    return result
  }

  /// A dated label: `2026-11-21 14:00`, `Sat 2026-11-21`, `2026-11-16 W47`, `Nov 2026`.
  public func label(_ start: Timestamp) -> String {
    let day = zone.localDay(of: start)
    switch size {
    case .hour: return zone.short(start)
    case .day: return TimeBuckets.weekday(day) + " " + zone.day(start)
    case .week: return zone.day(start) + " W" + String(zone.week(start).suffix(2))
    case .month:
      let (year, month, _) = TimeBuckets.civil(day)
      return TimeBuckets.monthNames[month - 1] + " \(year)"
    }
  }

  /// The labels of consecutive buckets; an hour that repeats when summer time ends gets its
  /// UTC offset: `2026-10-25 02:00 +02:00`, `2026-10-25 02:00 +01:00`.
  public func labels(_ starts: [Timestamp]) -> [String] {
    let plain = starts.map(label)
    var counts: [String: Int] = [:]
    for text in plain { counts[text, default: 0] += 1 }
    return zip(plain, starts).map { text, start in
      counts[text, default: 0] > 1 ? text + " " + String(zone.format(start).suffix(6)) : text
    }
  }

  static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
  static let weekdayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

  /// `Mon` … `Sun` of a day counted from 1970-01-01 (a Thursday).
  public static func weekday(_ day: Int) -> String { weekdayNames[(day % 7 + 7 + 3) % 7] }

  /// Year, month and day of a day counted from 1970-01-01 (proleptic Gregorian).
  static func civil(_ days: Int) -> (Int, Int, Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
  }

  /// Days from 1970-01-01 to a date (proleptic Gregorian).
  static func days(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = month > 2 ? month - 3 : month + 9
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }
}
