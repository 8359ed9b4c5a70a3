/// Filters for ``Store/commands(_:)``.
public struct CommandFilter: Sendable {
  public var station: String?
  public var action: String?
  public var state: CommandState?
  public var limit: Int

  /// Creates a filter; the newest `limit` commands by default.
  public init(station: String? = nil, action: String? = nil, state: CommandState? = nil, limit: Int = 100) {
    self.station = station
    self.action = action
    self.state = state
    self.limit = limit
  }
}

extension Store {
  /// Actions that need `updateFirmware` rather than `remoteCommand`.
  static let firmwareActions: Set<String> = ["UpdateFirmware", "SignedUpdateFirmware"]
  /// Commands that edit a station's configuration, which needs `updateStation`.
  static let configurationActions: Set<String> = ["ChangeConfiguration"]

  /// The permission a remote command needs.
  static func operation(for action: String) -> Operation {
    if firmwareActions.contains(action) { return .updateFirmware }
    if configurationActions.contains(action) { return .updateStation }
    return .remoteCommand
  }

  static let commandSelect = """
    SELECT c.*, s.identity FROM commands c JOIN stations s ON s.id = c.station_id
    """

  func makeCommand(_ row: Row) -> RemoteCommand {
    RemoteCommand(
      id: row.int("id")!, stationID: row.int("station_id")!,
      stationIdentity: row.string("identity") ?? "", action: row.string("action") ?? "",
      payloadText: row.string("payload") ?? "{}",
      state: CommandState(rawValue: row.string("state") ?? "") ?? .failed,
      requestedBy: row.string("requested_by") ?? "",
      createdAt: row.date("created_at") ?? Timestamp(milliseconds: 0),
      expiresAt: row.date("expires_at") ?? Timestamp(milliseconds: 0),
      timeoutSeconds: row.int("timeout_seconds") ?? 30, sentAt: row.date("sent_at"),
      answeredAt: row.date("answered_at"),
      response: row.string("response").flatMap { try? JSONValue.parse($0) },
      status: row.string("status"), error: row.string("error"),
      latencyMilliseconds: row.int("latency_ms"))
  }

  /// Queues a remote command for a station; `serve` sends it.
  ///
  /// - Parameters:
  ///   - queue: deliver when the station next connects, until `expires`; otherwise an offline
  ///     station is an immediate ``StoreError/unavailable(_:)``.
  /// - Throws: ``StoreError/forbidden(_:)`` outside the role or domain.
  @discardableResult
  public func enqueueCommand(
    station identity: String, action: String, payload: JSONValue, timeoutSeconds: Int = 30,
    queue: Bool = false, expires: Timestamp? = nil
  ) throws -> RemoteCommand {
    try enqueueCommand(
      station: identity, action: action, payloadText: payload.compact,
      timeoutSeconds: timeoutSeconds, queue: queue, expires: expires)
  }

  /// Queues a remote command whose payload is already compact JSON text.
  @discardableResult
  public func enqueueCommand(
    station identity: String, action: String, payloadText text: String, timeoutSeconds: Int = 30,
    queue: Bool = false, expires: Timestamp? = nil
  ) throws -> RemoteCommand {
    try require(Store.operation(for: action))
    let target = try station(identity)
    let now = now()
    if !queue, !target.connected {
      let seen = target.lastSeenAt.map { "last seen \($0.iso8601)" } ?? "never connected"
      throw StoreError.unavailable("station \(target.identity) is offline (\(seen))")
    }
    let expiry = queue
      ? (expires ?? now.adding(seconds: 86_400)) : now.adding(seconds: Int64(timeoutSeconds))
    try db.run(
      """
      INSERT INTO commands (station_id, action, payload, requested_by, created_at, expires_at,
        timeout_seconds) VALUES (?, ?, ?, ?, ?, ?, ?)
      """,
      [target.id, action, text, actor.displayName, now.iso8601, expiry.iso8601, timeoutSeconds])
    return RemoteCommand(
      id: db.lastInsertRowID, stationID: target.id, stationIdentity: target.identity, action: action,
      payloadText: text, state: .queued, requestedBy: actor.displayName, createdAt: now,
      expiresAt: expiry, timeoutSeconds: timeoutSeconds)
  }

  /// One command by id.
  public func command(_ id: Int) throws -> RemoteCommand {
    guard let row = try db.queryOne(Store.commandSelect + " WHERE c.id = ?", [id]) else {
      throw StoreError.notFound(kind: "command", name: String(id))
    }
    return makeCommand(row)
  }

  /// The states of many commands at once, for waiting on them.
  public func commandStates(_ ids: [Int]) throws -> [Int: CommandState] {
    var states: [Int: CommandState] = [:]
    let sorted = ids.sorted()
    var index = 0
    while index < sorted.count {
      let chunk = Array(sorted[index..<min(index + 500, sorted.count)])
      let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
      for row in try db.query("SELECT id, state FROM commands WHERE id IN (\(marks))", chunk) {
        states[row.int("id")!] = CommandState(rawValue: row.string("state") ?? "") ?? .failed
      }
      index += chunk.count
    }
    return states
  }

  /// The audit log, newest first, within the actor's domain.
  public func commands(_ filter: CommandFilter = CommandFilter()) throws -> [RemoteCommand] {
    let visible = Set(try stations(StationFilter()).map(\.id))
    let stationID = try filter.station.map { try station($0).id }
    return try db.query(
      Store.commandSelect + """
         WHERE (?1 IS NULL OR c.station_id = ?1) AND (?2 IS NULL OR c.action = ?2)
          AND (?3 IS NULL OR c.state = ?3) ORDER BY c.id DESC LIMIT ?4
        """, [stationID, filter.action, filter.state?.rawValue, filter.limit]
    ).map(makeCommand).filter { visible.contains($0.stationID) }
  }

  /// Marks a command that nobody picked up as expired, unless `serve` took it meanwhile.
  ///
  /// - Returns: whether the command was still queued.
  @discardableResult
  public func expireIfQueued(_ id: Int, reason: String) throws -> Bool {
    try db.run(
      "UPDATE commands SET state = 'expired', error = ?, answered_at = ? WHERE id = ? AND state = 'queued'",
      [reason, now().iso8601, id]) > 0
  }

  // MARK: For serve

  /// Queued commands in id order, without their payloads: id, station and expiry.
  public func queuedCommands() throws -> [(id: Int, stationID: Int, expiresAt: Timestamp)] {
    try db.query("SELECT id, station_id, expires_at FROM commands WHERE state = 'queued' ORDER BY id")
      .map { ($0.int("id")!, $0.int("station_id")!, $0.date("expires_at") ?? Timestamp(milliseconds: 0)) }
  }

  /// Records that a command went out with `messageID`.
  public func markCommandSent(_ id: Int, messageID: String, at time: Timestamp) throws {
    try db.run(
      "UPDATE commands SET state = 'sent', sent_at = ?, message_id = ? WHERE id = ?",
      [time.iso8601, messageID, id])
  }

  /// Records a command's end: its state, status, answer or error.
  public func finishCommand(
    _ id: Int, state: CommandState, status: String?, response: JSONValue?, error: String?,
    at time: Timestamp, latencyMilliseconds: Int?
  ) throws {
    try db.run(
      """
      UPDATE commands SET state = ?, status = ?, response = ?, error = ?, answered_at = ?,
        latency_ms = ? WHERE id = ?
      """,
      [state.rawValue, status, response?.compact, error, time.iso8601, latencyMilliseconds, id])
  }

  /// Returns a command that was taken but not sent to the queue (its station disconnected).
  public func requeueCommand(_ id: Int) throws {
    try db.run("UPDATE commands SET state = 'queued' WHERE id = ? AND state = 'queued'", [id])
  }

  /// Commands left `sent` by a previous `serve` process: their outcome is unknown.
  public func abandonSentCommands(at time: Timestamp) throws {
    try db.run(
      """
      UPDATE commands SET state = 'timed_out', answered_at = ?,
        error = 'serve stopped before the station answered; outcome unknown' WHERE state = 'sent'
      """, [time.iso8601])
  }
}
