/// Which way a time option points when it is given a bare duration or a wall-clock time.
public enum TimeDirection: Sendable {
  /// Filters: `--since 1h` is an hour ago, `--since 08:00` the last 08:00.
  case past
  /// Deadlines: `--valid-to 365d` is a year from now, `--until 18:00` the next 18:00.
  case future
}

/// Why a time typed by a person was refused; the reason names the part that is wrong.
public struct TimeInputError: Error, Equatable, Sendable {
  /// For example `February 2026 has 28 days`.
  public let reason: String

  /// Creates an error with `reason`.
  public init(_ reason: String) { self.reason = reason }
}

/// The one grammar for times typed on the command line.
///
/// - `now`, `today`, `yesterday`, `tomorrow` (the last three: midnight in the zone);
/// - a duration (`90d`, `1h30m`), pointing the option's way; `+2h` and `-2h` point explicitly;
/// - a wall time `18:00` or `18:00:30` in the zone: the nearest such time the option's way;
/// - a date `2026-11-01` (midnight in the zone) or ISO 8601 date-time, with a zone (`Z`, `+01:00`)
///   as given, without one in the zone.
///
/// Unlike ``Timestamp/init(parsing:)``, which is lenient for what stations send, this refuses
/// dates and times that do not exist (`2026-02-30`, `23:59:60`).
public enum TimeInput {
  /// The latest time accepted: the end of year 9999 (ISO 8601's four-digit years).
  public static let latest = Timestamp(milliseconds: 253_402_300_799_999)
  /// The earliest time accepted: the start of year 1.
  public static let earliest = Timestamp(milliseconds: -62_135_596_800_000)

  /// Parses `text` relative to `now` in `zone`.
  public static func parse(
    _ text: String, pointing direction: TimeDirection, now: Timestamp, zone: LocalTime
  ) -> Result<Timestamp, TimeInputError> {
    let result = resolve(text, direction, now, zone)
    if case .success(let time) = result, time < earliest || time > latest {
      return .failure(TimeInputError("out of range: times run from year 1 to 9999"))
    }
    return result
  }

  /// Parses a date or ISO 8601 date-time only (no words, durations or wall times), strictly: for
  /// files people write, such as import CSVs.
  public static func parseAbsolute(_ text: String, zone: LocalTime) -> Result<Timestamp, TimeInputError> {
    let bytes = Array(text.utf8)
    guard bytes.count >= 5, bytes[4] == 0x2D, bytes[0..<4].allSatisfy(isDigit) else {
      return .failure(TimeInputError("expected a date such as 2026-12-31 or 2026-12-31T18:00:00Z"))
    }
    return dateTime(bytes, zone)
  }

  private static func resolve(
    _ text: String, _ direction: TimeDirection, _ now: Timestamp, _ zone: LocalTime
  ) -> Result<Timestamp, TimeInputError> {
    let today = zone.localDay(of: now)
    switch text.lowercased() {
    case "now": return .success(now)
    case "today": return .success(zone.timestamp(day: today, secondOfDay: 0))
    case "yesterday": return .success(zone.timestamp(day: today - 1, secondOfDay: 0))
    case "tomorrow": return .success(zone.timestamp(day: today + 1, secondOfDay: 0))
    default: break
    }
    let bytes = Array(text.utf8)
    guard let first = bytes.first else { return .failure(TimeInputError("empty")) }
    if first == 0x2B || first == 0x2D {
      return duration(String(text.dropFirst()), sign: first == 0x2D ? -1 : 1, now)
    }
    if bytes.count >= 5, bytes[4] == 0x2D, bytes[0..<4].allSatisfy(isDigit) {
      return dateTime(bytes, zone)
    }
    if let colon = bytes.firstIndex(of: 0x3A), colon <= 2 {
      return wallTime(bytes, direction, now, today, zone)
    }
    return duration(text, sign: direction == .past ? -1 : 1, now)
  }

  private static func duration(_ text: String, sign: Int64, _ now: Timestamp) -> Result<Timestamp, TimeInputError> {
    switch DurationText.parse(text) {
    case .success(let seconds):
      return .success(Timestamp(milliseconds: now.milliseconds + sign * seconds * 1000))
    case .failure(.tooLong):
      return .failure(TimeInputError("duration too long: at most 1000 years"))
    case .failure(.malformed):
      return .failure(TimeInputError("not a time"))
    }
  }

  private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

  /// Reads `count` digits at `index`.
  private static func number(_ b: [UInt8], _ index: inout Int, _ count: Int) -> Int? {
    guard index + count <= b.count else { return nil }
    var value = 0
    for offset in 0..<count {
      guard isDigit(b[index + offset]) else { return nil }
      value = value * 10 + Int(b[index + offset] - 0x30)
    }
    index += count
    return value
  }

  static let monthNames = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
  ]

  /// Days in `month` of `year` (proleptic Gregorian).
  public static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// `HH:MM[:SS[.fff]]` from `index`; checks the ranges.
  private static func clock(_ b: [UInt8], _ index: inout Int) -> Result<(Int, Int), TimeInputError> {
    let malformed = TimeInputError("expected a time of day such as 18:00 or 18:00:30")
    var hour: Int?
    if index + 1 < b.count, isDigit(b[index]), b[index + 1] == 0x3A {
      hour = number(b, &index, 1)
    } else {
      hour = number(b, &index, 2)
    }
    guard let hour, index < b.count, b[index] == 0x3A else { return .failure(malformed) }
    index += 1
    guard let minute = number(b, &index, 2) else { return .failure(malformed) }
    var second = 0
    var millis = 0
    if index < b.count, b[index] == 0x3A {
      index += 1
      guard let s = number(b, &index, 2) else { return .failure(malformed) }
      second = s
      if index < b.count, b[index] == 0x2E || b[index] == 0x2C {
        index += 1
        var scale = 100
        var digits = 0
        while index < b.count, isDigit(b[index]) {
          millis += Int(b[index] - 0x30) * scale
          scale /= 10
          index += 1
          digits += 1
        }
        guard digits > 0 else { return .failure(malformed) }
      }
    }
    guard hour < 24 else { return .failure(TimeInputError("hour \(hour) does not exist (00-23)")) }
    guard minute < 60 else { return .failure(TimeInputError("minute \(minute) does not exist (00-59)")) }
    guard second < 60 else {
      return .failure(TimeInputError("second \(second) does not exist (00-59; leap seconds are not accepted)"))
    }
    return .success(((hour * 3600 + minute * 60 + second), millis))
  }

  private static func wallTime(
    _ b: [UInt8], _ direction: TimeDirection, _ now: Timestamp, _ today: Int, _ zone: LocalTime
  ) -> Result<Timestamp, TimeInputError> {
    var index = 0
    let clock: (Int, Int)
    switch self.clock(b, &index) {
    case .success(let value): clock = value
    case .failure(let error): return .failure(error)
    }
    guard index == b.count else {
      return .failure(TimeInputError("expected a time of day such as 18:00 or 18:00:30"))
    }
    func at(_ day: Int) -> Timestamp {
      let time = zone.timestamp(day: day, secondOfDay: clock.0)
      return Timestamp(milliseconds: time.milliseconds + Int64(clock.1))
    }
    let candidate = at(today)
    switch direction {
    case .future where candidate <= now: return .success(at(today + 1))
    case .past where candidate > now: return .success(at(today - 1))
    default: return .success(candidate)
    }
  }

  private static func dateTime(_ b: [UInt8], _ zone: LocalTime) -> Result<Timestamp, TimeInputError> {
    let malformed = TimeInputError("expected a date such as 2026-12-31 or 2026-12-31T18:00:00Z")
    var index = 0
    guard let year = number(b, &index, 4), index < b.count, b[index] == 0x2D else { return .failure(malformed) }
    index += 1
    guard let month = number(b, &index, 2), index < b.count, b[index] == 0x2D else { return .failure(malformed) }
    index += 1
    guard let day = number(b, &index, 2) else { return .failure(malformed) }
    guard year >= 1 else { return .failure(TimeInputError("year 0000 does not exist")) }
    guard (1...12).contains(month) else {
      return .failure(TimeInputError("month \(month) does not exist (01-12)"))
    }
    let length = daysIn(month: month, year: year)
    guard (1...length).contains(day) else {
      return .failure(TimeInputError("day \(day) does not exist: \(monthNames[month - 1]) \(year) has \(length) days"))
    }
    let days = Timestamp.daysFromCivil(year, month, day)
    guard index < b.count else { return .success(zone.timestamp(day: days, secondOfDay: 0)) }
    guard b[index] == 0x54 || b[index] == 0x74 || b[index] == 0x20 else { return .failure(malformed) }
    index += 1
    let clock: (Int, Int)
    switch self.clock(b, &index) {
    case .success(let value): clock = value
    case .failure(let error): return .failure(error)
    }
    guard index < b.count else {
      let local = zone.timestamp(day: days, secondOfDay: clock.0)
      return .success(Timestamp(milliseconds: local.milliseconds + Int64(clock.1)))
    }
    var offset = 0
    let sign = b[index]
    index += 1
    if sign == 0x5A || sign == 0x7A {
      offset = 0
    } else if sign == 0x2B || sign == 0x2D {
      guard let hours = number(b, &index, 2) else { return .failure(malformed) }
      if index < b.count, b[index] == 0x3A { index += 1 }
      let minutes = index < b.count ? number(b, &index, 2) : 0
      guard let minutes else { return .failure(malformed) }
      guard hours <= 18, minutes < 60 else {
        return .failure(TimeInputError("zone offset \(hours):\(minutes) does not exist (at most ±18:00)"))
      }
      offset = (hours * 3600 + minutes * 60) * (sign == 0x2D ? -1 : 1)
    } else {
      return .failure(malformed)
    }
    guard index == b.count else { return .failure(malformed) }
    let seconds = Int64(days) * 86_400 + Int64(clock.0) - Int64(offset)
    return .success(Timestamp(milliseconds: seconds * 1000 + Int64(clock.1)))
  }
}
