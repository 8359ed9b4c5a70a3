import EvctlCore

/// The answer to a CSMS-initiated CALL.
enum CallAnswer {
  case result(JSONValue)
  case error(String, String)
}

/// An installed charging profile, reduced to what the simulated current needs.
struct ChargingProfileEntry {
  var id: Int
  var connector: Int
  var stackLevel: Int
  var purpose: String
  var transactionId: Int?
  var unit: String
  /// Periods as (start offset in seconds, limit).
  var periods: [(start: Double, limit: Double)]
  var phases: Double
  /// When the schedule starts: absolute, or the time it was installed.
  var startsAt: Double
}

extension Simulator {
  /// Answers a CALL from the central system as a well-behaved 1.6 charger would.
  func answerCall(_ station: SimStation, action: String, payload: JSONValue) -> CallAnswer {
    func status(_ value: String) -> CallAnswer { .result(["status": .string(value)]) }
    func connectorArgument(_ name: String = "connectorId", allowZero: Bool) -> Int? {
      guard let value = payload[name]?.intValue else { return nil }
      guard value >= (allowZero ? 0 : 1), value < station.connectors.count else { return nil }
      return value
    }
    switch action {
    case "Reset":
      guard let type = payload["type"]?.stringValue, type == "Hard" || type == "Soft" else {
        return .error("PropertyConstraintViolation", "type must be Hard or Soft")
      }
      return status("Accepted")
    case "ChangeAvailability":
      guard let connector = connectorArgument(allowZero: true),
        let type = payload["type"]?.stringValue, type == "Operative" || type == "Inoperative"
      else { return .error("PropertyConstraintViolation", "connectorId and type Operative|Inoperative are required") }
      let operative = type == "Operative"
      let targets = connector == 0 ? Array(station.connectors.indices) : [connector]
      var scheduled = false
      for target in targets {
        if station.connectors[target].transactionId != nil && !operative {
          station.connectors[target].pendingOperative = operative
          scheduled = true
        } else {
          station.connectors[target].operative = operative
        }
      }
      return status(scheduled ? "Scheduled" : "Accepted")
    case "UnlockConnector":
      guard connectorArgument(allowZero: false) != nil else { return status("NotSupported") }
      return status("Unlocked")
    case "GetConfiguration":
      let wanted = payload["key"]?.arrayValue?.compactMap(\.stringValue) ?? []
      let names = wanted.isEmpty ? station.configuration.order : wanted
      var known: [JSONValue] = []
      var unknown: [JSONValue] = []
      for name in names {
        if let value = station.configuration[name] {
          let readonly = station.configuration.keys[name]?.readonly ?? false
          known.append(["key": .string(name), "readonly": .bool(readonly), "value": .string(value)])
        } else {
          unknown.append(.string(name))
        }
      }
      var result: [String: JSONValue] = ["configurationKey": .array(known)]
      if !unknown.isEmpty { result["unknownKey"] = .array(unknown) }
      return .result(.object(result))
    case "ChangeConfiguration":
      guard let key = payload["key"]?.stringValue, let value = payload["value"]?.stringValue else {
        return .error("FormationViolation", "key and value are required")
      }
      return status(station.configuration.change(key, to: value))
    case "RemoteStartTransaction":
      guard let tag = payload["idTag"]?.stringValue else {
        return .error("FormationViolation", "idTag is required")
      }
      let connector = payload["connectorId"]?.intValue
        ?? station.connectors.indices.dropFirst().first { canStart(station, $0, tag: tag) }
      guard let connector, connector >= 1, connector < station.connectors.count,
        canStart(station, connector, tag: tag)
      else { return status("Rejected") }
      return status("Accepted")
    case "RemoteStopTransaction":
      guard let id = payload["transactionId"]?.intValue,
        station.connectors.contains(where: { $0.transactionId == id })
      else { return status("Rejected") }
      return status("Accepted")
    case "ReserveNow":
      guard let connector = payload["connectorId"]?.intValue, connector >= 0,
        connector < station.connectors.count, let id = payload["reservationId"]?.intValue,
        let tag = payload["idTag"]?.stringValue
      else { return .error("FormationViolation", "connectorId, reservationId and idTag are required") }
      guard connector > 0 else { return status("Rejected") }
      let state = station.connectors[connector]
      if state.faulted { return status("Faulted") }
      if !state.operative { return status("Unavailable") }
      if state.transactionId != nil || state.plugged || (state.reservationId != nil && state.reservationId != id) {
        return status("Occupied")
      }
      station.connectors[connector].reservationId = id
      station.connectors[connector].reservationTag = tag
      station.connectors[connector].reservationExpiry = payload["expiryDate"]?.stringValue.flatMap(Timestamp.init(parsing:))
      return status("Accepted")
    case "CancelReservation":
      guard let id = payload["reservationId"]?.intValue,
        let connector = station.connectors.firstIndex(where: { $0.reservationId == id })
      else { return status("Rejected") }
      station.connectors[connector].reservationId = nil
      return status("Accepted")
    case "SendLocalList":
      return sendLocalList(station, payload)
    case "GetLocalListVersion":
      return .result(["listVersion": .int(Int64(station.localListVersion))])
    case "ClearCache":
      station.authCache = [:]
      return status("Accepted")
    case "TriggerMessage":
      let supported = ["BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
                       "Heartbeat", "MeterValues", "StatusNotification"]
      guard let requested = payload["requestedMessage"]?.stringValue, supported.contains(requested) else {
        return status("NotImplemented")
      }
      if let connector = payload["connectorId"]?.intValue, connector < 0 || connector >= station.connectors.count {
        return status("Rejected")
      }
      return status("Accepted")
    case "SetChargingProfile":
      return setChargingProfile(station, payload)
    case "ClearChargingProfile":
      let before = station.profiles.count
      station.profiles.removeAll { profile in
        if let id = payload["id"]?.intValue { return profile.id == id }
        if let c = payload["connectorId"]?.intValue, c != profile.connector { return false }
        if let p = payload["chargingProfilePurpose"]?.stringValue, p != profile.purpose { return false }
        if let s = payload["stackLevel"]?.intValue, s != profile.stackLevel { return false }
        return true
      }
      return status(station.profiles.count < before ? "Accepted" : "Unknown")
    case "GetCompositeSchedule":
      return compositeSchedule(station, payload)
    case "DataTransfer":
      return status("UnknownVendorId")
    case "UpdateFirmware":
      guard let location = payload["location"]?.stringValue else {
        return .error("FormationViolation", "location is required")
      }
      let start = payload["retrieveDate"]?.stringValue.flatMap(Timestamp.init(parsing:))
      let delay = start.map { max(0, Double($0.milliseconds - Timestamp.now().milliseconds) / 1000) } ?? 0
      station.pendingFirmware = (location, now + delay / options.speed)
      return .result([:])
    case "GetDiagnostics":
      guard let location = payload["location"]?.stringValue else {
        return .error("FormationViolation", "location is required")
      }
      station.pendingDiagnostics = (location, now)
      return .result(["fileName": .string(diagnosticsFileName(station))])
    default:
      return .error("NotImplemented", "\(action) is not implemented by evctl simulate")
    }
  }

  /// What follows an answer: reboots, remote sessions, triggered messages.
  func afterAnswer(_ station: SimStation, action: String, payload: JSONValue, answer: CallAnswer) {
    guard case .result(let result) = answer else { return }
    let accepted = result["status"]?.stringValue == "Accepted"
    switch action {
    case "Reset" where accepted:
      for connector in station.connectors.indices where station.connectors[connector].transactionId != nil {
        stopTransaction(station, connector: connector,
                        reason: payload["type"]?.stringValue == "Hard" ? "HardReset" : "SoftReset")
      }
      station.rebootAt = now + 0.2
    case "ChangeAvailability":
      for connector in station.connectors.indices { settle(station, connector) }
    case "UnlockConnector":
      if let connector = payload["connectorId"]?.intValue, station.connectors[connector].transactionId != nil {
        stopTransaction(station, connector: connector, reason: "UnlockCommand")
      }
    case "ChangeConfiguration" where accepted:
      if payload["key"]?.stringValue == "HeartbeatInterval" {
        station.heartbeatSeconds = Double(station.configuration.int("HeartbeatInterval", 300))
        if options.loadRate == nil, station.inFlight.values.allSatisfy({ $0.action != "Heartbeat" }) {
          scheduleHeartbeat(station)
        }
      }
    case "RemoteStartTransaction" where accepted:
      let tag = payload["idTag"]?.stringValue ?? ""
      let connector = payload["connectorId"]?.intValue
        ?? station.connectors.indices.dropFirst().first { canStart(station, $0, tag: tag) } ?? 1
      station.connectors[connector].plugged = true
      if let profile = payload["chargingProfile"], profile.objectValue != nil {
        var withConnector = payload
        if case .object(var members) = withConnector {
          members["connectorId"] = .int(Int64(connector))
          members["csChargingProfiles"] = profile
          withConnector = .object(members)
        }
        _ = setChargingProfile(station, withConnector)
      }
      setStatus(station, connector, "Preparing")
      if station.configuration.bool("AuthorizeRemoteTxRequests") {
        station.currentTag = tag
        call(station, "Authorize", ["idTag": .string(tag)], context: connector)
      } else {
        startTransaction(station, connector: connector, tag: tag, watts: 11_000, endsAfter: nil, context: 0)
      }
    case "RemoteStopTransaction" where accepted:
      if let id = payload["transactionId"]?.intValue,
        let connector = station.connectors.firstIndex(where: { $0.transactionId == id })
      {
        stopTransaction(station, connector: connector, reason: "Remote")
      }
    case "ReserveNow" where accepted, "CancelReservation" where accepted:
      for connector in station.connectors.indices.dropFirst() { settle(station, connector) }
    case "TriggerMessage" where accepted:
      trigger(station, payload["requestedMessage"]?.stringValue ?? "", connector: payload["connectorId"]?.intValue)
    case "SetChargingProfile" where accepted, "ClearChargingProfile" where accepted:
      for connector in station.connectors.indices.dropFirst()
      where station.connectors[connector].transactionId != nil {
        integrate(station, connector)
      }
    default:
      break
    }
  }

  func canStart(_ station: SimStation, _ connector: Int, tag: String) -> Bool {
    guard connector >= 1, connector < station.connectors.count else { return false }
    let state = station.connectors[connector]
    if state.transactionId != nil || state.starting || state.faulted || !state.operative { return false }
    if let reserved = state.reservationTag, state.reservationId != nil, reserved != tag { return false }
    return true
  }

  func trigger(_ station: SimStation, _ message: String, connector: Int?) {
    switch message {
    case "BootNotification": sendBoot(station)
    case "Heartbeat": call(station, "Heartbeat", [:])
    case "StatusNotification":
      for index in connector.map({ [$0] }) ?? Array(station.connectors.indices) { sendStatus(station, index) }
    case "MeterValues":
      for index in connector.map({ [$0] }) ?? Array(station.connectors.indices.dropFirst()) where index > 0 {
        integrate(station, index)
        let state = station.connectors[index]
        var payload: [String: JSONValue] = [
          "connectorId": .int(Int64(index)), "meterValue": [sample(state, context: "Trigger")],
        ]
        if let id = state.transactionId { payload["transactionId"] = .int(Int64(id)) }
        call(station, "MeterValues", .object(payload))
      }
    case "FirmwareStatusNotification":
      call(station, "FirmwareStatusNotification", ["status": .string(station.firmwareStatus)])
    case "DiagnosticsStatusNotification":
      call(station, "DiagnosticsStatusNotification", ["status": .string(station.diagnosticsStatus)])
    default: break
    }
  }

  func sendLocalList(_ station: SimStation, _ payload: JSONValue) -> CallAnswer {
    guard let version = payload["listVersion"]?.intValue,
      let type = payload["updateType"]?.stringValue, type == "Full" || type == "Differential"
    else { return .error("FormationViolation", "listVersion and updateType Full|Differential are required") }
    guard station.configuration.bool("LocalAuthListEnabled") else { return .result(["status": "NotSupported"]) }
    let entries = payload["localAuthorizationList"]?.arrayValue ?? []
    guard entries.count <= station.configuration.int("SendLocalListMaxLength", 100) else {
      return .result(["status": "Failed"])
    }
    if type == "Differential" && version <= station.localListVersion && version != 0 {
      return .result(["status": "VersionMismatch"])
    }
    var list = type == "Full" ? [:] : station.localList
    for entry in entries {
      guard let tag = entry["idTag"]?.stringValue else { return .result(["status": "Failed"]) }
      if let info = entry["idTagInfo"], info.objectValue != nil { list[tag] = info } else { list[tag] = nil }
    }
    guard list.count <= station.configuration.int("LocalAuthListMaxLength", 1000) else {
      return .result(["status": "Failed"])
    }
    station.localList = list
    station.localListVersion = version
    return .result(["status": "Accepted"])
  }

  func reboot(_ station: SimStation) {
    if station.link == .open { send(station, ClientFrames.close(.normal, mask: random.mask())) }
    closeSocket(station)
    emit(station, .note("rebooting"))
    station.failures = 0
    station.reconnectAt = now + 1
    for index in station.connectors.indices {
      station.connectors[index].operative = station.connectors[index].pendingOperative ?? station.connectors[index].operative
      station.connectors[index].pendingOperative = nil
      station.connectors[index].reservationId = nil
      station.connectors[index].status = station.connectors[index].faulted ? "Faulted" : (station.connectors[index].operative ? "Available" : "Unavailable")
      station.connectors[index].plugged = false
    }
  }

  func diagnosticsFileName(_ station: SimStation) -> String {
    "diagnostics-\(StationURL.percentEncode(station.identity)).txt"
  }

  /// Firmware and diagnostics jobs that are due (HTTP transfers, then status notifications).
  func operationsTick(_ station: SimStation) {
    if let job = station.pendingFirmware, job.at <= now {
      station.pendingFirmware = nil
      firmwareUpdate(station, location: job.location)
    }
    if let job = station.pendingDiagnostics, job.at <= now {
      station.pendingDiagnostics = nil
      uploadDiagnostics(station, location: job.location)
    }
  }
}
