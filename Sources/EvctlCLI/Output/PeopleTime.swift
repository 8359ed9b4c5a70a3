import EvctlCore

/// How tables show times and durations to people: relative when near (`5m ago`, `in 2h`), else
/// short local (`2026-12-03 07:00` in `--tz`); durations as `1h30m`.
///
/// `-o wide`, JSON, CSV and TSV keep exact ISO 8601 UTC times and seconds.
public struct PeopleTime: Sendable {
  /// The moment "ago" counts from.
  public let now: Timestamp
  /// The zone of short times.
  public let zone: LocalTime

  /// Creates the view from `now` in `zone`.
  public init(now: Timestamp, zone: LocalTime) {
    self.now = now
    self.zone = zone
  }

  /// `5m ago`, `in 2h`, `just now`, or `2026-12-03 07:00` beyond a day.
  public func time(_ time: Timestamp) -> String {
    let delta = (now.milliseconds - time.milliseconds) / 1000
    let distance = delta < 0 ? -delta : delta
    if distance >= 86_400 { return zone.short(time) }
    if distance < 1 { return "just now" }
    // Seconds only under a minute, then whole minutes, then hours and minutes: `5m ago`, `1h30m ago`.
    let text = DurationText.format(seconds: distance < 60 ? distance : distance < 3600 ? distance / 60 * 60 : distance)
    return delta > 0 ? text + " ago" : "in " + text
  }

  /// `1h30m`.
  public func duration(seconds: Int64) -> String { DurationText.format(seconds: seconds) }
}
