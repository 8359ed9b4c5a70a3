import EvctlCore

extension Simulator {
  func startScenario(_ station: SimStation) {
    station.step = 0
    if options.scenario.steps.isEmpty {
      finishScenario(station)
    } else {
      station.stepAt = now
    }
  }

  func finishScenario(_ station: SimStation) {
    guard !station.scenarioDone else { return }
    station.scenarioDone = true
    done += 1
    emit(station, .scenarioDone)
  }

  /// Runs steps until one has to wait (for time or for an answer).
  func advanceScenario(_ station: SimStation) {
    while !station.scenarioDone, !station.stepWaiting, station.stepAt == nil {
      guard station.registration == .accepted else { return }
      if station.step >= options.scenario.steps.count {
        if options.scenario.repeats {
          station.step = 0
        } else {
          finishScenario(station)
          return
        }
      }
      let step = options.scenario.steps[station.step]
      station.step += 1
      run(station, step)
    }
  }

  /// The step is over: the next one runs at once.
  func stepFinished(_ station: SimStation) {
    station.stepWaiting = false
    station.stepAt = now
  }

  func run(_ station: SimStation, _ step: Scenario.Step) {
    switch step {
    case .wait(let seconds):
      station.stepAt = after(seconds)
    case .plug(let connector):
      station.connectors[connector].plugged = true
      settle(station, connector)
    case .unplug(let connector):
      station.connectors[connector].plugged = false
      if station.connectors[connector].transactionId != nil {
        stopTransaction(station, connector: connector, reason: "EVDisconnected")
        station.stepWaiting = true
      } else {
        settle(station, connector)
      }
    case .auth(let tag):
      let tag = tag ?? defaultTag(station)
      station.currentTag = tag
      station.stepWaiting = true
      call(station, "Authorize", ["idTag": .string(tag)], context: -1)
    case .charge(let connector, let watts, let seconds):
      let tag = station.currentTag ?? defaultTag(station)
      guard station.connectors[connector].transactionId == nil else { return }
      station.stepWaiting = true
      startTransaction(station, connector: connector, tag: tag, watts: watts,
                       endsAfter: seconds, context: 1)
    case .fault(let connector, let code):
      station.connectors[connector].faulted = true
      station.connectors[connector].faultCode = code
      if station.connectors[connector].transactionId != nil {
        stopTransaction(station, connector: connector, reason: "Other")
      }
      settle(station, connector)
    case .clear(let connector):
      station.connectors[connector].faulted = false
      settle(station, connector)
    }
  }

  /// The answer to an Authorize: context -1 is the scenario's, a connector number a remote start's.
  func authorized(_ station: SimStation, tag: String, info: JSONValue, context: Int) {
    let status = info["status"]?.stringValue ?? "Invalid"
    station.authCache[tag] = status
    if context == -1 {
      if status != "Accepted" {
        emit(station, .note("id tag \(tag) is \(status): the session is skipped"))
        station.currentTag = nil
        skipToAfterCharge(station)
      }
      stepFinished(station)
    } else if context > 0 {
      if status == "Accepted" {
        startTransaction(station, connector: context, tag: tag, watts: 11_000, endsAfter: nil, context: 0)
      } else {
        settle(station, context)
      }
    }
  }

  /// A rejected tag: the scenario continues after the next charge step.
  func skipToAfterCharge(_ station: SimStation) {
    let steps = options.scenario.steps
    var index = station.step
    while index < steps.count {
      if case .charge = steps[index] {
        station.step = index + 1
        return
      }
      index += 1
    }
  }
}
