/// The generator's bound on TLS handshakes under way (``SimulatorOptions/maxTLSHandshakes``).
extension Simulator {
  /// Connects now, or queues the station until a handshake slot frees (wss:// only).
  func connectWhenSlotFree(_ station: SimStation) {
    let bound = options.maxTLSHandshakes
    if tlsContext == nil || bound <= 0 || handshakesInFlight < bound {
      connect(station)
    } else {
      waitingForSlot.append(station.index)
    }
  }

  /// Counts a connection that has just started towards the bound.
  func takeHandshakeSlot(_ station: SimStation) {
    guard tlsContext != nil, !station.holdsHandshakeSlot else { return }
    station.holdsHandshakeSlot = true
    handshakesInFlight += 1
    stats.maxHandshakesInFlight = max(stats.maxHandshakesInFlight, handshakesInFlight)
  }

  /// The connection opened or ended: its slot goes to the next station waiting.
  func releaseHandshakeSlot(_ station: SimStation) {
    guard station.holdsHandshakeSlot else { return }
    station.holdsHandshakeSlot = false
    handshakesInFlight -= 1
    while !stopping, waitingHead < waitingForSlot.count,
      options.maxTLSHandshakes <= 0 || handshakesInFlight < options.maxTLSHandshakes
    {
      let next = stations[waitingForSlot[waitingHead]]
      waitingHead += 1
      guard next.link == .down, next.fd < 0 else { continue }
      connect(next)
      schedule(next)
    }
    if waitingHead == waitingForSlot.count {
      waitingForSlot.removeAll(keepingCapacity: true)
      waitingHead = 0
    }
  }
}
