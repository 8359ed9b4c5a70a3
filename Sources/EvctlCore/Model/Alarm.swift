/// What an alarm is about.
public enum AlarmKind: String, CaseIterable, Sendable {
  case notRegistered = "not_registered"
  case offline
  case connectorFaulted = "connector_faulted"
  case firmwareFailed = "firmware_failed"
  case diagnosticsFailed = "diagnostics_failed"
  case security
  case stuckTransaction = "stuck_transaction"
  /// serve itself ran out of a resource (file descriptors); raised with identity `serve`.
  case resourceExhausted = "resource_exhausted"
  /// A station's newest certificate expires within 30 days, or has expired.
  case certificateExpiring = "certificate_expiring"
}

/// An alarm raised by `serve` from what stations report and from silence.
public struct Alarm: Equatable, Sendable {
  public var id: Int
  public var stationID: Int?
  public var identity: String
  public var kind: String
  public var connectorID: Int?
  public var code: String?
  public var detail: String?
  public var raisedAt: Timestamp
  public var clearedAt: Timestamp?
  public var acknowledgedAt: Timestamp?
  public var acknowledgedBy: String?
  /// How often the condition was seen while the alarm was active (an unknown identity retrying).
  public var occurrences: Int = 1
  /// When the condition was last seen, if it repeated.
  public var lastSeenAt: Timestamp?

  /// Whether the condition still holds.
  public var isActive: Bool { clearedAt == nil }

  /// The stable JSON form.
  public var json: JSONValue {
    [
      "id": .int(Int64(id)), "station": .string(identity), "kind": .string(kind),
      "connector_id": .from(connectorID), "code": .from(code), "detail": .from(detail),
      "raised_at": .from(raisedAt), "cleared_at": .from(clearedAt), "active": .bool(isActive),
      "acknowledged_at": .from(acknowledgedAt), "acknowledged_by": .from(acknowledgedBy),
      "count": .int(Int64(occurrences)), "last_seen_at": .from(lastSeenAt ?? raisedAt),
    ]
  }
}
