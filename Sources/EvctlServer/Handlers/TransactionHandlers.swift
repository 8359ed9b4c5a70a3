import EvctlCore

extension CentralSystem {
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
      let (decision, _) = try store.authorize(
        idTag: idTag, stationID: c.stationID, connectorID: connector, purpose: .authorize, at: c.now)
      return ["transactionId": .int(Int64(existing.int("id")!)), "idTagInfo": decision.idTagInfo]
    }
    let (decision, tokenID) = try store.authorize(
      idTag: idTag, stationID: c.stationID, connectorID: connector, purpose: .startTransaction,
      at: c.now)
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
        received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [next, c.stationID, connector, idTag, tokenID, decision.parentIDTag,
       decision.status.rawValue, meterStart, started.iso8601, rawTimestamp, reservation,
       c.now.iso8601])
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
    let reason = try r.enumeration(
      "reason",
      ["EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other", "PowerLoss", "Reboot",
       "Remote", "SoftReset", "UnlockCommand", "DeAuthorized"]) ?? "Local"
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
      value["sampledValue"]?.arrayValue?.contains { $0["measurand"]?.stringValue == "Current.Import" } == true
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
        let measurand = try s.string("measurand") ?? "Energy.Active.Import.Register"
        let unit = try s.string("unit") ?? (measurand.hasPrefix("Energy") ? "Wh" : nil)
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
           try s.string("phase"), try s.string("context") ?? "Sample.Periodic",
           try s.string("location") ?? "Outlet", try s.string("format") ?? "Raw", energy])
      }
    }
  }

  /// Range-checks a meter number on the way in: it is stored as sent, and reports flag the session
  /// and leave it out of sums (``MeterPlausibility``); serve says so once in its log.
  func warnImplausible(_ wh: Double, _ name: String, _ c: CallContext, text: String? = nil) {
    guard let problem = MeterPlausibility.registerProblem(wh, name: name, text: text) else { return }
    log("warning: \(c.identity): \(problem); stored as sent, left out of energy figures")
  }
}
