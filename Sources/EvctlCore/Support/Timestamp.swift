import Glibc

/// A point in time with millisecond precision, stored and printed as ISO 8601 UTC.
///
/// The parser is lenient, as OCPP receivers must be [S16 §3.15]: fractional seconds, zone offsets,
/// `Z`, and a missing zone (taken as UTC) are all accepted.
public struct Timestamp: Comparable, Hashable, Sendable, CustomStringConvertible {
  /// Milliseconds since 1970-01-01T00:00:00Z.
  public var milliseconds: Int64

  /// Creates a timestamp from milliseconds since the Unix epoch.
  public init(milliseconds: Int64) { self.milliseconds = milliseconds }

  /// Creates a timestamp from seconds since the Unix epoch.
  public init(seconds: Int64) { self.milliseconds = seconds * 1000 }

  /// The current time.
  public static func now() -> Timestamp {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Timestamp(milliseconds: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
  }

  /// Whole seconds since the Unix epoch.
  public var seconds: Int64 { milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000 }

  /// Returns this time moved by `seconds`.
  public func adding(seconds: Int64) -> Timestamp {
    Timestamp(milliseconds: milliseconds + seconds * 1000)
  }

  /// ``init(parsing:)`` over the UTF-8 of the text, without a `String`.
  public init?(parsingUTF8 bytes: UnsafeBufferPointer<UInt8>) {
    var end = bytes.count
    while end > 0, bytes[end - 1] == 32 { end -= 1 }
    let text = UnsafeBufferPointer(rebasing: bytes[0..<end])
    if let stored = Timestamp.parseStored(text) {
      self = stored
      return
    }
    guard let parsed = Timestamp.parse(text) else { return nil }
    self = parsed
  }

  /// The form evctl stores, `2026-11-21T08:02:45.123Z` (``iso8601``), read without the general
  /// parser's steps: reports read millions. `nil` for anything else, which ``parse(_:)`` reads
  /// (to the same value where both read it).
  static func parseStored(_ b: UnsafeBufferPointer<UInt8>) -> Timestamp? {
    guard b.count == 24, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b[19] == 46, b[23] == 90
    else { return nil }
    @inline(__always) func number(_ from: Int, _ count: Int) -> Int {
      var value = 0
      for index in from..<from + count {
        let digit = Int(b[index]) &- 48
        // A non-digit makes the value negative, which the range checks below refuse.
        if digit < 0 || digit > 9 { return -1_000_000 }
        value = value * 10 + digit
      }
      return value
    }
    let year = number(0, 4), month = number(5, 2), day = number(8, 2)
    let hour = number(11, 2), minute = number(14, 2), second = number(17, 2), millis = number(20, 3)
    guard year >= 0, (1...12).contains(month), (1...31).contains(day), (0..<24).contains(hour),
      (0..<60).contains(minute), (0..<61).contains(second), millis >= 0
    else { return nil }
    let seconds = Int64(daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
    return Timestamp(milliseconds: seconds * 1000 + Int64(millis))
  }

  /// Parses an ISO 8601 date-time or a date (`2026-12-31`, midnight UTC).
  ///
  /// Returns `nil` for anything else.
  public init?(parsing text: String) {
    var copy = text
    guard let parsed = copy.withUTF8({ Timestamp(parsingUTF8: $0) }) else { return nil }
    self = parsed
  }

  /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
  static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  /// The date of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
  static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  // swiftlint:disable:next cyclomatic_complexity
  static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Timestamp? {
    var index = 0
    func digits(_ count: Int) -> Int? {
      guard index + count <= b.count else { return nil }
      var value = 0
      for offset in 0..<count {
        let c = b[index + offset]
        guard c >= 48, c <= 57 else { return nil }
        value = value * 10 + Int(c - 48)
      }
      index += count
      return value
    }
    func expect(_ c: UInt8) -> Bool {
      guard index < b.count, b[index] == c else { return false }
      index += 1
      return true
    }
    guard let year = digits(4), expect(45), let month = digits(2), expect(45),
      let day = digits(2), (1...12).contains(month), (1...31).contains(day)
    else { return nil }
    var hour = 0
    var minute = 0
    var second = 0
    var millis = 0
    var offsetSeconds = 0
    if index < b.count {
      guard b[index] == 84 || b[index] == 116 || b[index] == 32 else { return nil }
      index += 1
      guard let h = digits(2), expect(58), let m = digits(2) else { return nil }
      hour = h
      minute = m
      if expect(58) {
        guard let s = digits(2) else { return nil }
        second = s
        if index < b.count, b[index] == 46 || b[index] == 44 {
          index += 1
          var scale = 100
          var sawDigit = false
          while index < b.count, b[index] >= 48, b[index] <= 57 {
            millis += Int(b[index] - 48) * scale
            scale /= 10
            index += 1
            sawDigit = true
          }
          guard sawDigit else { return nil }
        }
      }
      guard hour < 24, minute < 60, second < 61 else { return nil }
      if index < b.count {
        let sign = b[index]
        if sign == 90 || sign == 122 {
          index += 1
        } else if sign == 43 || sign == 45 {
          index += 1
          guard let oh = digits(2) else { return nil }
          _ = expect(58)
          let om = digits(2) ?? 0
          offsetSeconds = (oh * 3600 + om * 60) * (sign == 45 ? -1 : 1)
        } else {
          return nil
        }
      }
      guard index == b.count else { return nil }
    }
    let days = daysFromCivil(year, month, day)
    let epoch = Int64(days * 86_400 + hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
    return Timestamp(milliseconds: epoch * 1000 + Int64(millis))
  }

  /// The time as `2026-11-21T08:02:45.000Z`.
  ///
  /// Always with milliseconds, so that stored times compare correctly as text in SQL.
  public var iso8601: String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(24)
    write(into: &bytes, milliseconds: true)
    bytes.append(90)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Appends `YYYY-MM-DDTHH:MM:SS` (and `.mmm`) to `bytes`, with no zone designator.
  public func write(into bytes: inout [UInt8], milliseconds withMilliseconds: Bool) {
    let total = seconds
    let days = Int(total >= 0 ? total / 86_400 : (total - 86_399) / 86_400)
    let secondOfDay = Int(total - Int64(days) * 86_400)
    let date = Timestamp.civilFromDays(days)
    @inline(__always) func put(_ value: Int, _ width: Int) {
      var divisor = 1
      for _ in 1..<width { divisor *= 10 }
      var rest = value
      while divisor > 0 {
        bytes.append(UInt8(48 + rest / divisor % 10))
        rest %= divisor
        divisor /= 10
      }
    }
    put(date.year, 4)
    bytes.append(45)
    put(date.month, 2)
    bytes.append(45)
    put(date.day, 2)
    bytes.append(84)
    put(secondOfDay / 3600, 2)
    bytes.append(58)
    put(secondOfDay % 3600 / 60, 2)
    bytes.append(58)
    put(secondOfDay % 60, 2)
    if withMilliseconds {
      bytes.append(46)
      put(Int(milliseconds - seconds * 1000), 3)
    }
  }

  public var description: String { iso8601 }

  public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
    lhs.milliseconds < rhs.milliseconds
  }
}
