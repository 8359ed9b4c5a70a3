/// Where a remote command is in its life (DESIGN §4).
public enum CommandState: String, CaseIterable, Sendable {
  case queued, sent, accepted, rejected, failed
  case timedOut = "timed_out"
  case expired

  /// Whether the command has reached its end.
  public var isFinal: Bool { self != .queued && self != .sent }
}

/// A remote command: the row in `commands` that `serve` delivers and the CLI waits on.
public struct RemoteCommand: Equatable, Sendable {
  /// Creates a command value.
  public init(
    id: Int, stationID: Int, stationIdentity: String, action: String, payloadText: String,
    state: CommandState, requestedBy: String, createdAt: Timestamp, expiresAt: Timestamp,
    timeoutSeconds: Int, sentAt: Timestamp? = nil, answeredAt: Timestamp? = nil,
    response: JSONValue? = nil, status: String? = nil, error: String? = nil,
    latencyMilliseconds: Int? = nil, payloadTrimmed: Bool = false
  ) {
    self.payloadTrimmed = payloadTrimmed
    self.id = id
    self.stationID = stationID
    self.stationIdentity = stationIdentity
    self.action = action
    self.payloadText = payloadText
    self.state = state
    self.requestedBy = requestedBy
    self.createdAt = createdAt
    self.expiresAt = expiresAt
    self.timeoutSeconds = timeoutSeconds
    self.sentAt = sentAt
    self.answeredAt = answeredAt
    self.response = response
    self.status = status
    self.error = error
    self.latencyMilliseconds = latencyMilliseconds
  }

  public var id: Int
  public var stationID: Int
  public var stationIdentity: String
  public var action: String
  /// The payload as stored and sent, compact JSON.
  public var payloadText: String
  public var state: CommandState
  public var requestedBy: String
  public var createdAt: Timestamp
  public var expiresAt: Timestamp
  public var timeoutSeconds: Int
  public var sentAt: Timestamp?
  public var answeredAt: Timestamp?
  public var response: JSONValue?
  /// The station's status word (`Accepted`, `Rejected`, `Unlocked` …) or CALLERROR code.
  public var status: String?
  public var error: String?
  public var latencyMilliseconds: Int?
  /// Whether retention removed the payload and answer (`serve --command-payload-retention`).
  public var payloadTrimmed: Bool

  /// The payload, decoded (on each use: large payloads are only decoded when needed).
  public var payload: JSONValue { (try? JSONValue.parse(payloadText)) ?? [:] }

  /// The CALL frame that carries this command, built around the stored payload text.
  public func callFrame(messageID: String) -> [UInt8] {
    var frame: [UInt8] = Array("[2,".utf8)
    JSONValue.string(messageID).write(into: &frame, indent: nil, level: 0)
    frame.append(0x2C)
    JSONValue.string(action).write(into: &frame, indent: nil, level: 0)
    frame.append(0x2C)
    frame += Array(payloadText.utf8)
    frame.append(0x5D)
    return frame
  }

  /// The stable JSON form.
  public var json: JSONValue {
    [
      "id": .int(Int64(id)), "station": .string(stationIdentity), "action": .string(action),
      "payload": payloadTrimmed ? .null : payload, "state": .string(state.rawValue), "requested_by": .string(requestedBy),
      "created_at": .from(createdAt), "expires_at": .from(expiresAt),
      "timeout_seconds": .int(Int64(timeoutSeconds)), "sent_at": .from(sentAt),
      "answered_at": .from(answeredAt), "response": response ?? .null, "status": .from(status),
      "error": .from(error), "latency_ms": .from(latencyMilliseconds),
      "payload_trimmed": .bool(payloadTrimmed),
    ]
  }
}

/// What a station's answer to a command means: the final state, the status word to show, why it
/// failed, and how many lenient readings it needed (counted like those of a CALL).
public struct CommandAnswer: Equatable, Sendable {
  public var state: CommandState
  public var status: String?
  public var error: String?
  public var leniencies: Int
}

/// Reads a station's answer to a command: the final state and the status word to show.
public enum CommandOutcome {
  /// Status words that mean the station will do (or did) what was asked.
  static let positive: Set<String> = [
    "Accepted", "Unlocked", "Scheduled", "RebootRequired", "AcceptedCanceled",
  ]
  /// Every status word of a 1.6 or security-extension answer, in its canonical spelling.
  static let statusWords = [
    "Accepted", "AcceptedCanceled", "Failed", "Faulted", "InvalidCertificate", "NotFound",
    "NotImplemented", "NotSupported", "Occupied", "RebootRequired", "Rejected",
    "RevokedCertificate", "Scheduled", "Unavailable", "Unknown", "UnknownMessageId",
    "UnknownVendorId", "UnlockFailed", "Unlocked", "VersionMismatch",
  ]
  static let canonicalStatus: [String: String] = Dictionary(
    uniqueKeysWithValues: statusWords.map { ($0.lowercased(), $0) })

  /// The fields an answer must carry, by action [S16 §6, security whitepaper §5].
  public static let requiredFields: [String: [String]] = [
    "CancelReservation": ["status"], "ChangeAvailability": ["status"],
    "ChangeConfiguration": ["status"], "ClearCache": ["status"],
    "ClearChargingProfile": ["status"], "DataTransfer": ["status"],
    "GetCompositeSchedule": ["status"], "GetLocalListVersion": ["listVersion"],
    "RemoteStartTransaction": ["status"], "RemoteStopTransaction": ["status"],
    "ReserveNow": ["status"], "Reset": ["status"], "SendLocalList": ["status"],
    "SetChargingProfile": ["status"], "TriggerMessage": ["status"], "UnlockConnector": ["status"],
    "CertificateSigned": ["status"], "DeleteCertificate": ["status"],
    "ExtendedTriggerMessage": ["status"], "GetInstalledCertificateIds": ["status"],
    "GetLog": ["status"], "InstallCertificate": ["status"], "SignedUpdateFirmware": ["status"],
  ]

  /// The state and status for a CALLRESULT payload.
  public static func interpret(action: String, response: JSONValue) -> (CommandState, String?) {
    let answer = read(action: action, response: response)
    return (answer.state, answer.status)
  }

  /// Reads a CALLRESULT payload: a payload that is not an object, or that lacks a field the
  /// action's answer requires, is a failed command naming what was missing; status words are
  /// read case-insensitively (`accepted` counts as lenient and means `Accepted`).
  public static func read(action: String, response: JSONValue) -> CommandAnswer {
    guard let fields = response.objectValue else {
      return CommandAnswer(
        state: .failed, status: nil,
        error: "the answer's payload is \(response.compact), not a JSON object", leniencies: 0)
    }
    let missing = (requiredFields[action] ?? []).filter { fields[$0] == nil || fields[$0]!.isNull }
    if !missing.isEmpty {
      let names = missing.map { "'\($0)'" }.joined(separator: ", ")
      return CommandAnswer(
        state: .failed, status: nil,
        error: "the answer lacks the required field\(missing.count == 1 ? "" : "s") \(names): \(response.compact)",
        leniencies: 0)
    }
    if let raw = fields["status"] {
      guard let text = raw.stringValue else {
        return CommandAnswer(
          state: .failed, status: nil, error: "the answer's 'status' is \(raw.compact), not a string",
          leniencies: 0)
      }
      let status = canonicalStatus[text.lowercased()] ?? text
      return CommandAnswer(
        state: positive.contains(status) ? .accepted : .rejected, status: status, error: nil,
        leniencies: status == text ? 0 : 1)
    }
    switch action {
    case "GetLocalListVersion":
      guard let version = fields["listVersion"]?.intValue else {
        return CommandAnswer(
          state: .failed, status: nil,
          error: "the answer's 'listVersion' is \(fields["listVersion"]?.compact ?? "null"), not an integer",
          leniencies: 0)
      }
      return CommandAnswer(state: .accepted, status: "version \(version)", error: nil, leniencies: 0)
    case "GetDiagnostics":
      return CommandAnswer(
        state: .accepted, status: fields["fileName"]?.stringValue.map { "file \($0)" } ?? "no file",
        error: nil, leniencies: 0)
    default:
      return CommandAnswer(state: .accepted, status: nil, error: nil, leniencies: 0)
    }
  }
}
