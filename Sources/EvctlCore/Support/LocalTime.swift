import Foundation

/// Wall-clock time in a time zone, for reports: day boundaries, display, and bucketing.
///
/// Times are stored in UTC; reports take a zone (`--tz Europe/Amsterdam`) for what a "day" is.
public struct LocalTime: Sendable {
  public let zone: TimeZone
  private let isUTC: Bool
  private let cache = OffsetCache()

  /// The zone named by an IANA identifier (`Europe/Amsterdam`), `UTC`, or `nil` for UTC.
  public init(identifier: String?) throws {
    guard let identifier else {
      zone = TimeZone(identifier: "UTC")!
      isUTC = true
      return
    }
    guard let zone = TimeZone(identifier: identifier) else {
      throw StoreError.invalid("unknown time zone '\(identifier)' (use an IANA name such as Europe/Amsterdam)")
    }
    self.zone = zone
    isUTC = zone.identifier == "UTC" || zone.identifier == "GMT"
  }

  /// The zone's name for people: `UTC`, `Europe/Amsterdam`.
  public var name: String { isUTC ? "UTC" : zone.identifier }

  /// Seconds east of UTC at `time`.
  ///
  /// Offsets only change on the hour (or half hour), so they are remembered per quarter hour.
  public func offset(at time: Timestamp) -> Int {
    if isUTC { return 0 }
    let slot = time.milliseconds / 900_000
    if let known = cache.lookup(slot) { return known }
    let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(time.milliseconds) / 1000))
    cache.store(slot, offset)
    return offset
  }

  /// `2026-11-21T11:00:00+01:00`: the local wall time with its offset.
  public func format(_ time: Timestamp) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(25)
    write(time, into: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Appends the UTF-8 of ``format(_:)`` to `bytes`.
  public func write(_ time: Timestamp, into bytes: inout [UInt8]) {
    let offset = offset(at: time)
    Timestamp(milliseconds: time.milliseconds + Int64(offset) * 1000).write(into: &bytes, milliseconds: false)
    bytes.append(offset < 0 ? 0x2D : 0x2B)
    let hours = abs(offset) / 3600
    let minutes = abs(offset) % 3600 / 60
    bytes += [UInt8(48 + hours / 10), UInt8(48 + hours % 10), 0x3A, UInt8(48 + minutes / 10), UInt8(48 + minutes % 10)]
  }

  /// Parses a time: with an explicit zone as given; a bare date or wall time in this zone.
  public func parse(_ text: String) -> Timestamp? {
    guard let asUTC = Timestamp(parsing: text) else { return nil }
    let hasZone = text.count > 19 && (text.hasSuffix("Z") || text.dropFirst(19).contains("+")
      || text.dropFirst(19).contains("-"))
    if hasZone { return asUTC }
    // Wall time: subtract the offset in force then (twice, to settle across a DST change).
    var guess = Timestamp(milliseconds: asUTC.milliseconds - Int64(offset(at: asUTC)) * 1000)
    guess = Timestamp(milliseconds: asUTC.milliseconds - Int64(offset(at: guess)) * 1000)
    return guess
  }

  /// Days since 1970-01-01 of the local calendar day at `time`.
  public func localDay(of time: Timestamp) -> Int {
    let local = time.seconds + Int64(offset(at: time))
    return Int(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
  }

  /// The moment the wall clock in this zone shows `secondOfDay` on local `day` (days since
  /// 1970-01-01); in a DST gap, the wall time the offset before the change gives.
  public func timestamp(day: Int, secondOfDay: Int) -> Timestamp {
    let wall = Int64(day) * 86_400_000 + Int64(secondOfDay) * 1000
    var guess = Timestamp(milliseconds: wall - Int64(offset(at: Timestamp(milliseconds: wall))) * 1000)
    guess = Timestamp(milliseconds: wall - Int64(offset(at: guess)) * 1000)
    return guess
  }

  /// `2026-12-03 07:00`: the local wall time to the minute, for tables.
  public func short(_ time: Timestamp) -> String {
    let text = format(time)
    return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5))
  }

  /// The local calendar day, `2026-11-21`.
  public func day(_ time: Timestamp) -> String { String(format(time).prefix(10)) }

  /// The local month, `2026-11`.
  public func month(_ time: Timestamp) -> String { String(format(time).prefix(7)) }

  /// The ISO 8601 week, `2026-W47`.
  public func week(_ time: Timestamp) -> String {
    var calendar = Calendar(identifier: .iso8601)
    calendar.timeZone = zone
    let date = Date(timeIntervalSince1970: Double(time.milliseconds) / 1000)
    let parts = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
    let week = parts.weekOfYear ?? 0
    return "\(parts.yearForWeekOfYear ?? 0)-W\(week < 10 ? "0" : "")\(week)"
  }
}

/// Remembered UTC offsets per quarter hour; a report runs on one thread.
final class OffsetCache: @unchecked Sendable {
  @exclusivity(unchecked) private var offsets: [Int64: Int] = [:]

  func lookup(_ slot: Int64) -> Int? { offsets[slot] }

  func store(_ slot: Int64, _ offset: Int) {
    if offsets.count > 100_000 { offsets.removeAll() }
    offsets[slot] = offset
  }
}
