import EvctlCore

extension CentralSystem {
  /// Records a command's end and applies what its answer teaches the store: the configuration
  /// snapshot, the local list mirror, reservations and installed charging profiles.
  public func commandFinished(
    _ command: RemoteCommand, state: CommandState, status: String?, response: JSONValue?,
    error: String?, sentAt: Timestamp, at now: Timestamp
  ) throws {
    try store.finishCommand(
      command.id, state: state, status: status, response: response, error: error, at: now,
      latencyMilliseconds: Int(now.milliseconds - sentAt.milliseconds))
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
      try store.db.run(
        """
        INSERT INTO station_configuration (station_id, key, value, readonly, fetched_at)
        VALUES (?, ?, ?, 0, ?) ON CONFLICT (station_id, key) DO UPDATE SET value = excluded.value,
          fetched_at = excluded.fetched_at
        """,
        [stationID, payload["key"]?.stringValue ?? "", payload["value"]?.stringValue, now.iso8601])
    case "GetLocalListVersion":
      guard let version = response?["listVersion"]?.intValue else { return }
      try store.db.run(
        """
        INSERT INTO local_lists (station_id, version, reported_version, updated_at) VALUES (?, 0, ?, ?)
        ON CONFLICT (station_id) DO UPDATE SET reported_version = excluded.reported_version,
          updated_at = excluded.updated_at
        """, [stationID, version, now.iso8601])
    case "SendLocalList" where state == .accepted:
      try store.applyLocalListUpdate(
        stationID: stationID, update: command, transitions: &localListTransitions, at: now)
    case "ReserveNow":
      guard let reservation = payload["reservationId"]?.intValue else { return }
      try store.db.run(
        "UPDATE reservations SET state = ?, status = ? WHERE id = ? AND state = 'requested'",
        [state == .accepted ? "active" : "rejected", status ?? error, reservation])
    case "CancelReservation" where state == .accepted:
      guard let reservation = payload["reservationId"]?.intValue else { return }
      try store.db.run(
        "UPDATE reservations SET state = 'cancelled' WHERE id = ? AND state IN ('requested', 'active')",
        [reservation])
    case "SetChargingProfile" where state == .accepted:
      try installProfile(payload, stationID: stationID, at: now)
    case "SetChargingProfile":
      // A station that refuses our TxProfile gets the limit as a TxDefaultProfile instead.
      let profile = payload["csChargingProfiles"]
      if profile?["chargingProfileId"]?.intValue.map({ $0 >= 2_000_000_000 }) == true,
        profile?["chargingProfilePurpose"]?.stringValue == "TxProfile",
        let transaction = profile?["transactionId"]?.intValue
      {
        try store.db.run(
          "UPDATE allocations SET purpose = 'TxDefaultProfile', sent_limit = NULL WHERE transaction_id = ?",
          [transaction])
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
      try store.db.run(
        """
        INSERT INTO station_configuration (station_id, key, value, readonly, known, fetched_at)
        VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (station_id, key) DO UPDATE SET value = excluded.value,
          readonly = excluded.readonly, known = 1, fetched_at = excluded.fetched_at
        """, [stationID, key, value, readonly, now.iso8601])
    }
    for key in response["unknownKey"]?.arrayValue ?? [] {
      guard let key = key.stringValue else { continue }
      try store.db.run(
        """
        INSERT INTO station_configuration (station_id, key, value, readonly, known, fetched_at)
        VALUES (?, ?, NULL, NULL, 0, ?) ON CONFLICT (station_id, key) DO UPDATE SET known = 0,
          value = NULL, fetched_at = excluded.fetched_at
        """, [stationID, key, now.iso8601])
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
    try store.db.run(
      """
      DELETE FROM installed_profiles WHERE station_id = ? AND (charging_profile_id = ?
        OR (connector_id = ? AND purpose = ? AND stack_level = ?))
      """, [stationID, id, connector, purpose, stackLevel])
    try store.db.run(
      """
      INSERT INTO installed_profiles (station_id, connector_id, charging_profile_id, purpose,
        stack_level, transaction_id, profile, installed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [stationID, connector, id, purpose, stackLevel, profile["transactionId"]?.intValue,
       profile.compact, now.iso8601])
    if id < Store.allocationProfileID(connector: 0) { wantRebalance("profile") }
  }

  private func clearProfiles(_ payload: JSONValue, stationID: Int) throws {
    if let id = payload["id"]?.intValue {
      try store.db.run(
        "DELETE FROM installed_profiles WHERE station_id = ? AND charging_profile_id = ?",
        [stationID, id])
      return
    }
    try store.db.run(
      """
      DELETE FROM installed_profiles WHERE station_id = ?1 AND (?2 IS NULL OR connector_id = ?2)
        AND (?3 IS NULL OR purpose = ?3) AND (?4 IS NULL OR stack_level = ?4)
      """,
      [stationID, payload["connectorId"]?.intValue, payload["chargingProfilePurpose"]?.stringValue,
       payload["stackLevel"]?.intValue])
  }

  /// Ends reservations whose time has passed.
  public func expireReservations(at now: Timestamp) throws {
    try store.db.run(
      "UPDATE reservations SET state = 'expired' WHERE state IN ('requested', 'active') AND expires_at <= ?",
      [now.iso8601])
  }
}
