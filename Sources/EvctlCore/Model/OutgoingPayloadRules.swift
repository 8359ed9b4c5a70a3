/// The limits the OCPP 1.6 JSON schemas (and the security extension's) put on the payloads a
/// central system sends: every CSMS-initiated payload is checked against them before it is
/// queued, so that a strict station never answers FormationViolation to something we let through.
public enum OutgoingPayloadRules {
  /// What a field must satisfy.
  public enum Limit: Equatable, Sendable {
    /// At most this many characters (JSON schema `maxLength`).
    case maxLength(Int)
    /// An absolute URI (`format: uri`): a scheme, `:`, and no spaces or control characters.
    case uri
    /// An RFC 3339 date-time (`format: date-time`).
    case dateTime
    /// One of these values (an enumeration, spelled exactly).
    case oneOf([String])
  }

  /// One field's rule. `path` names the field in the payload: `.` descends into an object, `[]`
  /// into every element of an array (`localAuthorizationList[].idTag`, `key[]`).
  public struct Rule: Equatable, Sendable {
    public let path: String
    public let limit: Limit
    /// Whether the field must be present.
    public let required: Bool

    init(_ path: String, _ limit: Limit, required: Bool = false) {
      self.path = path
      self.limit = limit
      self.required = required
    }
  }

  static let authorizationStatuses = ["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"]
  static let messageTriggers = [
    "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat",
    "MeterValues", "StatusNotification",
  ]
  static let certificateUses = ["CentralSystemRootCertificate", "ManufacturerRootCertificate"]

  /// The rules of a `ChargingProfile` object at `prefix`.
  static func profileRules(_ prefix: String) -> [Rule] {
    [
      Rule(prefix + ".chargingProfilePurpose", .oneOf(profilePurposes), required: true),
      Rule(prefix + ".chargingProfileKind", .oneOf(["Absolute", "Recurring", "Relative"]), required: true),
      Rule(prefix + ".recurrencyKind", .oneOf(["Daily", "Weekly"])),
      Rule(prefix + ".validFrom", .dateTime), Rule(prefix + ".validTo", .dateTime),
      Rule(prefix + ".chargingSchedule.chargingRateUnit", .oneOf(["A", "W"]), required: true),
      Rule(prefix + ".chargingSchedule.startSchedule", .dateTime),
    ]
  }
  static let profilePurposes = ["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]

  /// The rules by action [S16 §6 and the JSON schemas; security whitepaper edition 2, §5].
  ///
  /// GetDiagnostics' `location` has no length limit in the 1.6 schema; evctl applies the 512 of
  /// GetLog's `remoteLocation` to it as well.
  public static let rules: [String: [Rule]] = [
    "ChangeAvailability": [Rule("type", .oneOf(["Inoperative", "Operative"]), required: true)],
    "ChangeConfiguration": [
      Rule("key", .maxLength(50), required: true), Rule("value", .maxLength(500), required: true),
    ],
    "DataTransfer": [
      Rule("vendorId", .maxLength(255), required: true), Rule("messageId", .maxLength(50)),
    ],
    "GetConfiguration": [Rule("key[]", .maxLength(50))],
    "RemoteStartTransaction": [Rule("idTag", .maxLength(20), required: true)]
      + profileRules("chargingProfile").map { Rule($0.path, $0.limit) },
    "SetChargingProfile": profileRules("csChargingProfiles"),
    "ClearChargingProfile": [Rule("chargingProfilePurpose", .oneOf(profilePurposes))],
    "GetCompositeSchedule": [Rule("chargingRateUnit", .oneOf(["A", "W"]))],
    "Reset": [Rule("type", .oneOf(["Hard", "Soft"]), required: true)],
    "GetDiagnostics": [
      Rule("location", .uri, required: true), Rule("location", .maxLength(512)),
      Rule("startTime", .dateTime), Rule("stopTime", .dateTime),
    ],
    "UpdateFirmware": [
      Rule("location", .uri, required: true), Rule("retrieveDate", .dateTime, required: true),
    ],
    "SendLocalList": [
      Rule("updateType", .oneOf(["Differential", "Full"]), required: true),
      Rule("localAuthorizationList[].idTag", .maxLength(20)),
      Rule("localAuthorizationList[].idTagInfo.status", .oneOf(authorizationStatuses)),
      Rule("localAuthorizationList[].idTagInfo.expiryDate", .dateTime),
      Rule("localAuthorizationList[].idTagInfo.parentIdTag", .maxLength(20)),
    ],
    "ReserveNow": [
      Rule("expiryDate", .dateTime, required: true), Rule("idTag", .maxLength(20), required: true),
      Rule("parentIdTag", .maxLength(20)),
    ],
    "TriggerMessage": [Rule("requestedMessage", .oneOf(messageTriggers), required: true)],
    "CertificateSigned": [Rule("certificateChain", .maxLength(10_000), required: true)],
    "DeleteCertificate": [
      Rule("certificateHashData.hashAlgorithm", .oneOf(["SHA256", "SHA384", "SHA512"]), required: true),
      Rule("certificateHashData.issuerNameHash", .maxLength(128), required: true),
      Rule("certificateHashData.issuerKeyHash", .maxLength(128), required: true),
      Rule("certificateHashData.serialNumber", .maxLength(40), required: true),
    ],
    "ExtendedTriggerMessage": [
      Rule(
        "requestedMessage",
        .oneOf([
          "BootNotification", "LogStatusNotification", "FirmwareStatusNotification", "Heartbeat",
          "MeterValues", "SignChargePointCertificate", "StatusNotification",
        ]), required: true),
    ],
    "GetInstalledCertificateIds": [Rule("certificateType", .oneOf(certificateUses), required: true)],
    "GetLog": [
      Rule("logType", .oneOf(["DiagnosticsLog", "SecurityLog"]), required: true),
      Rule("log.remoteLocation", .uri, required: true), Rule("log.remoteLocation", .maxLength(512)),
      Rule("log.oldestTimestamp", .dateTime), Rule("log.latestTimestamp", .dateTime),
    ],
    "InstallCertificate": [
      Rule("certificateType", .oneOf(certificateUses), required: true),
      Rule("certificate", .maxLength(5_500), required: true),
    ],
    "SignedUpdateFirmware": [
      Rule("firmware.location", .uri, required: true), Rule("firmware.location", .maxLength(512)),
      Rule("firmware.retrieveDateTime", .dateTime, required: true),
      Rule("firmware.installDateTime", .dateTime),
      Rule("firmware.signingCertificate", .maxLength(5_500), required: true),
      Rule("firmware.signature", .maxLength(800), required: true),
    ],
  ]

  /// Checks a payload for `action`.
  ///
  /// - Throws: ``StoreError/invalid(_:)`` naming the field and the limit it breaks.
  public static func check(action: String, payload: JSONValue) throws {
    for rule in rules[action] ?? [] {
      let values = values(at: rule.path, in: payload)
      if values.isEmpty {
        if rule.required, !rule.path.contains("[]") {
          throw StoreError.invalid("\(action): '\(rule.path)' is required by the OCPP 1.6 schema")
        }
        continue
      }
      for value in values {
        if let problem = problem(value, rule.limit) {
          throw StoreError.invalid("\(action): '\(rule.path)' \(problem)")
        }
      }
    }
  }

  /// What is wrong with `value` under `limit`, or `nil`.
  static func problem(_ value: JSONValue, _ limit: Limit) -> String? {
    guard let text = value.stringValue else { return "must be a string" }
    switch limit {
    case .maxLength(let maximum):
      let count = text.unicodeScalars.count
      return count > maximum
        ? "is \(count) characters long; the OCPP 1.6 limit is \(maximum) (maxLength \(maximum))" : nil
    case .uri:
      return isURI(text) ? nil : "must be an absolute URI (scheme:…, no spaces), not '\(text)'"
    case .dateTime:
      return Timestamp(parsing: text) != nil ? nil : "must be an RFC 3339 date-time, not '\(text)'"
    case .oneOf(let allowed):
      return allowed.contains(text) ? nil : "must be one of \(allowed.joined(separator: ", ")), not '\(text)'"
    }
  }

  /// Whether `text` is an absolute URI (RFC 3986 §3, §4.3): `scheme ":" hier-part`, only URI
  /// characters, `%` followed by two hex digits.
  public static func isURI(_ text: String) -> Bool {
    let scalars = Array(text.unicodeScalars)
    guard let colon = scalars.firstIndex(of: ":"), colon > 0, colon < scalars.count - 1,
      ("a"..."z").contains(scalars[0]) || ("A"..."Z").contains(scalars[0])
    else { return false }
    for scalar in scalars[..<colon] {
      let ok = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
        || ("0"..."9").contains(scalar) || "+-.".unicodeScalars.contains(scalar)
      if !ok { return false }
    }
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=%".unicodeScalars)
    var index = colon + 1
    while index < scalars.count {
      let scalar = scalars[index]
      guard allowed.contains(scalar) else { return false }
      if scalar == "%" {
        guard index + 2 < scalars.count, scalars[index + 1].properties.isASCIIHexDigit,
          scalars[index + 2].properties.isASCIIHexDigit
        else { return false }
        index += 2
      }
      index += 1
    }
    return true
  }

  /// The values at `path` in `payload`: none when absent (or `null`).
  static func values(at path: String, in payload: JSONValue) -> [JSONValue] {
    var current: [JSONValue] = [payload]
    for part in path.split(separator: ".") {
      let isArray = part.hasSuffix("[]")
      let key = String(isArray ? part.dropLast(2) : part)
      current = current.compactMap { $0[key] }.filter { !$0.isNull }
      if isArray { current = current.flatMap { $0.arrayValue ?? [$0] } }
    }
    return current
  }
}
