import EvctlCore

extension Simulator {
  static let voltage = 230.0
  static let phases = 3.0
  static let batteryWh = 60_000.0

  /// StartTransaction on a connector; `context` 1 means the scenario waits for the session.
  func startTransaction(
    _ station: SimStation, connector: Int, tag: String, watts: Double, endsAfter: Double?, context: Int
  ) {
    var state = station.connectors[connector]
    state.starting = true
    state.transactionTag = tag
    state.targetWatts = watts
    state.chargeEndsAt = endsAfter.map { after($0) }
    state.meterStartWh = state.energyWh
    state.soc = 20
    state.transactionData = []
    state.scenarioOwned = context == 1
    station.connectors[connector] = state
    var payload: [String: JSONValue] = [
      "connectorId": .int(Int64(connector)), "idTag": .string(tag),
      "meterStart": .int(Int64(state.energyWh.rounded(.down))), "timestamp": .string(wallClock()),
    ]
    if let reservation = state.reservationId {
      payload["reservationId"] = .int(Int64(reservation))
      station.connectors[connector].reservationId = nil
    }
    call(station, "StartTransaction", .object(payload), context: connector)
  }

  func transactionStarted(_ station: SimStation, connector: Int, payload: JSONValue) {
    var state = station.connectors[connector]
    state.starting = false
    let status = payload["idTagInfo"]?["status"]?.stringValue ?? "Invalid"
    guard status == "Accepted", let id = payload["transactionId"]?.intValue else {
      emit(station, .note("StartTransaction on connector \(connector): \(status)"))
      let owned = state.scenarioOwned
      state.chargeEndsAt = nil
      state.scenarioOwned = false
      station.connectors[connector] = state
      settle(station, connector)
      if owned { stepFinished(station) }
      return
    }
    state.transactionId = id
    state.chargeStartedAt = now
    state.lastIntegratedAt = now
    state.powerWatts = 0
    state.transactionData.append(sample(state, context: "Transaction.Begin"))
    state.nextMeterAt = after(Double(max(1, station.configuration.int("MeterValueSampleInterval", 60))))
    station.connectors[connector] = state
    station.connectors[connector].powerWatts = offeredPower(station, connector)
    settle(station, connector)
  }

  /// StopTransaction with the final register and the samples of the session.
  func stopTransaction(_ station: SimStation, connector: Int, reason: String) {
    integrate(station, connector)
    var state = station.connectors[connector]
    guard let id = state.transactionId else { return }
    state.transactionData.append(sample(state, context: "Transaction.End"))
    var payload: [String: JSONValue] = [
      "transactionId": .int(Int64(id)), "meterStop": .int(Int64(state.energyWh.rounded(.down))),
      "timestamp": .string(wallClock()), "reason": .string(reason),
      "transactionData": .array(state.transactionData),
    ]
    if let tag = state.transactionTag { payload["idTag"] = .string(tag) }
    state.transactionId = nil
    state.powerWatts = 0
    state.nextMeterAt = nil
    state.chargeEndsAt = nil
    station.connectors[connector] = state
    call(station, "StopTransaction", .object(payload), context: connector)
    if let pending = state.pendingOperative {
      station.connectors[connector].operative = pending
      station.connectors[connector].pendingOperative = nil
    }
    setStatus(station, connector, state.faulted ? "Faulted" : (state.plugged ? "Finishing" : settledStatus(station, connector)),
              errorCode: state.faulted ? state.faultCode : "NoError")
  }

  func transactionStopped(_ station: SimStation, connector: Int) {
    if station.connectors[connector].scenarioOwned {
      station.connectors[connector].scenarioOwned = false
      stepFinished(station)
    }
  }

  /// Meter samples and scenario ends that are due.
  func chargingTick(_ station: SimStation) {
    for connector in station.connectors.indices where station.connectors[connector].transactionId != nil {
      if let end = station.connectors[connector].chargeEndsAt, end <= now {
        stopTransaction(station, connector: connector, reason: "Local")
        continue
      }
      if let at = station.connectors[connector].nextMeterAt, at <= now {
        integrate(station, connector)
        let state = station.connectors[connector]
        call(station, "MeterValues", [
          "connectorId": .int(Int64(connector)), "transactionId": .int(Int64(state.transactionId!)),
          "meterValue": [sample(state, context: "Sample.Periodic")],
        ])
        let interval = Double(max(1, station.configuration.int("MeterValueSampleInterval", 60)))
        station.connectors[connector].nextMeterAt = after(interval)
        settle(station, connector)
      }
    }
  }

  /// Advances the energy register to now at the power offered since the last time.
  func integrate(_ station: SimStation, _ connector: Int) {
    var state = station.connectors[connector]
    guard state.transactionId != nil else { return }
    let simulated = (now - state.lastIntegratedAt) * options.speed
    let wh = state.powerWatts * simulated / 3600
    state.energyWh += wh
    state.soc = min(100, state.soc + wh / Simulator.batteryWh * 100)
    state.lastIntegratedAt = now
    station.connectors[connector] = state
    station.connectors[connector].powerWatts = offeredPower(station, connector)
  }

  /// The charging curve: ramp up over a minute, hold at the target or the charging limit, taper
  /// above 80 % SoC, stop at 100 %.
  func offeredPower(_ station: SimStation, _ connector: Int) -> Double {
    let state = station.connectors[connector]
    guard state.transactionId != nil else { return 0 }
    let elapsed = (now - state.chargeStartedAt) * options.speed
    var power = state.targetWatts
    if let limit = limitWatts(station, connector) { power = min(power, limit) }
    if elapsed < 60 { power *= max(0.1, elapsed / 60) }
    if state.soc >= 100 { return 0 }
    if state.soc > 80 { power *= max(0.05, (100 - state.soc) / 20) }
    return max(0, power)
  }

  /// One meter value: energy, power, current per phase and SoC.
  func sample(_ state: ConnectorState, context: String) -> JSONValue {
    let amps = state.powerWatts / (Simulator.voltage * Simulator.phases)
    var values: [JSONValue] = [
      ["value": .string(String(Int64(state.energyWh.rounded(.down)))), "context": .string(context),
       "measurand": "Energy.Active.Import.Register", "unit": "Wh", "location": "Outlet"],
    ]
    if context != "Transaction.End" || true {
      values.append(["value": .string(Self.decimal(state.powerWatts, 1)), "context": .string(context),
                     "measurand": "Power.Active.Import", "unit": "W"])
      for phase in ["L1", "L2", "L3"] {
        values.append(["value": .string(Self.decimal(amps, 2)), "context": .string(context),
                       "measurand": "Current.Import", "phase": .string(phase), "unit": "A"])
      }
      values.append(["value": .string(Self.decimal(state.soc, 1)), "context": .string(context),
                     "measurand": "SoC", "unit": "Percent", "location": "EV"])
    }
    return ["timestamp": .string(wallClock()), "sampledValue": .array(values)]
  }

  static func decimal(_ value: Double, _ places: Int) -> String {
    var factor = 1.0
    for _ in 0..<places { factor *= 10 }
    let scaled = (value * factor).rounded()
    let whole = Int64(scaled / factor)
    let fraction = Int64(abs(scaled).truncatingRemainder(dividingBy: factor))
    guard places > 0 else { return String(whole) }
    let digits = String(fraction)
    return "\(scaled < 0 && whole == 0 ? "-" : "")\(whole).\(String(repeating: "0", count: places - digits.count))\(digits)"
  }
}
