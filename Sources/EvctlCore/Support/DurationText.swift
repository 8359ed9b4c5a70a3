/// Parses short durations such as `90d`, `2h`, `15m`, `30s` or `2w` into seconds.
public enum DurationText {
  /// Returns the number of seconds, or `nil` when the text is not a duration.
  public static func seconds(_ text: String) -> Int64? {
    if let plain = Int64(text) { return plain >= 0 ? plain : nil }
    guard let unit = text.last, let amount = Int64(text.dropLast()), amount >= 0 else {
      return nil
    }
    let factor: Int64
    switch unit {
    case "s": factor = 1
    case "m": factor = 60
    case "h": factor = 3600
    case "d": factor = 86_400
    case "w": factor = 604_800
    default: return nil
    }
    let (seconds, overflow) = amount.multipliedReportingOverflow(by: factor)
    return overflow ? nil : seconds
  }
}
