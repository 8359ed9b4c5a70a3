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
    guard let connector = try r.int("connectorId", required: true), connector > 0 else {
      throw CallError.value("connectorId", "must be 1 or more")
    }
    let idTag = try r.string("idTag", required: true, maxLength: 20)!
    let meterStart = try r.int("meterStart", required: true)!
    warnImplausible(Double(meterStart), "meterStart", c, text: String(meterStart))
    let (started, rawTimestamp) = try r.timestamp("timestamp", required: true)!
    let reservation = try r.int("reservationId")
    if let existing = try store.db.queryOne(
      """
      SELECT id, authorization_status, parent_id_tag FROM transactions WHERE station_id = ?
        AND connector_id = ? AND id_tag = ? AND start_timestamp_raw = ? AND meter_start = ?
      """, [c.stationID, connector, idTag, rawTimestamp, meterStart])
    {
      let decision = try store.isFreeCharging(stationID: c.stationID, connectorID: connector, idTag: idTag)
        ? .freeCharging(at: c.now)
        : try store.authorize(
          idTag: idTag, stationID: c.stationID, connectorID: connector, purpose: .authorize,
          at: c.now).decision
      return ["transactionId": .int(Int64(existing.int("id")!)), "idTagInfo": decision.idTagInfo]
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
    try store.db.run(
      """
      UPDATE transactions SET state = 'superseded', stop_reason = 'superseded',
        stopped_at = CASE WHEN started_at <= ?1 THEN ?1 ELSE started_at END, stop_received_at = ?2
      WHERE station_id = ?3 AND connector_id = ?4 AND state = 'active'
      """, [started.iso8601, c.now.iso8601, c.stationID, connector])
    guard let next = try store.nextTransactionID() else {
      throw CallError(code: "InternalError", description: "transaction id space exhausted")
    }
    try store.db.run(
      """
      INSERT INTO transactions (id, station_id, connector_id, id_tag, token_id, parent_id_tag,
        authorization_status, meter_start, started_at, start_timestamp_raw, reservation_id,
        received_at, anonymous) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [next, c.stationID, connector, idTag, tokenID, decision.parentIDTag,
       decision.status.rawValue, meterStart, started.iso8601, rawTimestamp, reservation,
       c.now.iso8601, anonymous])
    wantRebalance("start")
    if let reservation {
      try store.db.run(
        """
        UPDATE reservations SET state = 'used', transaction_id = ? WHERE id = ? AND station_id = ?
          AND state IN ('requested', 'active')
        """, [next, reservation, c.stationID])
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
    let found = try store.db.queryOne(
      "SELECT connector_id FROM transactions WHERE id = ? AND station_id = ?",
      [transactionID, c.stationID])
    if let found {
      try store.db.run(
        """
        UPDATE transactions SET meter_stop = ?, stopped_at = ?, stop_reason = ?, stop_id_tag = ?,
          state = 'completed', stop_received_at = ? WHERE id = ? AND station_id = ?
        """,
        [meterStop, stopped.iso8601, reason, idTag, c.now.iso8601, transactionID, c.stationID])
      try storeMeterValues(data, connector: found.int("connector_id") ?? 0,
                           transactionID: transactionID, c, reader: &r)
      try store.clearAlarms(stationID: c.stationID, kind: .stuckTransaction, code: String(transactionID), at: c.now)
      wantRebalance("stop")
      // A TxProfile ends with its transaction [S16 §3.13.1].
      try store.db.run(
        "DELETE FROM installed_profiles WHERE station_id = ? AND transaction_id = ? AND purpose = 'TxProfile'",
        [c.stationID, transactionID])
    } else {
      try store.db.run(
        """
        INSERT INTO orphan_stops (station_id, transaction_id, id_tag, meter_stop, stopped_at, reason,
          received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
        """, [c.stationID, transactionID, idTag, meterStop, stopped.iso8601, reason, c.now.iso8601])
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
    guard let connector = try r.int("connectorId", required: true), connector >= 0 else {
      throw CallError.value("connectorId", "must be 0 or more")
    }
    var transactionID = try r.int("transactionId")
    if let id = transactionID,
      try store.db.queryOne(
        "SELECT 1 FROM transactions WHERE id = ? AND station_id = ?", [id, c.stationID]) == nil
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
        try store.db.run(
          """
          INSERT INTO meter_values (station_id, connector_id, transaction_id, sampled_at, measurand,
            value, numeric_value, unit, phase, context, location, format, energy_wh)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
          [c.stationID, connector, transactionID, sampledAt.iso8601, measurand, text, number, unit,
           try s.enumeration("phase", Self.phases),
           try s.enumeration("context", Self.readingContexts) ?? "Sample.Periodic",
           try s.enumeration("location", Self.locations) ?? "Outlet",
           try s.enumeration("format", ["Raw", "SignedData"]) ?? "Raw", energy])
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
