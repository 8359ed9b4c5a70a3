/// Parses and prints short durations such as `90d`, `2h`, `1h30m`, `30s` or `2w`.
public enum DurationText {
  /// The longest duration accepted: 1000 years of 365.25 days, far beyond any lifetime or
  /// retention, and small enough that adding it to any stored time cannot overflow.
  public static let maximumSeconds: Int64 = 1000 * 31_557_600

  /// Returns the number of seconds, or `nil` when the text is not a duration (or is longer than
  /// ``maximumSeconds``).
  ///
  /// A plain number is seconds; otherwise one or more `<number><unit>` parts, units `s`, `m`, `h`,
  /// `d`, `w` (`1h30m`). No sign: callers decide which way a duration points.
  public static func seconds(_ text: String) -> Int64? {
    switch parse(text) {
    case .success(let seconds): return seconds
    case .failure: return nil
    }
  }

  /// Why a text is not a duration.
  public enum Failure: Error, Equatable, Sendable {
    /// Not of the form `90d`, `1h30m`.
    case malformed
    /// Well formed but longer than ``DurationText/maximumSeconds``.
    case tooLong
  }

  /// Parses `text` like ``seconds(_:)`` but says why it failed.
  public static func parse(_ text: String) -> Result<Int64, Failure> {
    guard !text.isEmpty else { return .failure(.malformed) }
    var total: Int64 = 0
    var amount: Int64 = 0
    var sawDigit = false
    var overflow = false
    var sawUnit = false
    for byte in text.utf8 {
      if byte >= 48, byte <= 57 {
        let (times, o1) = amount.multipliedReportingOverflow(by: 10)
        let (plus, o2) = times.addingReportingOverflow(Int64(byte - 48))
        overflow = overflow || o1 || o2
        amount = plus
        sawDigit = true
        continue
      }
      guard sawDigit, let unit = unitSeconds(byte) else { return .failure(.malformed) }
      let (part, o1) = amount.multipliedReportingOverflow(by: unit)
      let (sum, o2) = total.addingReportingOverflow(part)
      overflow = overflow || o1 || o2
      total = sum
      amount = 0
      sawDigit = false
      sawUnit = true
    }
    if sawDigit {
      // A trailing number without a unit is only allowed alone (plain seconds).
      guard !sawUnit else { return .failure(.malformed) }
      total = amount
    }
    if overflow || total > maximumSeconds { return .failure(.tooLong) }
    return .success(total)
  }

  private static func unitSeconds(_ byte: UInt8) -> Int64? {
    switch byte {
    case 0x73: return 1
    case 0x6D: return 60
    case 0x68: return 3600
    case 0x64: return 86_400
    case 0x77: return 604_800
    default: return nil
    }
  }

  /// A duration for people: at most two units, largest first (`1h30m`, `2d3h`, `45s`, `0s`).
  ///
  /// Negative durations get a leading `-`.
  public static func format(seconds: Int64) -> String {
    if seconds < 0 {
      return "-" + format(seconds: seconds == Int64.min ? Int64.max : -seconds)
    }
    let units: [(Int64, String)] = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")]
    guard let first = units.firstIndex(where: { seconds >= $0.0 }) else { return "0s" }
    let (size, name) = units[first]
    var text = "\(seconds / size)\(name)"
    if first + 1 < units.count {
      let (smaller, smallerName) = units[first + 1]
      let rest = seconds % size / smaller
      if rest > 0 { text += "\(rest)\(smallerName)" }
    }
    return text
  }
}
