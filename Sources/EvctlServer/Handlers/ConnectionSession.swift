import EvctlCore

/// What a session tells the transport after it has consumed bytes.
public enum SessionEvent: Equatable, Sendable {
  /// The upgrade succeeded for this station.
  case admitted(stationID: Int, identity: String)
  /// The connection should close once its output is flushed.
  case close(reason: String)
}

/// One connection's protocol state: HTTP upgrade, then WebSocket messages, then OCPP-J calls.
///
/// It owns no file descriptor: the transport feeds it bytes and sends ``takeOutput()``.
public final class ConnectionSession {
  enum Phase { case handshake, httpBody, discarding, open, closing }

  let central: CentralSystem
  private var phase = Phase.handshake
  private var inbound: [UInt8] = []
  private var output: [UInt8] = []
  private let httpDecoder = HTTPRequestDecoder()
  private let frameDecoder: WebSocketFrameDecoder
  private var assembler: WebSocketMessageAssembler
  private var answered: [String: (action: String, payload: JSONValue, response: [UInt8])] = [:]
  private var answeredOrder: [String] = []
  /// An upload (`--files-dir`) whose body is still arriving.
  private var upload: (receiver: UploadReceiver, grant: FileGrant)?
  /// Body bytes of a refused upload still to be read and dropped before the connection closes,
  /// so that a client still sending gets the answer instead of a reset; and the close reason.
  private var discard: (remaining: Int, reason: String)?
  /// What the transport established for this connection (TLS, a verified client certificate);
  /// set before the first byte is received.
  public var channel = ChannelSecurity.plain
  /// A download waiting to be streamed after ``takeOutput()``.
  private var fileBody: FileBody?
  /// The station, once admitted.
  public private(set) var stationID: Int?
  public private(set) var identity: String?
  /// The peer's `ADDRESS:PORT`, for the log.
  public var peer = "-"
  /// When the last frame arrived; for idle deadlines.
  public private(set) var lastFrameAt: Timestamp
  /// When a server ping went out without a pong yet.
  public private(set) var pingSentAt: Timestamp?
  /// Commands waiting for the one outbound slot, oldest first [J16 §4.1.1].
  private var outboundQueue: [RemoteCommand] = []
  /// The command whose CALL is on the wire.
  private var inFlight: (command: RemoteCommand, messageID: String, sentAt: Timestamp)?

  /// The ids of commands this session holds, sent or waiting.
  public var heldCommandIDs: [Int] { outboundQueue.map(\.id) + (inFlight.map { [$0.command.id] } ?? []) }

  /// Creates a session for a new connection.
  public init(central: CentralSystem, now: Timestamp) {
    self.central = central
    frameDecoder = WebSocketFrameDecoder(maxPayload: central.configuration.maxMessageBytes)
    assembler = WebSocketMessageAssembler(maxMessage: central.configuration.maxMessageBytes)
    lastFrameAt = now
  }

  /// Whether the WebSocket is open.
  public var isOpen: Bool { phase == .open }

  /// Returns and clears the bytes waiting to be sent.
  public func takeOutput() -> [UInt8] {
    defer { output.removeAll(keepingCapacity: true) }
    return output
  }

  /// Returns and clears the file to stream after the output (a `GET /files/NAME` answer).
  public func takeFileBody() -> FileBody? {
    defer { fileBody = nil }
    return fileBody
  }

  /// Feeds bytes from the socket; must run inside the transport's open transaction.
  public func receive(_ bytes: [UInt8], now: Timestamp) throws -> [SessionEvent] {
    guard phase != .closing else { return [] }
    inbound += bytes
    if phase == .httpBody, let files = central.files {
      lastFrameAt = now
      return try receiveUpload(files, now: now)
    }
    if phase == .discarding {
      lastFrameAt = now
      return discardBody()
    }
    var events: [SessionEvent] = []
    if phase == .handshake {
      let request: HTTPRequest?
      do {
        request = try httpDecoder.decode(&inbound)
      } catch {
        output += HandshakeRejection(status: 400, reason: "malformed HTTP request", extraHeaders: [])
          .responseBytes
        phase = .closing
        return [.close(reason: "malformed HTTP request")]
      }
      guard let request else { return [] }
      if let files = central.files, FileRequests.isFileRequest(request) {
        switch try FileRequests(files: files, central: central).start(request, channel: channel, now: now) {
        case .answer(let head, let file):
          output += head
          fileBody = file
          let reason = "\(request.method) \(PrintableText.escaped(request.target)) answered"
          if let body = FileRequests.discardableBody(request, limit: central.configuration.maxUploadBytes), body > 0 {
            discard = (body, reason)
            phase = .discarding
            return discardBody()
          }
          phase = .closing
          return [.close(reason: reason)]
        case .receive(let receiver, let grant):
          upload = (receiver, grant)
          phase = .httpBody
          return try receiveUpload(files, now: now)
        }
      }
      switch try central.admit(request, channel: channel, peer: peer) {
      case .reject(let rejection, let event):
        output += rejection.responseBytes
        phase = .closing
        return [.close(reason: event ?? "handshake refused: \(rejection.status)")]
      case .accept(let stationID, let identity, let response, let unprotocolled):
        output += response
        phase = .open
        self.stationID = stationID
        self.identity = identity
        lastFrameAt = now
        if unprotocolled {
          central.log("info: no subprotocol offered; taking it as ocpp1.6 "
            + ServeLog.fields(["identity": identity, "peer": peer]))
        }
        events.append(.admitted(stationID: stationID, identity: identity))
      }
    }
    while phase == .open {
      let frame: WebSocketFrame?
      do {
        frame = try frameDecoder.decode(&inbound)
        guard let frame else { break }
        lastFrameAt = now
        central.touch(stationID: stationID!, at: now)
        guard let event = try assembler.receive(frame) else { continue }
        switch event {
        case .text(let text): try handleText(text, now: now)
        case .ping(let payload): output += WebSocketFrameEncoder.encode(.pong, payload)
        case .pong: pingSentAt = nil
        case .close(let code):
          output += WebSocketFrameEncoder.close(code == nil ? .normal : (code ?? .normal))
          phase = .closing
          events.append(.close(reason: "closed by station (\(code?.rawValue ?? 1005))"))
        }
      } catch let error as WebSocketError {
        output += WebSocketFrameEncoder.close(error.code, reason: error.reason)
        phase = .closing
        events.append(.close(reason: "\(error.reason) (close \(error.code.rawValue))"))
      }
    }
    return events
  }

  /// Streams what arrived of an upload body to its file; answers once it is complete or refused.
  private func receiveUpload(_ files: FileService, now: Timestamp) throws -> [SessionEvent] {
    guard let (receiver, grant) = upload else { return [] }
    var failure: UploadFailure?
    do {
      guard try receiver.consume(&inbound) else { return [] }
    } catch {
      failure = error
    }
    upload = nil
    output += try FileRequests(files: files, central: central).finish(receiver, grant: grant, failure: failure, now: now)
    let reason = "upload from \(grant.identity) answered"
    if failure != nil, let left = receiver.unread, left > 0 {
      discard = (left, reason)
      phase = .discarding
      return discardBody()
    }
    inbound.removeAll()
    phase = .closing
    return [.close(reason: reason)]
  }

  /// Drops what arrived of a refused body; closes once it is all read (or at once past the cap:
  /// the idle timeout ends a client that stops sending).
  private func discardBody() -> [SessionEvent] {
    guard let (remaining, reason) = discard else { return [] }
    let drop = min(remaining, inbound.count)
    inbound.removeFirst(drop)
    if remaining - drop > 0 {
      discard = (remaining - drop, reason)
      return []
    }
    discard = nil
    inbound.removeAll()
    phase = .closing
    return [.close(reason: reason)]
  }

  /// Starts a close handshake with `code`.
  public func close(_ code: CloseCode, reason: String) {
    guard phase == .open else { return }
    output += WebSocketFrameEncoder.close(code, reason: reason)
    phase = .closing
  }

  /// Sends a ping to find half-open sockets.
  public func ping(now: Timestamp) {
    guard phase == .open else { return }
    output += WebSocketFrameEncoder.encode(.ping, Array("evctl".utf8))
    pingSentAt = now
  }

  private func handleText(_ text: String, now: Timestamp) throws {
    let stationID = stationID!
    let identity = identity!
    central.logFrame(stationID: stationID, inbound: true, text: text, at: now)
    let message: OCPPMessage?
    do {
      message = try OCPPMessageDecoder.decode(text)
    } catch {
      send(.error(id: error.id, code: error.code, description: error.description, details: [:]),
           now: now)
      return
    }
    switch message {
    case .result(let id, let payload)?:
      try answerArrived(id: id, now: now) { command in
        let answer = CommandOutcome.read(action: command.action, response: payload)
        if answer.leniencies > 0 { central.leniencyPending[stationID, default: 0] += answer.leniencies }
        return (answer.state, answer.status, payload, answer.error)
      }
      return
    case .error(let id, let code, let description, _)?:
      try answerArrived(id: id, now: now) { _ in (.failed, code, nil, description) }
      return
    case nil:
      return
    case .call: break
    }
    guard case .call(let id, let action, let payload) = message else { return }
    let key = id.compact
    // A repeated CALL (same id, action and payload) gets the same answer; the payload is kept
    // as parsed, not serialised again for every CALL just in case one repeats.
    if let cached = answered[key], cached.action == action, cached.payload == payload {
      output += cached.response
      return
    }
    if central.logsDebug {
      central.log("debug: call " + ServeLog.fields(
        ["identity": identity, "peer": peer, "action": action, "id": key]))
    }
    let reply: OCPPMessage
    try central.store.beginSavepoint("call")
    do {
      let result = try central.handle(
        action: action, payload: payload, stationID: stationID, identity: identity, at: now)
      try central.store.releaseSavepoint("call")
      reply = .result(id: id, payload: result)
      if action == "BootNotification" { logBoot(identity: identity, payload: payload, result: result) }
    } catch let error as CallError {
      try central.store.rollbackToSavepoint("call")
      try central.store.releaseSavepoint("call")
      central.forgetAlarmKnowledge(stationID: stationID)
      reply = .error(id: id, code: error.code, description: error.description, details: [:])
    } catch {
      try central.store.rollbackToSavepoint("call")
      try central.store.releaseSavepoint("call")
      central.forgetAlarmKnowledge(stationID: stationID)
      central.log("error: call failed " + ServeLog.fields(
        ["identity": identity, "peer": peer, "action": action, "error": "\(error)"]))
      reply = .error(id: id, code: "InternalError", description: "could not process \(action)",
                     details: [:])
    }
    let bytes = send(reply, now: now)
    remember(key, action: action, payload: payload, response: bytes)
  }

  /// One line per boot: who, from where, what it reported and how it was answered.
  private func logBoot(identity: String, payload: JSONValue, result: JSONValue) {
    central.log("info: station booted " + ServeLog.fields([
      "identity": identity, "peer": peer,
      "vendor": payload["chargePointVendor"]?.stringValue,
      "model": payload["chargePointModel"]?.stringValue,
      "firmware": payload["firmwareVersion"]?.stringValue,
      "status": result["status"]?.stringValue,
    ]))
  }

  // MARK: Outbound commands

  /// Queues a command for this station and sends it when the outbound slot is free.
  public func enqueue(_ command: RemoteCommand, now: Timestamp) throws {
    outboundQueue.append(command)
    try pumpOutbound(now: now)
  }

  /// Sends the next waiting command, if the slot is free. Each is claimed in the store first, in
  /// the same step that checks its expiry: one the CLI expired or cancelled while it waited here
  /// is dropped, never sent.
  private func pumpOutbound(now: Timestamp) throws {
    while phase == .open, inFlight == nil, !outboundQueue.isEmpty {
      let command = outboundQueue.removeFirst()
      let messageID = "evctl-\(command.id)"
      guard try central.store.claimCommand(command.id, messageID: messageID, at: now, node: central.claimNode) == .claimed
      else {
        central.unclaimedCommands.append(command.id)
        continue
      }
      inFlight = (command, messageID, now)
      let frame = command.callFrame(messageID: messageID)
      central.logFrame(
        stationID: stationID!, inbound: false,
        text: CentralSystem.loggableFrame(command, messageID: messageID) ?? String(decoding: frame, as: UTF8.self),
        at: now)
      output += WebSocketFrameEncoder.encode(.text, frame)
    }
  }

  private func answerArrived(
    id: JSONValue, now: Timestamp,
    _ outcome: (RemoteCommand) -> (CommandState, String?, JSONValue?, String?)
  ) throws {
    guard let current = inFlight, id.stringValue == current.messageID else {
      central.log("warning: answer to an unknown message id dropped " + ServeLog.fields(
        ["identity": identity ?? "?", "peer": peer, "id": id.compact]))
      return
    }
    inFlight = nil
    let (state, status, response, error) = outcome(current.command)
    try central.commandFinished(
      current.command, state: state, status: status, response: response, error: error,
      sentAt: current.sentAt, at: now)
    try pumpOutbound(now: now)
  }

  /// Fails the in-flight command when its deadline has passed; returns whether one did.
  public func expireInFlight(now: Timestamp) throws -> Bool {
    guard let current = inFlight,
      now.milliseconds - current.sentAt.milliseconds > Int64(current.command.timeoutSeconds) * 1000
    else { return false }
    inFlight = nil
    try central.commandFinished(
      current.command, state: .timedOut, status: nil, response: nil,
      error: "no answer within \(current.command.timeoutSeconds) s; outcome unknown",
      sentAt: current.sentAt, at: now)
    try pumpOutbound(now: now)
    return true
  }

  /// Gives up the commands this session holds when its connection ends: the one on the wire
  /// failed with an unknown outcome; the waiting ones go back to the queue.
  public func abandonCommands(reason: String) -> (inFlight: RemoteCommand?, sentAt: Timestamp?, waiting: [Int]) {
    defer {
      inFlight = nil
      outboundQueue.removeAll()
    }
    return (inFlight?.command, inFlight?.sentAt, outboundQueue.map(\.id))
  }

  @discardableResult
  private func send(_ message: OCPPMessage, now: Timestamp) -> [UInt8] {
    let text = message.bytes
    central.logFrame(
      stationID: stationID!, inbound: false, text: String(decoding: text, as: UTF8.self), at: now)
    let frame = WebSocketFrameEncoder.encode(.text, text)
    output += frame
    return frame
  }

  private func remember(_ key: String, action: String, payload: JSONValue, response: [UInt8]) {
    if answered[key] == nil { answeredOrder.append(key) }
    answered[key] = (action, payload, response)
    if answeredOrder.count > 16 { answered[answeredOrder.removeFirst()] = nil }
  }
}
