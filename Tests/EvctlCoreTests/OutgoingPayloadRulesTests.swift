import Testing

@testable import EvctlCore

/// Issue 9 item 15: every field with a length or format limit, at and past its limit.
@Suite struct OutgoingPayloadRulesTests {
  static let profile: JSONValue = [
    "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Recurring", "recurrencyKind": "Daily",
    "validFrom": "2026-11-21T00:00:00Z", "validTo": "2027-11-21T00:00:00Z",
    "chargingSchedule": [
      "chargingRateUnit": "A", "startSchedule": "2026-11-21T00:00:00Z",
      "chargingSchedulePeriod": [["startPeriod": 0, "limit": 16.0]],
    ],
  ]

  /// A valid payload per action, with every limited field present.
  static let valid: [String: JSONValue] = [
    "ChangeAvailability": ["connectorId": 0, "type": "Operative"],
    "ChangeConfiguration": ["key": "HeartbeatInterval", "value": "300"],
    "DataTransfer": ["vendorId": "com.example", "messageId": "ping", "data": "x"],
    "GetConfiguration": ["key": ["HeartbeatInterval"]],
    "RemoteStartTransaction": ["idTag": "TAG1", "connectorId": 1, "chargingProfile": profile],
    "SetChargingProfile": ["connectorId": 1, "csChargingProfiles": profile],
    "ClearChargingProfile": ["chargingProfilePurpose": "TxDefaultProfile"],
    "GetCompositeSchedule": ["connectorId": 1, "duration": 3600, "chargingRateUnit": "A"],
    "Reset": ["type": "Soft"],
    "GetDiagnostics": [
      "location": "ftp://logs.example.com/up", "startTime": "2026-11-21T10:00:00Z",
      "stopTime": "2026-11-21T11:00:00Z",
    ],
    "UpdateFirmware": ["location": "https://fw.example.com/fw.bin", "retrieveDate": "2026-11-21T10:00:00Z"],
    "SendLocalList": [
      "listVersion": 1, "updateType": "Full",
      "localAuthorizationList": [[
        "idTag": "TAG1",
        "idTagInfo": ["status": "Accepted", "expiryDate": "2027-01-01T00:00:00Z", "parentIdTag": "P"],
      ]],
    ],
    "ReserveNow": [
      "connectorId": 1, "expiryDate": "2026-11-21T10:00:00Z", "idTag": "TAG1", "parentIdTag": "P",
      "reservationId": 1,
    ],
    "TriggerMessage": ["requestedMessage": "Heartbeat"],
    "CertificateSigned": ["certificateChain": "PEM"],
    "DeleteCertificate": [
      "certificateHashData": [
        "hashAlgorithm": "SHA256", "issuerNameHash": "ab", "issuerKeyHash": "cd", "serialNumber": "01",
      ],
    ],
    "ExtendedTriggerMessage": ["requestedMessage": "Heartbeat"],
    "GetInstalledCertificateIds": ["certificateType": "CentralSystemRootCertificate"],
    "GetLog": [
      "logType": "SecurityLog", "requestId": 1,
      "log": [
        "remoteLocation": "https://logs.example.com/", "oldestTimestamp": "2026-11-21T10:00:00Z",
        "latestTimestamp": "2026-11-21T11:00:00Z",
      ],
    ],
    "InstallCertificate": ["certificateType": "ManufacturerRootCertificate", "certificate": "PEM"],
    "SignedUpdateFirmware": [
      "requestId": 1,
      "firmware": [
        "location": "https://fw.example.com/fw.bin", "retrieveDateTime": "2026-11-21T10:00:00Z",
        "installDateTime": "2026-11-21T11:00:00Z", "signingCertificate": "PEM", "signature": "c2ln",
      ],
    ],
  ]

  /// `payload` with the field at `path` set to `value` (in the first element of arrays), or
  /// removed when `value` is nil.
  static func setting(_ path: [Substring], to value: JSONValue?, in payload: JSONValue) -> JSONValue {
    guard let first = path.first else { return value ?? .null }
    let isArray = first.hasSuffix("[]")
    let key = String(isArray ? first.dropLast(2) : first)
    var fields = payload.objectValue ?? [:]
    if isArray {
      var items = fields[key]?.arrayValue ?? [.null]
      items[0] = path.count == 1 ? (value ?? .null) : setting(Array(path.dropFirst()), to: value, in: items[0])
      fields[key] = .array(items)
    } else if path.count == 1 {
      fields[key] = value
    } else {
      fields[key] = setting(Array(path.dropFirst()), to: value, in: fields[key] ?? [:])
    }
    return .object(fields)
  }

  static var cases: [(String, OutgoingPayloadRules.Rule)] {
    OutgoingPayloadRules.rules.keys.sorted().flatMap { action in
      OutgoingPayloadRules.rules[action]!.map { (action, $0) }
    }
  }

  @Test func everyActionWithRulesHasAValidExampleThatPasses() throws {
    #expect(Set(Self.valid.keys) == Set(OutgoingPayloadRules.rules.keys))
    for (action, payload) in Self.valid {
      try OutgoingPayloadRules.check(action: action, payload: payload)
    }
  }

  @Test(arguments: cases)
  func eachLimitAcceptsItsEdgeAndRefusesPastItNamingTheLimit(_ action: String, _ rule: OutgoingPayloadRules.Rule) throws {
    let base = try #require(Self.valid[action])
    let path = rule.path.split(separator: ".")
    let (good, bad): (JSONValue, JSONValue)
    let named: String
    switch rule.limit {
    case .maxLength(let n):
      let prefix = rule.path.hasSuffix("location") || rule.path.hasSuffix("Location") ? "https://x.example/" : ""
      good = .string(prefix + String(repeating: "a", count: n - prefix.count))
      bad = .string(prefix + String(repeating: "a", count: n + 1 - prefix.count))
      named = "maxLength \(n)"
    case .uri:
      good = "ftp://user@host.example:21/a%20b?x=1"
      bad = "not a uri"
      named = "absolute URI"
    case .dateTime:
      good = "2026-11-21T10:00:00.123+01:00"
      bad = "yesterday"
      named = "date-time"
    case .oneOf(let values):
      good = .string(values.last!)
      bad = .string(values.last!.lowercased() + "x")
      named = "must be one of"
    }
    try OutgoingPayloadRules.check(action: action, payload: Self.setting(path, to: good, in: base))
    do {
      try OutgoingPayloadRules.check(action: action, payload: Self.setting(path, to: bad, in: base))
      Issue.record("\(action).\(rule.path) accepted \(bad.compact)")
    } catch StoreError.invalid(let message) {
      #expect(message.contains(action) && message.contains("'\(rule.path)'") && message.contains(named), "\(message)")
    }
    if rule.required {
      #expect(throws: StoreError.self) {
        try OutgoingPayloadRules.check(action: action, payload: Self.setting(path, to: nil, in: base))
      }
    }
  }

  @Test func urisAreAbsoluteWithoutSpaces() {
    for good in ["ftp://a.b/c", "https://a.b:8080/x?y=1#z", "urn:isbn:0451450523", "sftp://u:p@h/%2Fx"] {
      #expect(OutgoingPayloadRules.isURI(good), "\(good)")
    }
    for bad in ["", "a.b/c", "://x", "1ftp://x", "http://a b", "http://x/%zz", "http:", "http://x/\u{7}"] {
      #expect(!OutgoingPayloadRules.isURI(bad), "\(bad)")
    }
  }
}
