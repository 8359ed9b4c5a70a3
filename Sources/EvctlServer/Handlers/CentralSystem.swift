import EvctlCore

/// Settings of `evctl serve`.
public struct ServerConfiguration: Sendable {
  public var host = "0.0.0.0"
  public var port: UInt16 = 8180
  /// Whether serve listens for plain `ws://` on ``host``:``port`` (off with only `--tls-listen`).
  public var plainListener = true
  /// The TLS listener (`--tls-listen`), when serve terminates TLS itself.
  public var tls: TLSSettings?
  public var pathPrefix = "/ocpp"
  public var maxMessageBytes = 1 << 20
  /// Seconds between server pings; a pong must come within ``pongTimeout``.
  public var pingInterval: Int64 = 60
  public var pongTimeout: Int64 = 30
  /// How long the message log keeps frames.
  public var messageLogRetentionSeconds: Int64 = 7 * 86_400
  public var messageLogEnabled = true
  /// How long finished commands are kept (`serve --command-retention`).
  public var commandRetentionSeconds: Int64 = 90 * 86_400
  /// How long finished commands keep their payload and answer (`--command-payload-retention`).
  public var commandPayloadRetentionSeconds: Int64 = 7 * 86_400
  /// The process that holds the store's serve lock, for its heartbeat; `nil` in tests that run
  /// a server without the lock.
  public var lockOwner: ServeLockOwner?
  /// This node's id in the node registry (`HOST:PID`); `nil` in tests that run a server
  /// without registering it.
  public var nodeID: String?
  /// The PostgreSQL URL a node listens on for queued commands (LISTEN/NOTIFY); `nil` on SQLite,
  /// which polls.
  public var notificationURL: String?
  /// Whether serve sends GetConfiguration on its own after a station's first accepted boot and
  /// after a boot that reports new firmware (`serve --no-auto-config` turns it off).
  public var autoConfiguration = true
  /// How long events and cleared alarms are kept.
  public var eventRetentionSeconds: Int64 = 90 * 86_400
  /// Whether `GET /files/NAME` serves every published file to anyone (`--public-firmware`);
  /// otherwise firmware is fetched only through the expiring path of its update request.
  public var publicFirmware = false
  /// The largest upload accepted.
  public var maxUploadBytes = 64 << 20
  /// Whether SignCertificate CSRs are signed at once or wait for `evctl certificate approve`.
  public var certificateApproval = CertificateApproval.auto
  /// How long the station certificates serve signs are valid, in days.
  public var stationCertificateDays = CertificateAuthority.stationDays

  /// Creates the default configuration.
  public init() {}
}

/// Who holds the store's serve lock: this process.
public struct ServeLockOwner: Sendable {
  public var pid: Int
  public var host: String

  /// Creates an owner.
  public init(pid: Int, host: String) {
    self.pid = pid
    self.host = host
  }
}

/// What the handshake decided for a connection.
public enum HandshakeDecision: Sendable {
  case accept(stationID: Int, identity: String, response: [UInt8], unprotocolled: Bool)
  case reject(HandshakeRejection, event: String?)
}

/// The OCPP 1.6J central system's logic: handshake admission and one handler per action.
///
/// It owns the store but no file descriptor; the transport calls it inside an open transaction
/// and sends its answers only after that transaction commits (group commit, DESIGN §3).
public final class CentralSystem {
  public let store: Store
  public let configuration: ServerConfiguration
  /// Told about new alarms (`serve --alarm-command`): rate-limited and de-duplicated.
  public var onAlarm: ((Alarm) -> Void)?
  var alarmThrottle = AlarmThrottle()
  /// Whether new alarms are queued as mail to operators with instant alarm mail
  /// (`serve --smtp`); the mail goes out from ``Mailer``'s thread, never from the loop.
  public var mailsAlarms = false
  /// The same alarm is mailed at most once in 10 minutes, at most 10 alarms a minute.
  var mailThrottle = AlarmThrottle()
  /// Refused connection attempts of unregistered identities, counted before they reach the store.
  var unknownIdentities = UnknownIdentities()
  /// Failed logins per identity and address, to slow down guessing (LoginThrottle.swift).
  var loginThrottle = LoginThrottle()
  private var lastPeriodicAlarms = Timestamp(milliseconds: 0)
  var rebalanceReasons: Set<String> = []
  /// Commands a session handed to it could not claim (another node holds the station, or the
  /// CLI settled it): the transport forgets it dispatched them, so one still queued goes out
  /// when the station is back on this node.
  var unclaimedCommands: [Int] = []
  /// Message-log rows below this id are past their retention and being deleted.
  var pruneBelow: Int?
  /// Whether events and cleared alarms past their retention remain to be deleted.
  var pruneEventsDue = false
  var lastRebalance = Timestamp(milliseconds: 0)
  /// When the next turn or hand-on window ends, if a plan depends on it.
  var nextRebalanceAt: Timestamp?
  /// The store's allocation change counter as last seen (`nil` before the first look).
  var allocationChangeCount: Int?
  /// What the last plan was made from: readings, suspensions, capacities.
  var planMarks: (readings: String, suspended: Set<Int>, capacities: [String]) = ("", [], [])
  /// Published firmware and received uploads, when `serve --files-dir` is given.
  public var files: FileService?
  /// Diagnostics go here (stderr in `serve`), one line each starting with its level
  /// (`"warning: …"`, see ``ServeLog``).
  public var log: (String) -> Void = { _ in }
  /// Whether `debug:` lines are wanted; checked before building them.
  public var logsDebug = false
  var lastSeenPending: [Int: Timestamp] = [:]
  var lastSeenWritten: [Int: Int64] = [:]
  /// How stale `last_seen_at` in the store may get while frames keep arriving; liveness itself is
  /// decided in memory by the transport.
  static let lastSeenWriteIntervalMilliseconds: Int64 = 5_000
  var leniencyPending: [Int: Int] = [:]
  /// Stations whose registration needs no query per CALL (``Store/registrationCheck(stationID:)``
  /// said settled) until their next BootNotification, a rolled-back batch or a disconnect.
  var registrationSettled: Set<Int> = []
  /// Connectors known to have no active `connector_faulted` alarm since their station connected
  /// here, so that a non-Faulted StatusNotification (most of them) skips the clearing UPDATE: on
  /// PostgreSQL it is a round trip for about every other CALL. Only this node raises that alarm
  /// for a station it holds; forgotten on connect, on a failed call and on a rolled-back batch.
  var faultAlarmKnownClear: Set<StationConnector> = []
  var pendingFrames: [PendingFrame] = []
  /// Local-list transitions already computed: (old content, update) → new content.
  var localListTransitions: [String: String] = [:]

  /// Creates the central system over `store`.
  public init(store: Store, configuration: ServerConfiguration) {
    self.store = store
    self.configuration = configuration
  }

  /// Tunes the connection for a long-running server and marks every station offline: at
  /// start-up nothing is connected.
  public func resetConnections() throws {
    try store.tuneForServing()
    if configuration.nodeID != nil {
      try startNode()
    } else {
      try store.markAllStationsDisconnected()
    }
  }

  // MARK: Handshake

  /// Admits or refuses a WebSocket upgrade: a known identity, authenticated as its security
  /// profile demands (never less, whatever the client offers; see Admission.swift).
  ///
  /// - Parameter peer: the client's `ADDRESS:PORT`, for slowing down password guessing.
  public func admit(_ request: HTTPRequest, channel: ChannelSecurity = .plain, peer: String = "-") throws
    -> HandshakeDecision
  {
    let upgrade: UpgradeRequest
    do {
      upgrade = try Handshake.parse(request, pathPrefix: configuration.pathPrefix)
    } catch {
      return .reject(error, event: nil)
    }
    guard let station = try store.stationAdmission(identity: upgrade.identity) else {
      let now = Timestamp.now()
      // The first refusal of an identity in a window is logged by the transport, with the peer's
      // address; repeats are only counted. A summary line (too many identities) is logged here.
      let line = unknownIdentities.note(upgrade.identity, at: now)
      let announce = line?.hasPrefix("info: refused connection") ?? false
      if let line, !announce { log(line) }
      if unknownIdentities.needsFlush { try unknownIdentities.flush(self, at: now) }
      return .reject(
        HandshakeRejection(status: 404, reason: "station '\(upgrade.identity)' is not registered",
                           extraHeaders: []),
        event: "not registered: \(upgrade.identity)" + (announce ? "" : CentralSystem.quietRefusal))
    }
    if let refusal = try authenticate(station, upgrade: upgrade, channel: channel, peer: peer) {
      return refusal
    }
    return .accept(
      stationID: station.stationID, identity: station.identity, response: Handshake.switchingProtocols(upgrade),
      unprotocolled: !upgrade.offersOCPP16)
  }

  /// How the close reason of a refusal ends that the central system only counts (an unknown
  /// identity seen before in this window): the transport does not log it.
  public static let quietRefusal = " (repeat)"

  /// Records that a station connected.
  public func connected(stationID: Int, identity: String, replaced: Bool, at now: Timestamp) throws {
    try nodeHolds(stationID: stationID, identity: identity, at: now)
    try store.markStationConnected(stationID, at: now)
    lastSeenWritten[stationID] = now.milliseconds
    registrationSettled.remove(stationID)
    forgetAlarmKnowledge(stationID: stationID)
    try store.clearAlarms(stationID: stationID, kind: .offline, at: now)
    try store.clearUnattachedAlarms(identity: identity, kind: .notRegistered, at: now)
    try recordEvent(stationID: stationID, identity: identity, kind: "connected",
                    detail: replaced ? "replaced an older connection" : nil, at: now)
  }

  /// Records that a station's connection closed.
  public func disconnected(stationID: Int, identity: String, reason: String, stillConnected: Bool,
                           at now: Timestamp) throws {
    if !stillConnected, try nodeReleases(stationID: stationID) {
      try store.markStationDisconnected(stationID, lastSeen: lastSeenPending.removeValue(forKey: stationID))
      lastSeenWritten[stationID] = nil
    }
    try recordEvent(stationID: stationID, identity: identity, kind: "disconnected", detail: reason, at: now)
  }

  /// The longest frame the message log keeps whole; longer ones (a 10,000-token SendLocalList)
  /// keep their start and their size. The full payload of a command stays in its audit row.
  public static let messageLogFrameLimit = 16_384

  /// Queues a frame for the message log; ``flushLiveness()`` writes the batch's frames at once.
  public func logFrame(stationID: Int, inbound: Bool, text: String, at now: Timestamp) {
    guard configuration.messageLogEnabled else { return }
    var kept = text
    if text.utf8.count > Self.messageLogFrameLimit {
      kept = String(decoding: text.utf8.prefix(Self.messageLogFrameLimit), as: UTF8.self)
        + " … [truncated: \(text.utf8.count) bytes in all]"
    }
    pendingFrames.append(PendingFrame(stationID: stationID, inbound: inbound, text: kept, at: now))
  }

  private func writeFrames() throws {
    var index = 0
    while index < pendingFrames.count {
      let chunk = pendingFrames[index..<min(index + 64, pendingFrames.count)]
      var frames: [Store.LoggedFrame] = []
      frames.reserveCapacity(chunk.count)
      var lastTime: Timestamp?
      var lastText = ""
      for frame in chunk {
        if frame.at != lastTime {
          lastTime = frame.at
          lastText = frame.at.iso8601
        }
        frames.append(Store.LoggedFrame(
          stationID: frame.stationID, inbound: frame.inbound, at: lastText, text: frame.text))
      }
      try store.appendToMessageLog(frames)
      index += chunk.count
    }
    pendingFrames.removeAll(keepingCapacity: true)
  }

  /// Notes that a frame arrived; ``flushLiveness()`` writes it when the stored time is stale.
  public func touch(stationID: Int, at now: Timestamp) {
    if let written = lastSeenWritten[stationID],
      now.milliseconds - written < CentralSystem.lastSeenWriteIntervalMilliseconds
    {
      return
    }
    lastSeenPending[stationID] = now
  }

  /// Writes what a batch gathered in memory: logged frames, last-seen times, leniency counters.
  public func flushLiveness() throws {
    try writeFrames()
    for (station, time) in lastSeenPending {
      try store.writeLastSeen(station, at: time)
      lastSeenWritten[station] = time.milliseconds
    }
    for (station, count) in leniencyPending {
      try store.addLeniencies(count, stationID: station)
    }
    lastSeenPending.removeAll(keepingCapacity: true)
    leniencyPending.removeAll(keepingCapacity: true)
  }

  /// Housekeeping once a second: expired reservations.
  public func everySecond(at now: Timestamp) throws {
    try unknownIdentities.flush(self, at: now)
    try reportThrottledLogins(at: now)
    if let line = alarmThrottle.report(at: now) { log(line) }
    try pruneEventsStep(at: now)
    try expireReservations(at: now)
    try pruneStep()
    try rebalanceIfDue(at: now)
    if now.milliseconds - lastPeriodicAlarms.milliseconds >= 30_000 {
      lastPeriodicAlarms = now
      try periodicAlarms(at: now)
    }
  }

  /// Finds where the message log's retention ends, and drops unused local-list contents.
  ///
  /// Rowids are in time order, so the first row to keep is found by binary search instead of a
  /// scan; ``pruneStep()`` then deletes below it in bounded chunks, so the event loop never
  /// stalls on a large delete.
  public func pruneMessageLog(at now: Timestamp) throws {
    try store.pruneLocalListContents()
    try store.clearQuietUnknownIdentities(before: now.adding(seconds: -86_400), at: now)
    try store.pruneFileGrants(before: now.adding(seconds: -86_400))
    pruneEventsDue = true
    localListTransitions.removeAll()
    let cutoff = now.adding(seconds: -configuration.messageLogRetentionSeconds).iso8601
    guard let bounds = try store.messageLogIDRange() else { return }
    var (low, high) = bounds
    high += 1
    while low < high {
      let middle = low + (high - low) / 2
      let at = try store.messageLogTime(atOrAfter: middle)
      if let at, at < cutoff { low = middle + 1 } else { high = middle }
    }
    pruneBelow = low
  }

  /// Deletes events and cleared alarms past their retention, a bounded chunk per second.
  func pruneEventsStep(at now: Timestamp, limit: Int = 5_000) throws {
    guard pruneEventsDue else { return }
    let deleted = try store.pruneEventsAndClearedAlarms(
      before: now.adding(seconds: -configuration.eventRetentionSeconds), limit: limit)
    if deleted < limit { pruneEventsDue = false }
  }

  /// Deletes up to `limit` message-log rows below the retention cutoff; called every second.
  public func pruneStep(limit: Int = 20_000) throws {
    guard let below = pruneBelow else { return }
    let deleted = try store.deleteMessageLog(below: below, limit: limit)
    if deleted < limit { pruneBelow = nil }
  }

  /// Records an event at `now` (our clock); `reported` is the station's own time, when the
  /// message carries one (security events).
  func recordEvent(stationID: Int?, identity: String, kind: String, detail: String?,
                   at now: Timestamp = .now(), reported: Timestamp? = nil) throws {
    try store.recordEvent(
      stationID: stationID, identity: identity, kind: kind, detail: detail, at: now, reported: reported)
  }

  // MARK: Dispatch

  /// Handles one CALL from a station and returns the CALLRESULT payload.
  ///
  /// - Throws: ``CallError`` for a CALLERROR answer.
  public func handle(action: String, payload: JSONValue, stationID: Int, identity: String,
                     at now: Timestamp) throws -> JSONValue {
    var reader = PayloadReader(payload)
    let context = CallContext(stationID: stationID, identity: identity, now: now)
    // Until its BootNotification is Accepted, a station may only boot again [S16 §4.2, §7.37]:
    // other CALLs are refused with SecurityError (the J16 code for "not allowed now").
    if action == "BootNotification" {
      registrationSettled.remove(stationID)
    } else if !registrationSettled.contains(stationID) {
      let check = try store.registrationCheck(stationID: stationID)
      if let held = check.held {
        throw CallError(
          code: "SecurityError",
          description: "registration is \(held): send BootNotification until it is Accepted")
      }
      if check.settled { registrationSettled.insert(stationID) }
    }
    let result: JSONValue
    switch action {
    case "BootNotification": result = try bootNotification(&reader, context)
    case "Heartbeat": result = ["currentTime": .string(now.iso8601)]
    case "StatusNotification": result = try statusNotification(&reader, context)
    case "Authorize": result = try authorize(&reader, context)
    case "StartTransaction": result = try startTransaction(&reader, context)
    case "StopTransaction": result = try stopTransaction(&reader, context)
    case "MeterValues": result = try meterValues(&reader, context)
    case "DataTransfer": result = try dataTransfer(&reader, context)
    case "DiagnosticsStatusNotification", "FirmwareStatusNotification",
      "SecurityEventNotification", "LogStatusNotification", "SignedFirmwareStatusNotification":
      result = try notification(action, &reader, payload: payload, context)
    case "SignCertificate": result = try signCertificate(&reader, payload: payload, context)
    default:
      throw CallError(code: "NotImplemented", description: "unknown action '\(action)'")
    }
    if reader.leniencies > 0 { leniencyPending[stationID, default: 0] += reader.leniencies }
    return result
  }

  func keep(_ action: String, payload: JSONValue, _ context: CallContext) throws {
    try store.keepStationData(
      stationID: context.stationID, action: action, payload: payload.compact, at: context.now)
  }
}

/// A frame waiting to be written to the message log with its batch.
struct PendingFrame {
  let stationID: Int
  let inbound: Bool
  let text: String
  let at: Timestamp
}

/// Who sent a CALL, and when it arrived.
struct CallContext {
  let stationID: Int
  let identity: String
  let now: Timestamp
}
