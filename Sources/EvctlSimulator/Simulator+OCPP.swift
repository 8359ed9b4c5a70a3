import EvctlCore
import EvctlServer

extension Simulator {
  static let transactionActions: Set<String> = ["StartTransaction", "StopTransaction", "MeterValues"]

  /// Sends a CALL, or queues it behind the one in flight; `context` comes back with the answer.
  func call(_ station: SimStation, _ action: String, _ payload: JSONValue, context: Int = 0) {
    let queued = QueuedCall(action: action, payload: payload, context: context)
    guard station.link == .open, station.registration == .accepted || action == "BootNotification",
      station.inFlight.isEmpty
    else {
      if station.link == .open || Simulator.transactionActions.contains(action) {
        station.queue.append(queued)
      }
      return
    }
    transmit(station, queued)
  }

  func transmit(_ station: SimStation, _ queued: QueuedCall) {
    let id = String(station.nextMessageId)
    station.nextMessageId += 1
    // The clock when the frame is written, not when this turn of the loop began: with many
    // answers to handle first, the turn's time would count the simulator's own work as latency.
    station.inFlight[id] = PendingCall(action: queued.action, sentAt: Clock.now(), context: queued.context)
    stats.sent(queued.action)
    let payload = options.misbehave.isEmpty ? queued.payload : Misbehaviour.apply(options.misbehave, to: queued.payload)
    let message = OCPPMessage.call(id: .string(id), action: queued.action, payload: payload)
    send(station, ClientFrames.encode(.text, message.bytes, mask: random.mask()))
    emit(station, .sent(action: queued.action))
  }

  /// Sends the next queued CALL when none is in flight.
  func sendQueued(_ station: SimStation) {
    guard station.link == .open, station.inFlight.isEmpty, !station.queue.isEmpty else { return }
    if station.registration != .accepted {
      guard let index = station.queue.firstIndex(where: { $0.action == "BootNotification" }) else { return }
      transmit(station, station.queue.remove(at: index))
      return
    }
    transmit(station, station.queue.removeFirst())
  }

  /// Handles one text message from the central system.
  func receive(_ station: SimStation, _ text: String) {
    let message: OCPPMessage?
    do {
      message = try OCPPMessageDecoder.decode(text)
    } catch {
      stats.count("malformed frame from the server")
      let answer = OCPPMessage.error(id: error.id, code: error.code, description: error.description, details: [:])
      send(station, ClientFrames.encode(.text, answer.bytes, mask: random.mask()))
      return
    }
    switch message {
    case .call(let id, let action, let payload):
      let answer = answerCall(station, action: action, payload: payload)
      let reply: OCPPMessage
      switch answer {
      case .result(let result): reply = .result(id: id, payload: result)
      case .error(let code, let description):
        reply = .error(id: id, code: code, description: description, details: [:])
      }
      send(station, ClientFrames.encode(.text, reply.bytes, mask: random.mask()))
      emit(station, .received(action: action, answer: reply.json))
      afterAnswer(station, action: action, payload: payload, answer: answer)
    case .result(let id, let payload):
      guard let key = Self.key(id), let pending = station.inFlight.removeValue(forKey: key) else { return }
      stats.answered(pending.action, seconds: Clock.now() - pending.sentAt, sentAt: pending.sentAt)
      emit(station, .answered(action: pending.action, payload: payload))
      handleResult(station, pending, payload)
      sendQueued(station)
    case .error(let id, let code, let description, _):
      guard let key = Self.key(id), let pending = station.inFlight.removeValue(forKey: key) else { return }
      stats.count("CALLERROR \(code)")
      stats.answered(pending.action, seconds: Clock.now() - pending.sentAt, sentAt: pending.sentAt, ok: false)
      emit(station, .callError(action: pending.action, code: code, description: description))
      handleFailure(station, pending)
      sendQueued(station)
    case nil:
      break
    }
  }

  static func key(_ id: JSONValue) -> String? {
    if let text = id.stringValue { return text }
    if let number = id.intValue { return String(number) }
    return nil
  }

  /// Calls unanswered for longer than the timeout are given up.
  func expireCalls(_ station: SimStation) {
    let expired = station.inFlight.filter { $0.value.sentAt + options.callTimeout <= now }
    guard !expired.isEmpty else { return }
    for (key, pending) in expired {
      station.inFlight[key] = nil
      stats.count("timeout")
      emit(station, .timedOut(action: pending.action))
      handleFailure(station, pending)
    }
    sendQueued(station)
  }

  func sendBoot(_ station: SimStation) {
    var payload: [String: JSONValue] = [
      "chargePointVendor": .string(String(options.vendor.prefix(20))),
      "chargePointModel": .string(String(options.model.prefix(20))),
      "chargePointSerialNumber": .string(String((options.serial ?? station.identity).prefix(25))),
      "firmwareVersion": .string(String(options.firmware.prefix(50))),
    ]
    if options.connectors > 0 { payload["meterType"] = "evctl-sim meter" }
    call(station, "BootNotification", .object(payload))
  }

  /// What a CALLRESULT means to the station.
  func handleResult(_ station: SimStation, _ pending: PendingCall, _ payload: JSONValue) {
    switch pending.action {
    case "BootNotification":
      let status = payload["status"]?.stringValue ?? ""
      let interval = payload["interval"]?.doubleValue ?? 0
      switch status {
      case "Accepted":
        station.registration = .accepted
        if interval > 0 {
          station.heartbeatSeconds = interval
          _ = station.configuration.change("HeartbeatInterval", to: String(Int(interval)))
        } else {
          station.heartbeatSeconds = Double(station.configuration.int("HeartbeatInterval", 300))
        }
        booted(station)
      case "Pending":
        station.registration = .pending
        // The interval the central system asked for is honoured in real time, whatever --speed.
        station.bootAt = now + (interval > 0 ? interval : 30)
      default:
        station.registration = .rejected
        station.bootAt = now + (interval > 0 ? interval : 60)
      }
    case "Heartbeat":
      if options.loadRate == nil { scheduleHeartbeat(station) } else { scheduleLoad(station) }
    case "Authorize":
      authorized(station, tag: station.currentTag ?? "", info: payload["idTagInfo"] ?? [:], context: pending.context)
    case "StartTransaction":
      transactionStarted(station, connector: pending.context, payload: payload)
    case "StopTransaction":
      transactionStopped(station, connector: pending.context)
    default:
      break
    }
  }

  /// A CALLERROR or a timeout: the station goes on as a charger would.
  func handleFailure(_ station: SimStation, _ pending: PendingCall) {
    switch pending.action {
    case "BootNotification": station.bootAt = now + 30
    case "Heartbeat":
      if options.loadRate == nil { scheduleHeartbeat(station) } else { scheduleLoad(station) }
    case "Authorize":
      authorized(station, tag: station.currentTag ?? "", info: ["status": "Invalid"], context: pending.context)
    case "StartTransaction":
      transactionStarted(station, connector: pending.context, payload: ["idTagInfo": ["status": "Invalid"]])
    case "StopTransaction":
      transactionStopped(station, connector: pending.context)
    default: break
    }
  }

  /// Boot accepted: report every connector, then heartbeats and the scenario.
  func booted(_ station: SimStation) {
    for connector in station.connectors.indices {
      sendStatus(station, connector)
    }
    if station.reportInstalled {
      station.reportInstalled = false
      call(station, "FirmwareStatusNotification", ["status": "Installed"])
    }
    if options.loadRate != nil {
      station.loadAt = now + (options.loadRate! > 0 ? random.unit() / options.loadRate! : 0)
    } else {
      scheduleHeartbeat(station)
    }
    if !station.bootedOnce {
      station.bootedOnce = true
      startScenario(station)
    } else if station.stepWaiting == false, station.stepAt == nil, !station.scenarioDone {
      station.stepAt = now
    }
    for connector in station.connectors.indices where station.connectors[connector].transactionId != nil {
      station.connectors[connector].nextMeterAt = now
    }
    sendQueued(station)
  }

  func scheduleHeartbeat(_ station: SimStation) {
    guard station.registration == .accepted else { return }
    station.heartbeatAt = after(max(1, station.heartbeatSeconds))
  }

  func scheduleLoad(_ station: SimStation) {
    guard let rate = options.loadRate, station.registration == .accepted else { return }
    guard rate > 0 else {
      station.loadAt = now
      return
    }
    // One interval after the last CALL was due, not after its answer; a station that fell more
    // than an interval behind starts again from now instead of bursting to catch up.
    var next = (station.loadSlot ?? now) + 1 / rate
    if now - next > 1 / rate { next = now }
    station.loadAt = next
  }

  /// StatusNotification for one connector with what it is doing now.
  func sendStatus(_ station: SimStation, _ connector: Int) {
    let state = station.connectors[connector]
    emit(station, .note("connector \(connector): \(state.status)" + (state.errorCode == "NoError" ? "" : " (\(state.errorCode))")))
    call(station, "StatusNotification", [
      "connectorId": .int(Int64(connector)), "errorCode": .string(state.errorCode),
      "status": .string(state.status), "timestamp": .string(wallClock()),
    ])
  }

  /// Sets a connector's status and reports it when it changed.
  func setStatus(_ station: SimStation, _ connector: Int, _ status: String, errorCode: String = "NoError") {
    guard station.connectors[connector].status != status || station.connectors[connector].errorCode != errorCode
    else { return }
    station.connectors[connector].status = status
    station.connectors[connector].errorCode = errorCode
    if station.registration == .accepted { sendStatus(station, connector) }
  }

  /// The status a connector should show from its state.
  func settledStatus(_ station: SimStation, _ connector: Int) -> String {
    let state = station.connectors[connector]
    if state.faulted { return "Faulted" }
    if connector > 0 && (state.transactionId != nil || state.starting) {
      return state.powerWatts > 0 || state.starting ? "Charging" : "SuspendedEV"
    }
    if !state.operative { return "Unavailable" }
    if state.plugged { return "Preparing" }
    if state.reservationId != nil { return "Reserved" }
    return "Available"
  }

  func settle(_ station: SimStation, _ connector: Int) {
    let state = station.connectors[connector]
    setStatus(station, connector, settledStatus(station, connector),
              errorCode: state.faulted ? state.faultCode : "NoError")
  }
}
