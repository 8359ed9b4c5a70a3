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

/// Reads a station's answer to a command: the final state and the status word to show.
public enum CommandOutcome {
  /// Status words that mean the station will do (or did) what was asked.
  static let positive: Set<String> = ["Accepted", "Unlocked", "Scheduled", "RebootRequired"]

  /// The state and status for a CALLRESULT payload.
  public static func interpret(action: String, response: JSONValue) -> (CommandState, String?) {
    if let status = response["status"]?.stringValue {
      return (positive.contains(status) ? .accepted : .rejected, status)
    }
    switch action {
    case "GetLocalListVersion":
      let version = response["listVersion"]
      return (.accepted, version.map { "version \($0.compact)" })
    case "GetDiagnostics":
      return (.accepted, response["fileName"]?.stringValue.map { "file \($0)" } ?? "no file")
    default:
      return (.accepted, nil)
    }
  }
}
