/// The message log's part of a station's timeline: what no other table tells.
extension Store {
  /// Actions whose messages the other sources already tell, or that only repeat.
  static let timelineToldElsewhere: Set<String> = [
    "Heartbeat", "MeterValues", "StatusNotification", "BootNotification", "StartTransaction", "StopTransaction",
  ]

  func timelineMessages(_ stationID: Int, _ lo: String, _ hi: String) throws -> [TimelineEntry] {
    var entries: [TimelineEntry] = []
    var calls: [String: (action: String, payload: JSONValue, inbound: Bool)] = [:]
    for row in try db.query(
      """
      SELECT direction, at, frame FROM message_log WHERE station_id = ? AND at >= ? AND at <= ?
        AND (frame LIKE '[2%' OR frame LIKE '[3%' OR frame LIKE '[4%')
        AND frame NOT LIKE '[2,%"Heartbeat"%' AND frame NOT LIKE '[2,%"MeterValues"%' ORDER BY id
      """, [stationID, lo, hi])
    {
      guard let at = row.date("at"), let frame = try? JSONValue.parse(row.string("frame") ?? ""),
        let type = frame[0]?.intValue, let id = frame[1]?.stringValue
      else { continue }
      let inbound = row.string("direction") == "in"
      switch type {
      case 2:
        guard let action = frame[2]?.stringValue else { continue }
        if inbound, !Store.timelineToldElsewhere.contains(action) {
          calls[id] = (action, frame[3] ?? .null, inbound)
        } else if !inbound {
          calls[id] = (action, frame[3] ?? .null, inbound)
        }
      case 3:
        // An answer from us to a station's CALL the other sources do not tell.
        guard !inbound, let call = calls.removeValue(forKey: id), call.inbound else {
          calls[id] = nil
          continue
        }
        entries.append(TimelineEntry(
          at: at, kind: "message", text: Store.describe(call.action, call.payload),
          cause: Store.describeAnswer(frame[2] ?? .null)))
      case 4:
        let call = calls.removeValue(forKey: id)
        let code = frame[2]?.stringValue ?? "?"
        let description = frame[3]?.stringValue ?? ""
        let what = call.map { " to \($0.action)" } ?? ""
        entries.append(TimelineEntry(
          at: at, kind: "message",
          text: inbound ? "station answered CALLERROR \(code)\(what)" : "we answered CALLERROR \(code)\(what)",
          cause: description.isEmpty ? nil : description))
      default: continue
      }
    }
    return entries
  }

  /// `Authorize tag ABC`, `DataTransfer vendor X message Y`, `FirmwareStatusNotification Installed`.
  static func describe(_ action: String, _ payload: JSONValue) -> String {
    switch action {
    case "Authorize": return "Authorize tag \(payload["idTag"]?.stringValue ?? "?")"
    case "DataTransfer":
      return "DataTransfer from \(payload["vendorId"]?.stringValue ?? "?")"
        + (payload["messageId"]?.stringValue.map { " message \($0)" } ?? "")
    default:
      if let status = payload["status"]?.stringValue { return "\(action) \(status)" }
      return action
    }
  }

  /// The status an answer carries (`idTagInfo.status` or `status`).
  static func describeAnswer(_ payload: JSONValue) -> String? {
    payload["idTagInfo"]?["status"]?.stringValue ?? payload["status"]?.stringValue
  }
}
