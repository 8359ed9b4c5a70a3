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
      payloadText: row.string("payload").flatMap { $0.isEmpty ? nil : $0 } ?? "{}",
      state: CommandState(rawValue: row.string("state") ?? "") ?? .failed,
      requestedBy: row.string("requested_by") ?? "",
      createdAt: row.date("created_at") ?? Timestamp(milliseconds: 0),
      expiresAt: row.date("expires_at") ?? Timestamp(milliseconds: 0),
      timeoutSeconds: row.int("timeout_seconds") ?? 30, sentAt: row.date("sent_at"),
      answeredAt: row.date("answered_at"),
      response: row.string("response").flatMap { try? JSONValue.parse($0) },
      status: row.string("status"), error: row.string("error"),
      latencyMilliseconds: row.int("latency_ms"),
      payloadTrimmed: row.string("payload")?.isEmpty ?? false)
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
    try require(Store.firmwareActions.contains(action) ? .updateFirmware : .remoteCommand)
    try OutgoingPayloadRules.check(action: action, payload: payload)
    return try enqueueCommand(
      station: identity, action: action, payloadText: payload.compact,
      timeoutSeconds: timeoutSeconds, queue: queue, expires: expires, checked: true)
  }

  /// Queues a remote command whose payload is already compact JSON text.
  ///
  /// The payload is checked against the OCPP 1.6 schema limits (``OutgoingPayloadRules``) unless
  /// `checked` says the caller did so already (a list pushed to many stations is checked once).
  @discardableResult
  public func enqueueCommand(
    station identity: String, action: String, payloadText text: String, timeoutSeconds: Int = 30,
    queue: Bool = false, expires: Timestamp? = nil, checked: Bool = false
  ) throws -> RemoteCommand {
    try require(Store.operation(for: action))
    if !checked {
      guard let payload = try? JSONValue.parse(text), payload.objectValue != nil else {
        throw StoreError.invalid("\(action): the payload is not a JSON object")
      }
      try OutgoingPayloadRules.check(action: action, payload: payload)
    }
    let target = try station(identity)
    let now = now()
    if !queue, let serve = try serveStatus(), !serve.running {
      throw StoreError.unavailable(
        "'evctl serve' is not running (since \(serve.downSince.iso8601)); nothing was sent to \(target.identity)")
    }
    if !queue, !target.connected {
      let seen = target.lastSeenAt.map { "last seen \($0.iso8601)" } ?? "never connected"
      throw StoreError.unavailable("station \(target.identity) is offline (\(seen))")
    }
    let expiry = queue
      ? (expires ?? now.adding(seconds: 86_400)) : now.adding(seconds: Int64(timeoutSeconds))
    let newID = try db.insertReturningID(
      """
      INSERT INTO commands (station_id, action, payload, requested_by, created_at, expires_at,
        timeout_seconds) VALUES (?, ?, ?, ?, ?, ?, ?)
      """,
      [target.id, action, text, actor.displayName, now.iso8601, expiry.iso8601, timeoutSeconds])
    try notifyCommandQueued()
    return RemoteCommand(
      id: newID, stationID: target.id, stationIdentity: target.identity, action: action,
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
         WHERE (CAST(?1 AS BIGINT) IS NULL OR c.station_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR c.action = ?2)
          AND (CAST(?3 AS TEXT) IS NULL OR c.state = ?3) ORDER BY c.id DESC LIMIT ?4
        """, [stationID, filter.action, filter.state?.rawValue, filter.limit]
    ).map(makeCommand).filter { visible.contains($0.stationID) }
  }

  /// Marks a command that nobody picked up as expired, unless `serve` took it meanwhile.
  ///
  /// `serve` claims a command with ``claimCommand(_:messageID:at:)`` in one statement that also
  /// checks its expiry, so once this returns `true` the command is never sent.
  ///
  /// - Returns: whether the command was still queued.
  @discardableResult
  public func expireIfQueued(_ id: Int, reason: String) throws -> Bool {
    try db.run(
      "UPDATE commands SET state = 'expired', error = ?, answered_at = ? WHERE id = ? AND state = 'queued'",
      [reason, now().iso8601, id]) > 0
  }

  /// How many unfinished commands to the same station were queued before command `id`: the
  /// ones `serve` delivers first, one at a time [J16 §4.1.1].
  public func commandsAhead(of id: Int) throws -> Int {
    try db.queryOne(
      """
      SELECT count(*) AS n FROM commands WHERE station_id = (SELECT station_id FROM commands
        WHERE id = ?1) AND id < ?1 AND state IN ('queued', 'sent')
      """, [id])?.int("n") ?? 0
  }

  /// Withdraws a queued command before `serve` sends it: it ends `expired` with status
  /// `Cancelled`, and who cancelled it in its error.
  ///
  /// - Throws: ``StoreError/conflict(_:)`` when it was already sent or has finished.
  public func cancelCommand(_ id: Int) throws -> RemoteCommand {
    let command = try command(id)
    try require(Store.firmwareActions.contains(command.action) ? .updateFirmware : .remoteCommand)
    _ = try station(command.stationIdentity)
    let changed = try db.run(
      """
      UPDATE commands SET state = 'expired', status = 'Cancelled', error = ?, answered_at = ?
        WHERE id = ? AND state = 'queued'
      """, ["cancelled by \(actor.displayName)", now().iso8601, id])
    guard changed > 0 else {
      let current = try self.command(id)
      let what = current.state == .sent
        ? "was already sent at \(current.sentAt?.iso8601 ?? "?"); its outcome is up to the station"
        : "has already finished (\(current.state.rawValue))"
      throw StoreError.conflict("command \(id) \(what)")
    }
    return try self.command(id)
  }

  /// Deletes finished commands created before `deleteBefore` and trims the payload and answer
  /// of finished commands created before `trimBefore`, keeping who, what, when and the outcome.
  /// At most `limit` rows each per call, so that `serve`'s loop never stalls.
  ///
  /// - Returns: the rows deleted and trimmed.
  @discardableResult
  public func pruneCommands(deleteBefore: Timestamp, trimBefore: Timestamp, limit: Int = 5_000) throws
    -> (deleted: Int, trimmed: Int)
  {
    // SQLite is told which index to read; PostgreSQL's planner picks it by itself.
    let sqlite = dialect == .sqlite
    let deleted = try db.run(
      """
      DELETE FROM commands WHERE id IN (SELECT id FROM commands\(sqlite ? " INDEXED BY commands_created" : "")
        WHERE created_at < ? AND state NOT IN ('queued', 'sent') LIMIT ?)
      """, [deleteBefore.iso8601, limit])
    let trimmed = try db.run(
      """
      UPDATE commands SET payload = '', response = NULL WHERE id IN (SELECT id FROM commands\(sqlite ? " INDEXED BY commands_untrimmed" : "")
        WHERE payload <> '' AND created_at < ?
        AND state NOT IN ('queued', 'sent') LIMIT ?)
      """, [trimBefore.iso8601, limit])
    return (deleted, trimmed)
  }

  // MARK: For serve

  /// Queued commands in id order, without their payloads: id, station and expiry.
  public func queuedCommands() throws -> [(id: Int, stationID: Int, expiresAt: Timestamp)] {
    try db.query("SELECT id, station_id, expires_at FROM commands WHERE state = 'queued' ORDER BY id")
      .map { ($0.int("id")!, $0.int("station_id")!, $0.date("expires_at") ?? Timestamp(milliseconds: 0)) }
  }

  /// Takes a queued command for sending, in one step that also decides its expiry: a command
  /// the CLI already expired (or cancelled) is not claimed, and one past its expiry is expired
  /// now. Only a claimed command may be sent. `serve` claims a command when the station's one
  /// outbound slot frees up, so one that expires here waited behind earlier commands.
  ///
  /// With `node` (several nodes on PostgreSQL), only the node that holds the command's station
  /// claims it: a node whose connection another node took over never sends it.
  public func claimCommand(_ id: Int, messageID: String, at time: Timestamp, node: String? = nil) throws
    -> CommandClaim
  {
    let holder = node == nil ? "" : """
       AND EXISTS (SELECT 1 FROM station_holders h WHERE h.station_id = commands.station_id
        AND h.node_id = ?4)
      """
    var arguments: [any SQLiteBindable] = [time.iso8601, messageID, id]
    if let node { arguments.append(node) }
    if try db.run(
      """
      UPDATE commands SET state = 'sent', sent_at = ?1, message_id = ?2
        WHERE id = ?3 AND state = 'queued' AND expires_at > ?1\(holder)
      """, arguments) > 0
    {
      return .claimed
    }
    if try db.run(
      """
      UPDATE commands SET state = 'expired', answered_at = ?1,
        error = 'not sent: queued behind earlier commands to this station until it expired at '
          || \(ServeSQL.isoText("expires_at", dialect)) WHERE id = ?2 AND state = 'queued'
          AND expires_at <= ?1
      """, [time.iso8601, id]) > 0
    {
      return .expired
    }
    return .gone
  }

  /// Records a command's end: its state, status, answer or error. Only a command still `sent`
  /// is settled: one already settled stays as it is (a late answer through a node that lost the
  /// station never overwrites an outcome-unknown settlement, nor the other way round).
  ///
  /// - Returns: whether this call settled it.
  @discardableResult
  public func finishCommand(
    _ id: Int, state: CommandState, status: String?, response: JSONValue?, error: String?,
    at time: Timestamp, latencyMilliseconds: Int?
  ) throws -> Bool {
    try db.run(
      """
      UPDATE commands SET state = ?, status = ?, response = ?, error = ?, answered_at = ?,
        latency_ms = ? WHERE id = ? AND state = 'sent'
      """,
      [state.rawValue, status, response?.compact, error, time.iso8601, latencyMilliseconds, id]) > 0
  }

  /// Commands left `sent` by a previous `serve` process: their outcome is unknown. Commands to
  /// stations a running node holds (several nodes on PostgreSQL) are that node's to settle.
  public func abandonSentCommands(at time: Timestamp) throws {
    try db.run(
      """
      UPDATE commands SET state = 'timed_out', answered_at = ?,
        error = 'serve stopped before the station answered; outcome unknown' WHERE state = 'sent'
        AND station_id NOT IN (SELECT h.station_id FROM station_holders h
          JOIN serve_nodes n ON n.id = h.node_id WHERE n.stopped_at IS NULL)
      """, [time.iso8601])
  }
}

/// What ``Store/claimCommand(_:messageID:at:)`` found.
public enum CommandClaim: Equatable, Sendable {
  /// The command is now `sent`: send it.
  case claimed
  /// It was past its expiry and is now `expired`: never send it.
  case expired
  /// It was no longer queued (expired or cancelled by the CLI): never send it.
  case gone
}
