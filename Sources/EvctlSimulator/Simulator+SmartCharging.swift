import EvctlCore

extension Simulator {
  /// Installs a profile [S16 §3.13]: same id or same purpose and stack level replaces.
  func setChargingProfile(_ station: SimStation, _ payload: JSONValue) -> CallAnswer {
    guard let connector = payload["connectorId"]?.intValue, connector >= 0,
      connector < station.connectors.count, let profile = payload["csChargingProfiles"],
      let id = profile["chargingProfileId"]?.intValue, let stack = profile["stackLevel"]?.intValue,
      let purpose = profile["chargingProfilePurpose"]?.stringValue,
      let schedule = profile["chargingSchedule"], let unit = schedule["chargingRateUnit"]?.stringValue,
      let periods = schedule["chargingSchedulePeriod"]?.arrayValue, !periods.isEmpty
    else {
      return .error("FormationViolation", "connectorId and a complete csChargingProfiles are required")
    }
    guard ["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"].contains(purpose),
      unit == "A" || unit == "W"
    else { return .result(["status": "Rejected"]) }
    guard stack >= 0, stack <= station.configuration.int("ChargeProfileMaxStackLevel", 8),
      periods.count <= station.configuration.int("ChargingScheduleMaxPeriods", 24)
    else { return .result(["status": "Rejected"]) }
    if purpose == "ChargePointMaxProfile" && connector != 0 { return .result(["status": "Rejected"]) }
    if purpose == "TxProfile" {
      guard connector > 0, let running = station.connectors[connector].transactionId else {
        return .result(["status": "Rejected"])
      }
      if let wanted = profile["transactionId"]?.intValue, wanted != running { return .result(["status": "Rejected"]) }
    }
    var parsed: [(start: Double, limit: Double)] = []
    for period in periods {
      guard let start = period["startPeriod"]?.doubleValue, let limit = period["limit"]?.doubleValue,
        start >= 0, limit >= 0
      else { return .error("PropertyConstraintViolation", "each period needs startPeriod and limit") }
      parsed.append((start, limit))
    }
    parsed.sort { $0.start < $1.start }
    var startsAt = now
    if let text = schedule["startSchedule"]?.stringValue, let start = Timestamp(parsing: text) {
      startsAt = now + Double(start.milliseconds - Timestamp.now().milliseconds) / 1000 / options.speed
    }
    station.profiles.removeAll {
      $0.id == id || ($0.connector == connector && $0.purpose == purpose && $0.stackLevel == stack)
    }
    if station.profiles.count >= station.configuration.int("MaxChargingProfilesInstalled", 16) {
      return .result(["status": "Rejected"])
    }
    station.profiles.append(ChargingProfileEntry(
      id: id, connector: connector, stackLevel: stack, purpose: purpose,
      transactionId: purpose == "TxProfile" ? station.connectors[connector].transactionId : nil,
      unit: unit, periods: parsed,
      phases: Double(parsed.isEmpty ? 3 : (periods[0]["numberPhases"]?.intValue ?? 3)), startsAt: startsAt))
    return .result(["status": "Accepted"])
  }

  /// The limit in watts a profile gives now, or nil when it does not apply.
  func profileLimit(_ profile: ChargingProfileEntry) -> Double? {
    let elapsed = (now - profile.startsAt) * options.speed
    guard elapsed >= 0 else { return nil }
    guard let period = profile.periods.last(where: { $0.start <= elapsed }) else { return nil }
    return profile.unit == "W" ? period.limit : period.limit * Simulator.voltage * profile.phases
  }

  /// The composite limit on a connector in watts: the highest-stack TxProfile of the running
  /// transaction, else TxDefaultProfile (connector's own, then connector 0), capped by
  /// ChargePointMaxProfile.
  func limitWatts(_ station: SimStation, _ connector: Int) -> Double? {
    func top(_ matching: (ChargingProfileEntry) -> Bool) -> Double? {
      for profile in station.profiles.filter(matching).sorted(by: { $0.stackLevel > $1.stackLevel }) {
        if let limit = profileLimit(profile) { return limit }
      }
      return nil
    }
    let running = station.connectors[connector].transactionId
    let tx = top { $0.purpose == "TxProfile" && $0.connector == connector && $0.transactionId == running }
      ?? top { $0.purpose == "TxDefaultProfile" && $0.connector == connector }
      ?? top { $0.purpose == "TxDefaultProfile" && $0.connector == 0 }
    let max = top { $0.purpose == "ChargePointMaxProfile" }
    switch (tx, max) {
    case (let a?, let b?): return min(a, b)
    case (let a?, nil): return a
    case (nil, let b?): return b
    default: return nil
    }
  }

  /// GetCompositeSchedule: the limit in force now, as one period over the asked duration.
  func compositeSchedule(_ station: SimStation, _ payload: JSONValue) -> CallAnswer {
    guard let connector = payload["connectorId"]?.intValue, connector >= 0,
      connector < station.connectors.count, let duration = payload["duration"]?.intValue
    else { return .error("FormationViolation", "connectorId and duration are required") }
    let unit = payload["chargingRateUnit"]?.stringValue ?? "A"
    let watts = connector == 0
      ? station.profiles.filter { $0.purpose == "ChargePointMaxProfile" }.compactMap(profileLimit).min()
      : limitWatts(station, connector)
    guard let watts else { return .result(["status": "Rejected"]) }
    let limit = unit == "W" ? watts : watts / (Simulator.voltage * Simulator.phases)
    return .result([
      "status": "Accepted", "connectorId": .int(Int64(connector)), "scheduleStart": .string(wallClock()),
      "chargingSchedule": [
        "duration": .int(Int64(duration)), "chargingRateUnit": .string(unit),
        "chargingSchedulePeriod": [["startPeriod": 0, "limit": .double((limit * 10).rounded() / 10)]],
      ],
    ])
  }
}
