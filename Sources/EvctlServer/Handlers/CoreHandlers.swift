import EvctlCore

extension CentralSystem {
  static let chargePointStatuses = [
    "Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Reserved",
    "Unavailable", "Faulted",
  ]
  static let chargePointErrorCodes = [
    "ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
    "InternalError", "LocalListConflict", "NoError", "OtherError", "OverCurrentFailure",
    "PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure", "ResetFailure", "UnderVoltage",
    "OverVoltage", "WeakSignal",
  ]

  /// The status words of each notification [S16 §7, security whitepaper §5].
  static let notificationStatuses: [String: [String]] = [
    "DiagnosticsStatusNotification": ["Idle", "Uploaded", "UploadFailed", "Uploading"],
    "FirmwareStatusNotification": [
      "Downloaded", "DownloadFailed", "Downloading", "Idle", "InstallationFailed", "Installing",
      "Installed",
    ],
    "SignedFirmwareStatusNotification": [
      "Downloaded", "DownloadFailed", "Downloading", "DownloadScheduled", "DownloadPaused", "Idle",
      "InstallationFailed", "Installing", "Installed", "InstallRebooting", "InstallScheduled",
      "InstallVerificationFailed", "InvalidSignature", "SignatureVerified",
    ],
    "LogStatusNotification": [
      "BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied", "Uploaded", "UploadFailure",
      "Uploading",
    ],
  ]

  /// BootNotification [S16 §4.2]: store what the station reports; the registration policy answers.
  func bootNotification(_ r: inout PayloadReader, _ c: CallContext) throws -> JSONValue {
    let vendor = try r.string("chargePointVendor", required: true, maxLength: 20)
    let model = try r.string("chargePointModel", required: true, maxLength: 20)
    let serial = try r.string("chargePointSerialNumber", maxLength: 25)
    let boxSerial = try r.string("chargeBoxSerialNumber", maxLength: 25)
    let firmware = try r.string("firmwareVersion", maxLength: 50)
    let iccid = try r.string("iccid", maxLength: 20)
    let imsi = try r.string("imsi", maxLength: 20)
    let meterType = try r.string("meterType", maxLength: 25)
    let meterSerial = try r.string("meterSerialNumber", maxLength: 25)
    guard let facts = try store.bootFacts(stationID: c.stationID)
    else { throw CallError(code: "SecurityError", description: "station no longer registered") }
    let policy = RegistrationPolicy(rawValue: facts.registrationPolicy ?? "") ?? .accept
    let interval = facts.heartbeatInterval ?? 300
    try store.recordBoot(
      stationID: c.stationID,
      Store.BootReport(
        vendor: vendor, model: model, serialNumber: serial, chargeBoxSerialNumber: boxSerial,
        firmwareVersion: firmware, iccid: iccid, imsi: imsi, meterType: meterType,
        meterSerialNumber: meterSerial),
      registrationStatus: policy.ocppStatus, at: c.now)
    let previousFirmware = facts.firmwareVersion
    var detail = "\(vendor ?? "") \(model ?? "") firmware \(firmware ?? "-"): \(policy.ocppStatus)"
    if let previousFirmware, let firmware, previousFirmware != firmware {
      detail += " (firmware changed from \(previousFirmware))"
    }
    // A boot means a reboot: open transactions now wait for the StopTransaction the station
    // queued (or become ghosts, which `transaction list --stuck` shows).
    let open = try store.activeTransactionIDs(stationID: c.stationID)
    if !open.isEmpty {
      detail += "; open transactions await their StopTransaction: \(open.map(String.init).joined(separator: ", "))"
    }
    try recordEvent(stationID: c.stationID, identity: c.identity, kind: "boot", detail: detail, at: c.now)
    if policy == .accept {
      try store.clearNotRegistered(identity: c.identity, stationID: c.stationID, at: c.now)
      let firmwareChanged = previousFirmware != nil && firmware != nil && previousFirmware != firmware
      try fetchConfiguration(c, firmwareChanged: firmwareChanged,
                             why: firmwareChanged ? "a firmware change" : "its first accepted boot")
    }
    return [
      "status": .string(policy.ocppStatus), "currentTime": .string(c.now.iso8601),
      "interval": .int(Int64(policy == .accept ? interval : min(interval, 60))),
    ]
  }

  /// Queues GetConfiguration (`serve --no-auto-config` turns it off) when the station has no
  /// snapshot yet or its firmware changed, unless one is already on its way. Queued in the
  /// current transaction and picked up on the next tick, so it follows the answer being built.
  func fetchConfiguration(_ c: CallContext, firmwareChanged: Bool, why: String) throws {
    guard configuration.autoConfiguration,
      try store.wantsConfigurationSnapshot(stationID: c.stationID, firmwareChanged: firmwareChanged)
    else { return }
    let command = try store.enqueueCommand(
      station: c.identity, action: "GetConfiguration", payload: [:], timeoutSeconds: 60,
      queue: true, expires: c.now.adding(seconds: 600))
    log("info: \(c.identity): fetching its configuration (command \(command.id)) after \(why)")
  }

  /// StatusNotification [S16 §4.9]: current state per connector plus the full history.
  func statusNotification(_ r: inout PayloadReader, _ c: CallContext) throws -> JSONValue {
    let connector = try r.connectorID(atLeast: 0)
    let status = try r.enumeration("status", CentralSystem.chargePointStatuses, required: true)!
    let errorCode = try r.enumeration("errorCode", CentralSystem.chargePointErrorCodes, required: true)
    let info = try r.string("info", maxLength: 50)
    let vendorID = try r.string("vendorId", maxLength: 255)
    let vendorError = try r.string("vendorErrorCode", maxLength: 50)
    let reported = try r.timestamp("timestamp")
    try store.recordConnectorStatus(
      Store.ConnectorStatusReport(
        stationID: c.stationID, connectorID: connector, status: status, errorCode: errorCode,
        info: info, vendorID: vendorID, vendorErrorCode: vendorError, reportedAt: reported?.0),
      at: c.now)
    try statusAlarms(stationID: c.stationID, identity: c.identity, connector: connector, status: status,
                     errorCode: errorCode, info: info, at: c.now)
    if connector > 0 { wantRebalance("status") }
    return [:]
  }

  /// Authorize [S16 §4.1]: the Core token function decides.
  func authorize(_ r: inout PayloadReader, _ c: CallContext) throws -> JSONValue {
    let idTag = try r.string("idTag", required: true, maxLength: 20)!
    let decision: AuthorizationDecision
    if try store.isFreeCharging(stationID: c.stationID, connectorID: nil, idTag: idTag) {
      decision = .freeCharging(at: c.now)
    } else {
      decision = try store.authorize(
        idTag: idTag, stationID: c.stationID, purpose: .authorize, at: c.now).decision
      if decision.status == .accepted {
        try store.noteTokenSeen(idTag: idTag, stationID: c.stationID, at: c.now)
      }
    }
    if decision.status != .accepted {
      try recordEvent(stationID: c.stationID, identity: c.identity, kind: "authorize_refused",
                      detail: "\(idTag): \(decision.status.rawValue) (\(decision.reason))", at: c.now)
    }
    return ["idTagInfo": decision.idTagInfo]
  }

  /// DataTransfer [S16 §4.3]: kept; no vendor extensions are known, so `UnknownVendorId`.
  func dataTransfer(_ r: inout PayloadReader, _ c: CallContext) throws -> JSONValue {
    _ = try r.string("vendorId", required: true, maxLength: 255)
    _ = try r.string("messageId", maxLength: 50)
    try keep("DataTransfer", payload: .object(r.fields), c)
    return ["status": "UnknownVendorId"]
  }

  /// Diagnostics, firmware and security-extension notifications: kept, and answered `{}`.
  func notification(_ action: String, _ r: inout PayloadReader, payload: JSONValue, _ c: CallContext)
    throws -> JSONValue
  {
    let summary: String
    var reported: Timestamp?
    switch action {
    case "DiagnosticsStatusNotification", "FirmwareStatusNotification",
      "SignedFirmwareStatusNotification", "LogStatusNotification":
      summary = try r.enumeration("status", Self.notificationStatuses[action] ?? [], required: true) ?? ""
    case "SecurityEventNotification":
      let type = try r.string("type", required: true, maxLength: 50) ?? ""
      reported = try r.timestamp("timestamp", required: true)?.0
      summary = type + ((try r.string("techInfo")).map { ": " + $0 } ?? "")
      try notificationAlarms(action, status: type, stationID: c.stationID, identity: c.identity, at: c.now)
    default:
      summary = ""
    }
    if action != "SecurityEventNotification" {
      try notificationAlarms(action, status: summary, stationID: c.stationID, identity: c.identity, at: c.now)
    }
    if summary == "Installed",
      action == "FirmwareStatusNotification" || action == "SignedFirmwareStatusNotification"
    {
      try fetchConfiguration(c, firmwareChanged: true, why: "a firmware update was installed")
    }
    try keep(action, payload: payload, c)
    let kind = action == "SecurityEventNotification" ? "security" : "notification"
    try recordEvent(stationID: c.stationID, identity: c.identity, kind: kind,
                    detail: "\(action): \(summary)", at: c.now, reported: reported)
    return [:]
  }
}
