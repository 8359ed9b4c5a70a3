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

  /// Parses an ISO 8601 date-time or a date (`2026-12-31`, midnight UTC).
  ///
  /// Returns `nil` for anything else.
  public init?(parsing text: String) {
    var utf8 = Array(text.utf8)
    while let last = utf8.last, last == 32 { utf8.removeLast() }
    guard let value = Timestamp.parse(utf8) else { return nil }
    self = value
  }

  // swiftlint:disable:next cyclomatic_complexity
  private static func parse(_ b: [UInt8]) -> Timestamp? {
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
    var parts = tm()
    parts.tm_year = Int32(year - 1900)
    parts.tm_mon = Int32(month - 1)
    parts.tm_mday = Int32(day)
    parts.tm_hour = Int32(hour)
    parts.tm_min = Int32(minute)
    parts.tm_sec = Int32(second)
    let epoch = Int64(timegm(&parts)) - Int64(offsetSeconds)
    return Timestamp(milliseconds: epoch * 1000 + Int64(millis))
  }

  /// The time as `2026-11-21T08:02:45.000Z`.
  ///
  /// Always with milliseconds, so that stored times compare correctly as text in SQL.
  public var iso8601: String {
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    let ms = Int(milliseconds - seconds * 1000)
    var bytes = [UInt8](repeating: 0, count: 24)
    func put(_ value: Int, at offset: Int, width: Int) {
      var rest = value
      for index in stride(from: offset + width - 1, through: offset, by: -1) {
        bytes[index] = UInt8(48 + rest % 10)
        rest /= 10
      }
    }
    put(Int(parts.tm_year) + 1900, at: 0, width: 4)
    bytes[4] = 45
    put(Int(parts.tm_mon) + 1, at: 5, width: 2)
    bytes[7] = 45
    put(Int(parts.tm_mday), at: 8, width: 2)
    bytes[10] = 84
    put(Int(parts.tm_hour), at: 11, width: 2)
    bytes[13] = 58
    put(Int(parts.tm_min), at: 14, width: 2)
    bytes[16] = 58
    put(Int(parts.tm_sec), at: 17, width: 2)
    bytes[19] = 46
    put(ms, at: 20, width: 3)
    bytes[23] = 90
    return String(decoding: bytes, as: UTF8.self)
  }

  public var description: String { iso8601 }

  public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
    lhs.milliseconds < rhs.milliseconds
  }
}
