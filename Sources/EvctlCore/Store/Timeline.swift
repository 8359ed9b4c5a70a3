/// One line of a station's story (`evctl station timeline`).
public struct TimelineEntry: Sendable, Equatable {
  /// When we received or did it (the story's order).
  public var at: Timestamp
  /// The station's own time for it, when the message carried one.
  public var stationAt: Timestamp?
  /// `status`, `connection`, `boot`, `command`, `alarm`, `allocation`, `transaction`, `message`, `event`.
  public var kind: String
  public var connector: Int?
  /// What happened ("connector 1 Charging → SuspendedEVSE").
  public var text: String
  /// Why, where we know it ("limit 0 A from group Garage (…)").
  public var cause: String?

  /// The line people read, without its time: text, then `: cause`.
  public var line: String { text + (cause.map { ": " + $0 } ?? "") }

  /// The stable JSON form.
  public var json: JSONValue {
    ["at": .from(at), "station_at": .from(stationAt), "kind": .string(kind), "connector": .from(connector),
     "text": .string(text), "cause": .from(cause)]
  }
}

extension Store {
  /// The most lines a timeline returns (the newest are kept).
  public static let timelineLimit = 5_000

  /// A station's story between `from` and `to` (either open), oldest first: status changes with
  /// the allocation or stop that caused them, connections, boots, commands with who sent them
  /// and the answer, alarms, transactions, allocation changes and the messages of the log that
  /// nothing else tells (Authorize and its answer, DataTransfer, file status notifications,
  /// CALLERRORs). The newest `limit` lines are kept.
  public func timeline(station identity: String, from: Timestamp?, to: Timestamp?,
                       limit: Int = Store.timelineLimit) throws -> [TimelineEntry] {
    let station = try self.station(identity)
    // Open ends as real times, so that they compare as text (SQLite) and as timestamptz alike.
    let lo = from?.iso8601 ?? "0001-01-01T00:00:00.000Z"
    let hi = to?.iso8601 ?? "9999-12-31T23:59:59.999Z"
    var entries: [TimelineEntry] = []
    let allocations = try timelineAllocations(station.id, lo, hi)
    entries += allocations.map(\.entry)
    entries += try timelineStatus(station, lo, hi, from: from, allocations: allocations)
    entries += try timelineEvents(station.id, lo, hi)
    entries += try timelineCommands(station.id, lo, hi)
    entries += try timelineAlarms(station.id, lo, hi)
    entries += try timelineTransactions(station.id, lo, hi)
    entries += try timelineMessages(station.id, lo, hi)
    let sorted = entries.enumerated().sorted {
      $0.element.at != $1.element.at ? $0.element.at < $1.element.at : $0.offset < $1.offset
    }.map(\.element)
    return Array(sorted.suffix(max(0, limit)))
  }

  /// An allocation change read back from its event, for the timeline and for status causes.
  struct AllocationChange {
    var at: Timestamp
    var connector: Int?
    var limit: String
    var previous: String
    var note: String?
    var entry: TimelineEntry
  }

  /// The capacity group a station's allocation comes from (the nearest one above it), with its
  /// rotation.
  func capacityGroup(of stationID: Int) throws -> (path: String, alternateSeconds: Int64)? {
    let tree = try groupTree()
    let groupID = try db.queryOne("SELECT group_id FROM stations WHERE id = ?", [stationID])?.int("group_id")
    let byGroup = Dictionary(try capacities().map { ($0.groupID, $0) }, uniquingKeysWith: { a, _ in a })
    var current = groupID
    var steps = 0
    while let id = current, steps < 1000 {
      if let capacity = byGroup[id] { return (tree.byID[id]?.path ?? "?", capacity.alternateSeconds) }
      current = tree.byID[id]?.parentID
      steps += 1
    }
    return nil
  }

  func timelineAllocations(_ stationID: Int, _ lo: String, _ hi: String) throws -> [AllocationChange] {
    let group = try capacityGroup(of: stationID)
    return try db.query(
      "SELECT detail, at FROM events WHERE station_id = ? AND kind = 'allocation' AND at >= ? AND at <= ? ORDER BY at, id",
      [stationID, lo, hi]
    ).compactMap { row -> AllocationChange? in
      guard let at = row.date("at") else { return nil }
      // "connector 1 transaction 5: 16.0 → 0.0 A (timer; waiting for its turn: …)"
      let detail = row.string("detail") ?? ""
      let words = detail.split(separator: " ")
      let connector = words.count > 1 && words[0] == "connector" ? Int(words[1]) : nil
      var limit = "?"
      var previous = "?"
      if let arrow = words.firstIndex(of: "→"), arrow > 0, arrow + 1 < words.count {
        limit = Store.amps(String(words[arrow + 1]))
        previous = Store.amps(String(words[arrow - 1]))
      }
      var note: String?
      if let open = detail.firstIndex(of: "("), detail.hasSuffix(")") {
        let inside = detail[detail.index(after: open)..<detail.index(before: detail.endIndex)]
        let parts = inside.split(separator: ";", maxSplits: 1).map { String($0).trimmingSpaces }
        note = parts.count > 1 ? parts[1] : nil
        if let reason = parts.first, note == nil { note = "replanned: \(reason)" }
      }
      var cause = group.map { "from group \($0.path)" }
      if let note { cause = [cause, note].compactMap { $0 }.joined(separator: ": ") }
      if let group, limit == "0" { cause = (cause ?? "") + ", rotation every \(DurationText.format(seconds: group.alternateSeconds))" }
      return AllocationChange(
        at: at, connector: connector, limit: limit, previous: previous, note: note,
        entry: TimelineEntry(
          at: at, kind: "allocation", connector: connector,
          text: "connector \(connector.map(String.init) ?? "?") limit \(previous) → \(limit) A", cause: cause))
    }
  }

  /// `16.0` → `16`, `6.5` → `6.5`, `-` stays.
  static func amps(_ text: String) -> String {
    guard let value = Double(text) else { return text }
    return value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
  }

  func timelineStatus(_ station: Station, _ lo: String, _ hi: String, from: Timestamp?,
                      allocations: [AllocationChange]) throws -> [TimelineEntry] {
    var last: [Int: String] = [:]
    if from != nil {
      for row in try db.query(
        """
        SELECT connector_id, status FROM status_events WHERE id IN (SELECT max(id) FROM status_events
          WHERE station_id = ? AND received_at < ? GROUP BY connector_id)
        """, [station.id, lo])
      {
        last[row.int("connector_id") ?? 0] = row.string("status")
      }
    }
    let group = try capacityGroup(of: station.id)
    var entries: [TimelineEntry] = []
    for row in try db.query(
      """
      SELECT connector_id, status, error_code, info, vendor_error_code, reported_at, received_at FROM status_events
      WHERE station_id = ? AND received_at >= ? AND received_at <= ? ORDER BY received_at, id
      """, [station.id, lo, hi])
    {
      guard let at = row.date("received_at") else { continue }
      let connector = row.int("connector_id") ?? 0
      let status = row.string("status") ?? "?"
      let before = last[connector]
      last[connector] = status
      let subject = connector == 0 ? "station" : "connector \(connector)"
      let text = before.map { $0 == status ? "\(subject) still \(status)" : "\(subject) \($0) → \(status)" }
        ?? "\(subject) \(status)"
      var causes: [String] = []
      if let code = row.string("error_code"), code != "NoError" { causes.append(code) }
      if let vendor = row.string("vendor_error_code") { causes.append("vendor code \(vendor)") }
      if let info = row.string("info") { causes.append(info) }
      // A limit set just before explains a pause (some stations say SuspendedEV for it) or a
      // resumed charge.
      let change = allocations.last {
        $0.at <= at && $0.at.adding(seconds: 300) >= at && ($0.connector == nil || $0.connector == connector)
      }
      let paused = change?.limit == "0"
      if let change, ["SuspendedEVSE", "SuspendedEV", "Charging"].contains(status),
        paused == (status != "Charging")
      {
        var why = "limit \(change.limit) A"
        if let group { why += " from group \(group.path)" }
        var details: [String] = []
        if let note = change.note { details.append(note) }
        if paused, let group {
          details.append("rotation every \(DurationText.format(seconds: group.alternateSeconds))")
        }
        if !details.isEmpty { why += " (" + details.joined(separator: ", ") + ")" }
        causes.append(why)
      } else if status == "SuspendedEV" {
        causes.append("the car is not drawing current")
      }
      entries.append(TimelineEntry(
        at: at, stationAt: row.date("reported_at"), kind: "status", connector: connector == 0 ? nil : connector,
        text: text, cause: causes.isEmpty ? nil : causes.joined(separator: "; ")))
    }
    return entries
  }

  func timelineEvents(_ stationID: Int, _ lo: String, _ hi: String) throws -> [TimelineEntry] {
    try db.query(
      """
      SELECT kind, detail, at, reported_at FROM events
      WHERE station_id = ? AND kind <> 'allocation' AND at >= ? AND at <= ? ORDER BY at, id
      """, [stationID, lo, hi]
    ).compactMap { row -> TimelineEntry? in
      guard let at = row.date("at") else { return nil }
      let kind = row.string("kind") ?? "event"
      let detail = row.string("detail")
      let text: String
      var cause = detail
      var family = "event"
      switch kind {
      case "connected": text = "connected"; family = "connection"
      case "disconnected": text = "disconnected"; family = "connection"
      case "boot": text = "booted"; family = "boot"
      case "authorize_refused": text = "authorization refused"
      case "orphan_stop": text = "StopTransaction for an unknown transaction"
      default:
        text = String(kind.map { $0 == "_" ? " " : $0 })
        cause = detail
      }
      return TimelineEntry(at: at, stationAt: row.date("reported_at"), kind: family, text: text, cause: cause)
    }
  }

  func timelineCommands(_ stationID: Int, _ lo: String, _ hi: String) throws -> [TimelineEntry] {
    try db.query(
      """
      SELECT id, action, payload, state, requested_by, created_at, sent_at, answered_at, status, error,
        latency_ms, timeout_seconds FROM commands
      WHERE station_id = ? AND coalesce(sent_at, created_at) >= ? AND coalesce(sent_at, created_at) <= ?
      ORDER BY id
      """, [stationID, lo, hi]
    ).compactMap { row -> TimelineEntry? in
      guard let at = row.date("sent_at") ?? row.date("created_at") else { return nil }
      let action = row.string("action") ?? "?"
      var summary = action
      if let payload = try? JSONValue.parse(row.string("payload") ?? ""), let members = payload.objectValue {
        let scalars = members.sorted { $0.key < $1.key }.compactMap { key, value -> String? in
          switch value {
          case .string(let text): return text.count <= 24 ? text : nil
          case .int(let n): return key.hasSuffix("Id") && key != "connectorId" ? nil : String(n)
          case .bool(let b): return "\(key)=\(b)"
          default: return nil
          }
        }
        if !scalars.isEmpty { summary += " " + scalars.prefix(3).joined(separator: " ") }
      }
      let who = row.string("requested_by") ?? "?"
      let state = row.string("state") ?? "?"
      let latency = row.int("latency_ms").map { " in \($0) ms" } ?? ""
      let verb = row.string("sent_at") == nil ? "queued" : "sent"
      let outcome: String
      switch state {
      case "accepted", "rejected": outcome = (row.string("status") ?? (state == "accepted" ? "answered" : state)) + latency
      case "timed_out": outcome = "no answer within \(row.int("timeout_seconds") ?? 30) s (outcome unknown)"
      case "failed": outcome = "failed" + (row.string("error").map { ": \($0)" } ?? "") + latency
      case "expired": outcome = "never sent" + (row.string("error").map { ": \($0)" } ?? "")
      case "sent": outcome = "awaiting the answer"
      default: outcome = "waiting for delivery"
      }
      return TimelineEntry(
        at: at, kind: "command", text: "\(summary) \(verb) by \(who), \(outcome) (command \(row.int("id") ?? 0))")
    }
  }

  func timelineAlarms(_ stationID: Int, _ lo: String, _ hi: String) throws -> [TimelineEntry] {
    var entries: [TimelineEntry] = []
    for row in try db.query(
      """
      SELECT * FROM alarms WHERE station_id = ?1
        AND ((raised_at >= ?2 AND raised_at <= ?3) OR (cleared_at >= ?2 AND cleared_at <= ?3))
      """, [stationID, lo, hi])
    {
      let alarm = makeAlarm(row)
      let what = "alarm \(alarm.kind)\(alarm.code.map { " \($0)" } ?? "")"
      if alarm.raisedAt.iso8601 >= lo, alarm.raisedAt.iso8601 <= hi {
        entries.append(TimelineEntry(
          at: alarm.raisedAt, kind: "alarm", connector: alarm.connectorID, text: what + " raised", cause: alarm.detail))
      }
      if let cleared = alarm.clearedAt, cleared.iso8601 >= lo, cleared.iso8601 <= hi {
        entries.append(TimelineEntry(at: cleared, kind: "alarm", connector: alarm.connectorID, text: what + " cleared"))
      }
    }
    return entries
  }

  func timelineTransactions(_ stationID: Int, _ lo: String, _ hi: String) throws -> [TimelineEntry] {
    var entries: [TimelineEntry] = []
    for row in try db.query(
      """
      SELECT id, connector_id, id_tag, authorization_status, meter_start, meter_stop, started_at, stopped_at,
        stop_reason, state, received_at, stop_received_at, closed_by FROM transactions WHERE station_id = ?1
        AND ((received_at >= ?2 AND received_at <= ?3) OR (stop_received_at >= ?2 AND stop_received_at <= ?3))
      """, [stationID, lo, hi])
    {
      let id = row.int("id") ?? 0
      let connector = row.int("connector_id")
      if let at = row.date("received_at"), at.iso8601 >= lo, at.iso8601 <= hi {
        entries.append(TimelineEntry(
          at: at, stationAt: row.date("started_at"), kind: "transaction", connector: connector,
          text: "connector \(connector ?? 0) transaction \(id) started for tag \(row.string("id_tag") ?? "?")",
          cause: row.string("authorization_status")))
      }
      if let at = row.date("stop_received_at"), at.iso8601 >= lo, at.iso8601 <= hi {
        var text = "connector \(connector ?? 0) transaction \(id) stopped"
        if let stop = row.int("meter_stop"), let start = row.int("meter_start"), stop >= start {
          text += ", \(Double(stop - start) / 1000) kWh"
        }
        entries.append(TimelineEntry(
          at: at, stationAt: row.date("stopped_at"), kind: "transaction", connector: connector, text: text,
          cause: row.string("stop_reason") ?? row.string("closed_by").map { "closed by \($0)" }))
      }
    }
    return entries
  }
}
