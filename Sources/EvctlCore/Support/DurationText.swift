/// Parses short durations such as `90d`, `2h`, `15m`, `30s` or `2w` into seconds.
public enum DurationText {
  /// Returns the number of seconds, or `nil` when the text is not a duration.
  public static func seconds(_ text: String) -> Int64? {
    if let plain = Int64(text) { return plain >= 0 ? plain : nil }
    guard let unit = text.last, let amount = Int64(text.dropLast()), amount >= 0 else {
      return nil
    }
    switch unit {
    case "s": return amount
    case "m": return amount * 60
    case "h": return amount * 3600
    case "d": return amount * 86_400
    case "w": return amount * 604_800
    default: return nil
    }
  }
}
