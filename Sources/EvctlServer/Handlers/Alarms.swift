import EvctlCore

/// One connector of one station, as a key.
struct StationConnector: Hashable {
  let stationID: Int
  let connector: Int
}

extension CentralSystem {
  /// Forgets what this node knows of a station's alarms in memory (it connected again, or one
  /// of its calls was rolled back with whatever that call cleared).
  public func forgetAlarmKnowledge(stationID: Int) {
    faultAlarmKnownClear = faultAlarmKnownClear.filter { $0.stationID != stationID }
  }

  static let firmwareFailures: Set<String> = [
    "DownloadFailed", "InstallationFailed", "InstallVerificationFailed", "InvalidSignature",
    "SignatureVerificationFailed",
  ]
  static let diagnosticsFailures: Set<String> = [
    "UploadFailed", "UploadFailure", "BadMessage", "PermissionDenied", "NotSupportedOperation",
  ]

  /// Raises an alarm and tells ``onAlarm`` and the operators with instant alarm mail
  /// (rate-limited, de-duplicated) when it is new.
  ///
  /// - Returns: whether the alarm is new.
  @discardableResult
  func raise(_ kind: AlarmKind, stationID: Int?, identity: String, connectorID: Int? = nil,
             code: String? = nil, detail: String?, occurrences: Int = 1, at now: Timestamp) throws -> Bool {
    guard let alarm = try store.raiseAlarm(
      stationID: stationID, identity: identity, kind: kind, connectorID: connectorID, code: code,
      detail: detail, occurrences: occurrences, at: now)
    else { return false }
    log("warning: alarm \(alarm.kind) for \(identity)\(connectorID.map { " connector \($0)" } ?? ""): \(detail ?? "")")
    if let onAlarm, alarmThrottle.admit(alarm, at: now) { onAlarm(alarm) }
    if mailsAlarms, mailThrottle.admit(alarm, at: now) { try store.queueAlarmMail(alarm) }
    return true
  }

  /// Alarms that follow from a status change of a connector.
  func statusAlarms(stationID: Int, identity: String, connector: Int, status: String,
                    errorCode: String?, info: String?, at now: Timestamp) throws {
    let key = StationConnector(stationID: stationID, connector: connector)
    if status == "Faulted" {
      faultAlarmKnownClear.remove(key)
      try raise(.connectorFaulted, stationID: stationID, identity: identity, connectorID: connector,
                code: errorCode, detail: [errorCode, info].compactMap { $0 }.joined(separator: ": "), at: now)
    } else if !faultAlarmKnownClear.contains(key) {
      try store.clearAlarms(stationID: stationID, kind: .connectorFaulted, connectorID: connector, at: now)
      faultAlarmKnownClear.insert(key)
    }
    if status == "Available", connector > 0,
      let open = try store.activeTransactionID(stationID: stationID, connectorID: connector)
    {
      try raise(.stuckTransaction, stationID: stationID, identity: identity, connectorID: connector,
                code: String(open), detail: "transaction \(open) is open while connector \(connector) reports Available",
                at: now)
    }
  }

  /// Alarms that follow from a firmware, diagnostics, log or security notification.
  func notificationAlarms(_ action: String, status: String, stationID: Int, identity: String,
                          at now: Timestamp) throws {
    switch action {
    case "FirmwareStatusNotification", "SignedFirmwareStatusNotification":
      if Self.firmwareFailures.contains(status) {
        try raise(.firmwareFailed, stationID: stationID, identity: identity, code: status,
                  detail: "firmware update: \(status)", at: now)
      } else if status == "Installed" {
        try store.clearAlarms(stationID: stationID, kind: .firmwareFailed, at: now)
      }
    case "DiagnosticsStatusNotification", "LogStatusNotification":
      if Self.diagnosticsFailures.contains(status) {
        try raise(.diagnosticsFailed, stationID: stationID, identity: identity, code: status,
                  detail: "\(action): \(status)", at: now)
      } else if status == "Uploaded" {
        try store.clearAlarms(stationID: stationID, kind: .diagnosticsFailed, at: now)
      }
    case "SecurityEventNotification":
      try raise(.security, stationID: stationID, identity: identity, code: status,
                detail: "security event \(status)", at: now)
    default:
      break
    }
  }

  /// Every 30 seconds: stations silent for three heartbeat intervals, and stuck transactions.
  public func periodicAlarms(at now: Timestamp) throws {
    guard try store.tryLockPeriodicAlarms() else { return }  // another node scans right now
    for silent in try store.silentStationsWithoutOfflineAlarm(at: now) {
      try raise(.offline, stationID: silent.stationID, identity: silent.identity,
                detail: "no frame since \(silent.lastSeenAt ?? "-")", at: now)
    }
    for id in try store.stuckTransactionIDs() {
      guard let place = try store.transactionPlace(id) else { continue }
      try raise(.stuckTransaction, stationID: place.stationID, identity: place.identity,
                connectorID: place.connectorID, code: String(id),
                detail: "transaction \(id) looks stuck (connector idle or station offline)", at: now)
    }
    try certificateExpiryAlarms(at: now)
  }
}
