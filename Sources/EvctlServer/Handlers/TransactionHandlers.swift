import EvctlCore

extension CentralSystem {
  static let stopReasons = [
    "EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other", "PowerLoss", "Reboot",
    "Remote", "SoftReset", "UnlockCommand", "DeAuthorized",
  ]
  static let measurands = [
    "Current.Export", "Current.Import", "Current.Offered", "Energy.Active.Export.Register",
    "Energy.Active.Import.Register", "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register", "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval", "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval", "Frequency", "Power.Active.Export", "Power.Active.Import",
    "Power.Factor", "Power.Offered", "Power.Reactive.Export", "Power.Reactive.Import", "RPM", "SoC",
    "Temperature", "Voltage",
  ]
  static let units = [
    "Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar", "A", "V", "Celsius",
    "Fahrenheit", "K", "Percent",
  ]
  static let phases = ["L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"]
  static let readingContexts = [
    "Interruption.Begin", "Interruption.End", "Other", "Sample.Clock", "Sample.Periodic",
    "Transaction.Begin", "Transaction.End", "Trigger",
  ]
  static let locations = ["Body", "Cable", "EV", "Inlet", "Outlet"]

  /// StartTransaction [S16 §4.8]: the idTag is checked again; ids come from one positive 32-bit
  /// sequence; a retry with the same (station, connector, idTag, timestamp, meterStart) gets the
  /// same id back; a non-accepted tag still gets a transaction id.
  func startTransaction(_ r: inout PayloadReader, _ c: CallContext) throws -> JSONValue {
    let connector = try r.connectorID(atLeast: 1)
    let idTag = try r.string("idTag", required: true, maxLength: 20)!
    let meterStart = try r.int("meterStart", required: true)!
    warnImplausible(Double(meterStart), "meterStart", c, text: String(meterStart))
    let (started, rawTimestamp) = try r.timestamp("timestamp", required: true)!
    // A reservation id beyond 32 bits names no reservation of ours: ignored, like an unknown one.
    let reservation = try r.int("reservationId").flatMap { StationNumbers.fits($0) ? $0 : nil }
    if let existing = try store.repeatedStartTransactionID(
      stationID: c.stationID, connectorID: connector, idTag: idTag, rawTimestamp: rawTimestamp,
      meterStart: meterStart)
    {
      let decision = try store.isFreeCharging(stationID: c.stationID, connectorID: connector, idTag: idTag)
        ? .freeCharging(at: c.now)
        : try store.authorize(
          idTag: idTag, stationID: c.stationID, connectorID: connector, purpose: .authorize,
          at: c.now).decision
      return ["transactionId": .int(Int64(existing)), "idTagInfo": decision.idTagInfo]
    }
    // An open connector (free charging) accepts every tag; the session is anonymous: no token,
    // no user, the tag kept as the station sent it.
    let anonymous = try store.isFreeCharging(stationID: c.stationID, connectorID: connector, idTag: idTag)
    let (decision, tokenID): (AuthorizationDecision, Int?) = anonymous
      ? (.freeCharging(at: c.now), nil)
      : try store.authorize(
        idTag: idTag, stationID: c.stationID, connectorID: connector, purpose: .startTransaction,
        at: c.now)
    if !anonymous, decision.status == .accepted {
      try store.noteTokenSeen(idTag: idTag, stationID: c.stationID, at: c.now)
    }
    // A newer session on the connector replaces an open one: close it as superseded, ending
    // when the new one started (its StopTransaction, if it ever comes, is still recorded).
    try store.supersedeActiveTransactions(
      stationID: c.stationID, connectorID: connector, startedAt: started, at: c.now,
      sparing: idTag, rawTimestamp: rawTimestamp, meterStart: meterStart)
    guard let next = try store.nextTransactionID() else {
      throw CallError(code: "InternalError", description: "transaction id space exhausted")
    }
    let stored = try store.insertTransaction(
      Store.TransactionStart(
        id: next, stationID: c.stationID, connectorID: connector, idTag: idTag, tokenID: tokenID,
        parentIDTag: decision.parentIDTag, authorizationStatus: decision.status.rawValue,
        meterStart: meterStart, startedAt: started, rawTimestamp: rawTimestamp,
        reservationID: reservation, anonymous: anonymous),
      at: c.now)
    // Another node stored this very StartTransaction meanwhile (the station resent it): its id.
    guard stored == next else { return ["transactionId": .int(Int64(stored)), "idTagInfo": decision.idTagInfo] }
    wantRebalance("start")
    if let reservation {
      try store.useReservation(reservation, stationID: c.stationID, transactionID: next)
    }
    if decision.status != .accepted {
      try recordEvent(stationID: c.stationID, identity: c.identity, kind: "authorize_refused",
                      detail: "transaction \(next) for \(idTag): \(decision.status.rawValue) (\(decision.reason))",
                      at: c.now)
    }
    return ["transactionId": .int(Int64(next)), "idTagInfo": decision.idTagInfo]
  }

  /// StopTransaction [S16 §4.10]: always confirmed; unknown ids (and -1) are kept as orphans; only
  /// this station's own transactions can be closed.
  func stopTransaction(_ r: inout PayloadReader, _ c: CallContext) throws -> JSONValue {
    let transactionID = try r.int("transactionId", required: true)!
    let meterStop = try r.int("meterStop", required: true)!
    warnImplausible(Double(meterStop), "meterStop", c, text: String(meterStop))
    let (stopped, _) = try r.timestamp("timestamp", required: true)!
    let idTag = try r.string("idTag", maxLength: 20)
    let reason = try r.enumeration("reason", Self.stopReasons) ?? "Local"
    let data = try r.array("transactionData") ?? []
    let found = StationNumbers.fits(transactionID)
      ? try store.transactionConnector(transactionID, stationID: c.stationID) : nil
    if let found {
      try store.completeTransaction(
        transactionID, stationID: c.stationID, meterStop: meterStop, stoppedAt: stopped,
        reason: reason, stopIDTag: idTag, at: c.now)
      try storeMeterValues(data, connector: found,
                           transactionID: transactionID, c, reader: &r)
      try store.clearAlarms(stationID: c.stationID, kind: .stuckTransaction, code: String(transactionID), at: c.now)
      wantRebalance("stop")
      // A TxProfile ends with its transaction [S16 §3.13.1].
      try store.removeTransactionProfiles(stationID: c.stationID, transactionID: transactionID)
    } else {
      try store.recordOrphanStop(
        stationID: c.stationID, transactionID: transactionID, idTag: idTag, meterStop: meterStop,
        stoppedAt: stopped, reason: reason, at: c.now)
      try recordEvent(stationID: c.stationID, identity: c.identity, kind: "orphan_stop",
                      detail: "StopTransaction for unknown transaction \(transactionID)", at: c.now)
    }
    guard let idTag else { return [:] }
    let (decision, _) = try store.authorize(
      idTag: idTag, stationID: c.stationID, purpose: .authorize, at: c.now)
    return ["idTagInfo": decision.idTagInfo]
  }

  /// MeterValues [S16 §4.7]: every sampled value, energy normalised to Wh.
  func meterValues(_ r: inout PayloadReader, _ c: CallContext) throws -> JSONValue {
    let connector = try r.connectorID(atLeast: 0)
    var transactionID = try r.int("transactionId")
    if let id = transactionID,
      try !StationNumbers.fits(id) || !store.hasTransaction(id, stationID: c.stationID)
    {
      transactionID = nil
    }
    let values = try r.array("meterValue", required: true)!
    try storeMeterValues(values, connector: connector, transactionID: transactionID, c, reader: &r)
    if transactionID != nil, values.contains(where: { value in
      value["sampledValue"]?.arrayValue?.contains {
        $0["measurand"]?.stringValue?.lowercased() == "current.import"
      } == true
    }) {
      wantRebalance("reading")
    }
    return [:]
  }

  func storeMeterValues(_ values: [JSONValue], connector: Int, transactionID: Int?,
                        _ c: CallContext, reader r: inout PayloadReader) throws {
    for value in values {
      var entry = PayloadReader(value)
      let (sampledAt, _) = try entry.timestamp("timestamp", required: true)!
      for sample in try entry.array("sampledValue", required: true)! {
        var s = PayloadReader(sample)
        let text: String
        switch sample["value"] {
        case .string(let v)?: text = v
        case .int(let v)?: text = String(v)
        case .double(let v)?: text = String(v)
        default: throw CallError.missing("sampledValue.value")
        }
        let measurand = try s.enumeration("measurand", Self.measurands) ?? "Energy.Active.Import.Register"
        let unit = try s.enumeration("unit", Self.units) ?? (measurand.hasPrefix("Energy") ? "Wh" : nil)
        let number = Double(text.trimmingSpaces)
        var energy: Double?
        if measurand.hasPrefix("Energy.Active.Import.Register"), let number {
          energy = unit == "kWh" ? number * 1000 : number
          warnImplausible(energy!, "energy reading", c)
        }
        try store.insertMeterSample(Store.MeterSample(
          stationID: c.stationID, connectorID: connector, transactionID: transactionID,
          sampledAt: sampledAt, measurand: measurand, value: text, numericValue: number, unit: unit,
          phase: try s.enumeration("phase", Self.phases),
          context: try s.enumeration("context", Self.readingContexts) ?? "Sample.Periodic",
          location: try s.enumeration("location", Self.locations) ?? "Outlet",
          format: try s.enumeration("format", ["Raw", "SignedData"]) ?? "Raw", energyWh: energy))
        r.leniencies += s.leniencies
      }
      r.leniencies += entry.leniencies
    }
  }

  /// Range-checks a meter number on the way in: it is stored as sent, and reports flag the session
  /// and leave it out of sums (``MeterPlausibility``); serve says so once in its log.
  func warnImplausible(_ wh: Double, _ name: String, _ c: CallContext, text: String? = nil) {
    guard let problem = MeterPlausibility.registerProblem(wh, name: name, text: text) else { return }
    log("warning: \(c.identity): \(problem); stored as sent, left out of energy figures")
  }
}
