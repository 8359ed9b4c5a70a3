import EvctlCore

extension CentralSystem {
  /// Records a command's end and applies what its answer teaches the store: the configuration
  /// snapshot, the local list mirror, reservations and installed charging profiles.
  public func commandFinished(
    _ command: RemoteCommand, state: CommandState, status: String?, response: JSONValue?,
    error: String?, sentAt: Timestamp, at now: Timestamp
  ) throws {
    guard try store.finishCommand(
      command.id, state: state, status: status, response: response, error: error, at: now,
      latencyMilliseconds: Int(now.milliseconds - sentAt.milliseconds))
    else {
      // Settled meanwhile (outcome unknown: the station moved to another node, or this node was
      // declared dead): that record stands, and nothing follows from this late outcome.
      log("warning: outcome of an already settled command dropped " + ServeLog.fields(
        ["command": String(command.id), "action": command.action, "outcome": state.rawValue]))
      return
    }
    let stationID = command.stationID
    let payload = Self.needsPayload.contains(command.action) ? command.payload : [:]
    try certificateFollowUp(command, state: state, response: response, at: now)
    switch command.action {
    case "ChangeConfiguration" where payload["key"]?.stringValue == "AuthorizationKey":
      // The station's new password is never kept readable (its hash is stored by the CLI).
      break
    case "GetConfiguration":
      guard let response else { return }
      try storeConfiguration(response, stationID: stationID, at: now)
    case "ChangeConfiguration" where state == .accepted:
      try store.noteConfigurationChanged(
        stationID: stationID, key: payload["key"]?.stringValue ?? "", value: payload["value"]?.stringValue,
        at: now)
    case "GetLocalListVersion":
      guard let version = response?["listVersion"]?.intValue else { return }
      try store.noteReportedLocalListVersion(stationID: stationID, version: version, at: now)
    case "SendLocalList" where state == .accepted:
      try store.applyLocalListUpdate(
        stationID: stationID, update: command, transitions: &localListTransitions, at: now)
    case "ReserveNow":
      guard let reservation = payload["reservationId"]?.intValue else { return }
      try store.settleReservation(reservation, accepted: state == .accepted, status: status ?? error)
    case "CancelReservation" where state == .accepted:
      guard let reservation = payload["reservationId"]?.intValue else { return }
      try store.cancelReservation(reservation)
    case "SetChargingProfile" where state == .accepted:
      try installProfile(payload, stationID: stationID, at: now)
    case "SetChargingProfile":
      // A station that refuses our TxProfile gets the limit as a TxDefaultProfile instead.
      let profile = payload["csChargingProfiles"]
      if profile?["chargingProfileId"]?.intValue.map({ $0 >= 2_000_000_000 }) == true,
        profile?["chargingProfilePurpose"]?.stringValue == "TxProfile",
        let transaction = profile?["transactionId"]?.intValue
      {
        try store.fallBackToDefaultProfile(transactionID: transaction)
        wantRebalance("fallback")
      }
    case "ClearChargingProfile" where state == .accepted:
      try clearProfiles(payload, stationID: stationID)
    default:
      break
    }
  }

  /// Actions whose follow-up reads the request payload.
  static let needsPayload: Set<String> = [
    "ChangeConfiguration", "ReserveNow", "CancelReservation", "SetChargingProfile", "ClearChargingProfile",
  ]


  private func storeConfiguration(_ response: JSONValue, stationID: Int, at now: Timestamp) throws {
    for entry in response["configurationKey"]?.arrayValue ?? [] {
      guard let key = entry["key"]?.stringValue else { continue }
      let value: String?
      switch entry["value"] {
      case .string(let text)?: value = text
      case nil, .null?: value = nil
      case let other?: value = other.compact
      }
      let readonly: Bool
      switch entry["readonly"] {
      case .bool(let flag)?: readonly = flag
      case .string(let text)?: readonly = text.lowercased() == "true"
      default: readonly = false
      }
      try store.storeConfigurationKey(stationID: stationID, key: key, value: value, readonly: readonly, at: now)
    }
    for key in response["unknownKey"]?.arrayValue ?? [] {
      guard let key = key.stringValue else { continue }
      try store.storeUnknownConfigurationKey(stationID: stationID, key: key, at: now)
    }
  }

  private func installProfile(_ payload: JSONValue, stationID: Int, at now: Timestamp) throws {
    guard let connector = payload["connectorId"]?.intValue,
      let profile = payload["csChargingProfiles"],
      let id = profile["chargingProfileId"]?.intValue,
      let purpose = profile["chargingProfilePurpose"]?.stringValue,
      let stackLevel = profile["stackLevel"]?.intValue
    else { return }
    // The station replaces a profile with the same id, or the same purpose and stack level.
    try store.installProfile(
      Store.InstalledProfile(
        stationID: stationID, connectorID: connector, chargingProfileID: id, purpose: purpose,
        stackLevel: stackLevel, transactionID: profile["transactionId"]?.intValue, profile: profile.compact),
      at: now)
    if id < Store.allocationProfileID(connector: 0) { wantRebalance("profile") }
  }

  private func clearProfiles(_ payload: JSONValue, stationID: Int) throws {
    if let id = payload["id"]?.intValue {
      try store.removeInstalledProfile(stationID: stationID, chargingProfileID: id)
      return
    }
    try store.removeInstalledProfiles(
      stationID: stationID, connectorID: payload["connectorId"]?.intValue,
      purpose: payload["chargingProfilePurpose"]?.stringValue, stackLevel: payload["stackLevel"]?.intValue)
  }

  /// Ends reservations whose time has passed.
  public func expireReservations(at now: Timestamp) throws {
    try store.expireReservations(at: now)
  }
}
