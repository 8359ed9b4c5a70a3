/// The configuration keys a simulated station keeps, as a real 1.6 charger reports them [S16 §9].
struct ConfigurationKeys {
  enum Kind { case integer, boolean, list, text }

  struct Key {
    var value: String
    var readonly: Bool
    var kind: Kind
  }

  private(set) var keys: [String: Key] = [:]
  /// The key names in the order GetConfiguration lists them.
  private(set) var order: [String] = []

  init(connectors: Int) {
    let table: [(String, String, Bool, Kind)] = [
      ("AllowOfflineTxForUnknownId", "false", false, .boolean),
      ("AuthorizationCacheEnabled", "true", false, .boolean),
      ("AuthorizeRemoteTxRequests", "false", false, .boolean),
      ("ChargeProfileMaxStackLevel", "8", true, .integer),
      ("ChargingScheduleAllowedChargingRateUnit", "Current,Power", true, .list),
      ("ChargingScheduleMaxPeriods", "24", true, .integer),
      ("ClockAlignedDataInterval", "0", false, .integer),
      ("ConnectionTimeOut", "60", false, .integer),
      ("ConnectorPhaseRotation", "0.RST", false, .list),
      ("GetConfigurationMaxKeys", "50", true, .integer),
      ("HeartbeatInterval", "300", false, .integer),
      ("LocalAuthListEnabled", "true", false, .boolean),
      ("LocalAuthListMaxLength", "1000", true, .integer),
      ("LocalAuthorizeOffline", "true", false, .boolean),
      ("LocalPreAuthorize", "false", false, .boolean),
      ("MaxChargingProfilesInstalled", "16", true, .integer),
      ("MeterValuesAlignedData", "Energy.Active.Import.Register", false, .list),
      ("MeterValuesSampledData",
       "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC", false, .list),
      ("MeterValueSampleInterval", "60", false, .integer),
      ("MinimumStatusDuration", "0", false, .integer),
      ("NumberOfConnectors", String(connectors), true, .integer),
      ("ResetRetries", "3", false, .integer),
      ("SendLocalListMaxLength", "100", true, .integer),
      ("StopTransactionOnEVSideDisconnect", "true", false, .boolean),
      ("StopTransactionOnInvalidId", "true", false, .boolean),
      ("StopTxnAlignedData", "", false, .list),
      ("StopTxnSampledData", "Energy.Active.Import.Register", false, .list),
      ("SupportedFeatureProfiles",
       "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
       true, .list),
      ("TransactionMessageAttempts", "3", false, .integer),
      ("TransactionMessageRetryInterval", "60", false, .integer),
      ("UnlockConnectorOnEVSideDisconnect", "true", false, .boolean),
      ("WebSocketPingInterval", "0", false, .integer),
    ]
    for (name, value, readonly, kind) in table {
      keys[name] = Key(value: value, readonly: readonly, kind: kind)
      order.append(name)
    }
  }

  /// The value of a key, if it exists.
  subscript(_ name: String) -> String? { keys[name]?.value }

  /// A whole-number key, or `fallback`.
  func int(_ name: String, _ fallback: Int) -> Int { keys[name].flatMap { Int($0.value) } ?? fallback }

  /// A boolean key.
  func bool(_ name: String) -> Bool { keys[name]?.value.lowercased() == "true" }

  /// Applies ChangeConfiguration: `Accepted`, `Rejected` (read-only or invalid) or `NotSupported`.
  mutating func change(_ name: String, to value: String) -> String {
    guard let key = keys[name] else { return "NotSupported" }
    guard !key.readonly else { return "Rejected" }
    switch key.kind {
    case .integer:
      guard let number = Int(value.trimmed(" ")), number >= 0 else { return "Rejected" }
      keys[name]?.value = String(number)
    case .boolean:
      let lower = value.lowercased()
      guard lower == "true" || lower == "false" else { return "Rejected" }
      keys[name]?.value = lower
    case .list, .text:
      guard value.utf8.count <= 500 else { return "Rejected" }
      keys[name]?.value = value
    }
    return "Accepted"
  }
}
