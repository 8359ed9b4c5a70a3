/// `serve`'s journal in the store: the message log, events and kept station data.
extension Store {
  /// One frame for the message log.
  public struct LoggedFrame: Sendable {
    public let stationID: Int
    /// `true` for a frame from the station.
    public let inbound: Bool
    /// When it passed, as ISO 8601 text.
    public let at: String
    public let text: String

    public init(stationID: Int, inbound: Bool, at: String, text: String) {
      self.stationID = stationID
      self.inbound = inbound
      self.at = at
      self.text = text
    }
  }

  /// Appends frames to the message log with one statement (callers pass at most 64).
  public func appendToMessageLog(_ frames: some Collection<LoggedFrame>) throws {
    guard !frames.isEmpty else { return }
    let placeholders = Array(repeating: "(?, ?, ?, ?)", count: frames.count).joined(separator: ", ")
    var arguments: [any SQLiteBindable] = []
    arguments.reserveCapacity(frames.count * 4)
    for frame in frames {
      arguments += [frame.stationID, frame.inbound ? "in" : "out", frame.at, frame.text]
    }
    try db.run(
      "INSERT INTO message_log (station_id, direction, at, frame) VALUES " + placeholders, arguments)
  }

  /// The lowest and highest message-log row ids, or `nil` when the log is empty.
  public func messageLogIDRange() throws -> (low: Int, high: Int)? {
    guard let bounds = try db.queryOne("SELECT min(id) AS lo, max(id) AS hi FROM message_log"),
      let low = bounds.int("lo"), let high = bounds.int("hi")
    else { return nil }
    return (low, high)
  }

  /// The time (ISO 8601 text) of the first logged frame with an id of `id` or more.
  public func messageLogTime(atOrAfter id: Int) throws -> String? {
    try db.queryOne(
      "SELECT at FROM message_log WHERE id >= ? ORDER BY id LIMIT 1", [id])?.string("at")
  }

  /// Deletes up to `limit` message-log rows with ids below `id`, lowest first; returns how many.
  public func deleteMessageLog(below id: Int, limit: Int) throws -> Int {
    try db.run(
      "DELETE FROM message_log WHERE id IN (SELECT id FROM message_log WHERE id < ? ORDER BY id LIMIT ?)",
      [id, limit])
  }

  /// Records an event at `now` (our clock); `reported` is the station's own time, when known.
  public func recordEvent(stationID: Int?, identity: String, kind: String, detail: String?,
                          at now: Timestamp, reported: Timestamp? = nil) throws {
    try db.run(
      "INSERT INTO events (station_id, identity, kind, detail, at, reported_at) VALUES (?, ?, ?, ?, ?, ?)",
      [stationID, identity, kind, detail, now.iso8601, reported?.iso8601])
  }

  /// Keeps a message's payload as the station sent it (notifications, certificate requests).
  public func keepStationData(stationID: Int, action: String, payload: String, at now: Timestamp) throws {
    try db.run(
      "INSERT INTO station_data (station_id, action, payload, received_at) VALUES (?, ?, ?, ?)",
      [stationID, action, payload, now.iso8601])
  }
}
