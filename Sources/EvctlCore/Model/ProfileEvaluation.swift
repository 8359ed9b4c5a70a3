extension ChargingProfile {
  /// A profile as a station holds it (the `csChargingProfiles` it was sent).
  public static func installed(_ definition: JSONValue) -> ChargingProfile? {
    guard let id = definition["chargingProfileId"]?.intValue else { return nil }
    return ChargingProfile(id: id, name: String(id), definition: definition)
  }

  /// The limit in amperes per phase the profile sets at `now`, or `nil` when it sets none then:
  /// outside its validity, before its start, past its duration. Recurring profiles repeat from
  /// their start schedule; Relative ones run from the transaction's start; an Absolute one
  /// without a start schedule from when it was installed. Watts become amperes at 230 V.
  public func limit(at now: Timestamp, transactionStart: Timestamp?, installedAt: Timestamp?) -> Double? {
    if let validFrom, now < validFrom { return nil }
    if let validTo, now >= validTo { return nil }
    let start: Timestamp?
    switch kind {
    case .absolute: start = startSchedule ?? installedAt
    case .recurring: start = startSchedule
    case .relative: start = transactionStart ?? installedAt
    }
    guard let start else { return nil }
    var elapsed = (now.milliseconds - start.milliseconds) / 1000
    if kind == .recurring {
      let cycle: Int64 = recurrency == "Weekly" ? 604_800 : 86_400
      elapsed = ((elapsed % cycle) + cycle) % cycle
    }
    guard elapsed >= 0 else { return nil }
    if let duration, elapsed >= Int64(duration) { return nil }
    guard let period = periods.last(where: { Int64($0.startPeriod) <= elapsed }) else { return nil }
    guard unit == "W" else { return period.limit }
    return period.limit / (230 * Double(period.numberPhases ?? 3))
  }
}
