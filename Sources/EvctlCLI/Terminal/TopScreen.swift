import EvctlCore

/// What the person at `evctl top` chose: order, filter, selection and whether a station's
/// events are open.
struct TopState {
  var sort: LiveSort = .identity
  /// `nil`: every state.
  var filter: String?
  /// The selected row among the matching stations (0-based, absolute).
  var selected = 0
  /// The first row shown.
  var offset = 0
  /// The station whose last events are shown, if any.
  var eventsOf: String?
  /// A transient line for the footer ("no station selected").
  var message: String?

  /// The filters `f` steps through.
  static let filters: [String?] = [nil] + Store.liveStateOrder

  /// Moves the selection by `delta` rows within `count` matching rows and keeps it on screen.
  mutating func move(_ delta: Int, count: Int, visible: Int) {
    selected = max(0, min(max(0, count - 1), selected + delta))
    scroll(visible: visible, count: count)
  }

  /// Keeps the selection between the first and last rows shown.
  mutating func scroll(visible: Int, count: Int) {
    selected = max(0, min(selected, max(0, count - 1)))
    if selected < offset { offset = selected }
    if visible > 0, selected >= offset + visible { offset = selected - visible + 1 }
    offset = max(0, min(offset, max(0, count - visible)))
  }
}

/// Draws one frame of `evctl top` from a snapshot: pure, so tests can read it as text.
struct TopScreen {
  var snapshot: LiveSnapshot
  var state: TopState
  var events: [TimelineEntry]
  var scope: String
  var rate: Double?
  var zone: LocalTime
  var columns: Int
  var rows: Int

  /// The CTEK portal's colours (black / blue / red / grey) as terminal colours; the state is
  /// always written out in words as well.
  static func style(of state: String) -> String? {
    switch state {
    case "online": return "1"
    case "charging": return "34"
    case "faulted": return "31"
    case "offline", "never_connected", "unknown": return "90"
    default: return nil
    }
  }

  /// Lines above the station table.
  func headerLines() -> [ScreenLine] {
    var lines: [ScreenLine] = []
    var title = ScreenLine("evctl top - \(scope)", style: "1")
    let clock = zone.format(snapshot.at)
    let pad = max(1, columns - 12 - scope.count - clock.count)
    title.add(String(repeating: " ", count: pad) + clock)
    lines.append(title)
    var serve = ScreenLine("serve     ")
    if let status = snapshot.serve, status.running {
      let up = DurationText.format(seconds: max(0, (snapshot.at.milliseconds - status.startedAt.milliseconds) / 1000))
      serve.add("running", style: "1")
      serve.add(" pid \(status.pid) on \(status.host), up since \(zone.short(status.startedAt)) (\(up))")
      serve.add(", \(snapshot.connected) connected, \(rate.map { Self.number($0) } ?? "-") msg/s")
    } else if let status = snapshot.serve {
      serve.add("not running", style: "31")
      serve.add(" since \(zone.short(status.downSince)) - states are last known")
    } else {
      serve.add("never run on this store", style: "90")
    }
    lines.append(serve)
    var counts = ScreenLine("stations  \(snapshot.total)")
    for name in Store.liveStateOrder where (snapshot.states[name] ?? 0) > 0 || name != "unknown" {
      counts.add("  ")
      counts.add(name.replacing("_", with: " "), style: Self.style(of: name))
      counts.add(" \(snapshot.states[name] ?? 0)")
    }
    lines.append(counts)
    let capacities = snapshot.capacities.prefix(3)
    for capacity in capacities {
      var line = ScreenLine("capacity  ")
      line.add(capacity.path, style: "1")
      let measured = capacity.measured.map { Self.number($0) + " A" } ?? "-"
      let over = (capacity.measured ?? 0) > capacity.maxCurrent + 0.05
      line.add(": limit \(Self.number(capacity.maxCurrent)) A, allocated \(Self.number(capacity.allocated)) A, measured ")
      line.add(measured, style: over ? "31" : nil)
      line.add(", \(capacity.sessions) session\(capacity.sessions == 1 ? "" : "s")")
      if let load = capacity.otherLoad {
        line.add(", other load ")
        line.add(Self.number(load) + " A", style: load > capacity.maxCurrent + 0.05 ? "31" : nil)
      }
      lines.append(line)
    }
    if snapshot.capacities.count > capacities.count {
      lines.append(ScreenLine("          … and \(snapshot.capacities.count - capacities.count) more capacity groups"))
    }
    var alarmLine = ScreenLine("alarms    ")
    alarmLine.add("\(snapshot.alarmCount) active", style: snapshot.alarmCount > 0 ? "31" : nil)
    lines.append(alarmLine)
    for alarm in snapshot.alarms.prefix(3) {
      var line = ScreenLine("          ")
      line.add("#\(alarm.id) \(alarm.identity) \(alarm.kind)\(alarm.connectorID.map { "/\($0)" } ?? "") \(alarm.detail ?? "")")
      lines.append(line)
    }
    return lines
  }

  /// How many station rows fit under the header, leaving room for the events panel and footer.
  func tableRows() -> Int {
    let events = state.eventsOf == nil ? 0 : min(10, max(3, rows / 3))
    return max(1, rows - headerLines().count - 3 - events)
  }

  /// The whole frame, one line per terminal row.
  func lines() -> [ScreenLine] {
    var lines = headerLines()
    lines.append(ScreenLine())
    let stateWidth = 16
    let powerWidth = 9
    let energyWidth = 11
    let seenWidth = 10
    let identityWidth = max(10, min(24, columns / 5))
    let connectorWidth = max(8, columns - 2 - identityWidth - stateWidth - powerWidth - energyWidth - seenWidth - 5)
    var header = ScreenLine()
    header.lineStyle = "7"
    header.add("  ")
    header.add("STATION", width: identityWidth + 1)
    header.add("STATE", width: stateWidth + 1)
    header.add("CONNECTORS", width: connectorWidth + 1)
    header.add("POWER", width: powerWidth, right: true)
    header.add(" ")
    header.add("ENERGY", width: energyWidth, right: true)
    header.add(" ")
    header.add("LAST SEEN", width: seenWidth)
    lines.append(header)
    let people = PeopleTime(now: snapshot.at, zone: zone)
    let visible = tableRows()
    for (index, station) in snapshot.stations.prefix(visible).enumerated() {
      let selected = state.offset + index == state.selected
      var line = ScreenLine()
      if selected { line.lineStyle = "7" }
      line.add(selected ? "> " : "  ")
      line.add(station.identity, width: identityWidth + 1)
      line.add(ScreenLine.fit(station.state.replacing("_", with: " "), stateWidth), style: selected ? nil : Self.style(of: station.state))
      line.add(" ")
      let connectors = station.connectors.map { "\($0.id):\($0.status ?? "?")" }.joined(separator: " ")
      line.add(connectors, width: connectorWidth + 1)
      line.add(station.powerW.map { Self.number($0 / 1000) + " kW" } ?? "-", width: powerWidth, right: true)
      line.add(" ")
      let energy = station.connectors.compactMap(\.energyWh)
      line.add(energy.isEmpty ? "-" : Self.number(energy.reduce(0, +) / 1000) + " kWh", width: energyWidth, right: true)
      line.add(" ")
      line.add(station.lastSeenAt.map(people.time) ?? "never", width: seenWidth)
      lines.append(line)
    }
    if snapshot.stations.isEmpty {
      lines.append(ScreenLine(state.filter.map { "  no \($0.replacing("_", with: " ")) stations" } ?? "  no stations"))
    }
    if let identity = state.eventsOf {
      let room = max(0, rows - lines.count - 2)
      if room > 0 {
        var title = ScreenLine()
        title.lineStyle = "7"
        title.add("  last events of \(identity) (Enter or Esc closes)")
        lines.append(title)
        let shown = events.suffix(max(0, room - 1))
        if shown.isEmpty { lines.append(ScreenLine("  no events yet")) }
        for entry in shown {
          var line = ScreenLine("  ")
          line.add(String(zone.format(entry.at).dropFirst(11).prefix(8)) + " " + entry.line)
          lines.append(line)
        }
      }
    }
    while lines.count < rows - 1 { lines.append(ScreenLine()) }
    lines = Array(lines.prefix(max(0, rows - 1)))
    var footer = ScreenLine()
    footer.lineStyle = "7"
    let first = snapshot.matching == 0 ? 0 : state.offset + 1
    let last = state.offset + min(visible, snapshot.stations.count)
    footer.add(" sort \(state.sort.rawValue) | filter \(state.filter?.replacing("_", with: " ") ?? "all") | \(first)-\(last) of \(snapshot.matching)")
    footer.add(state.message.map { " | \($0)" } ?? " | up/down select, Enter events, s sort, f filter, q quit")
    lines.append(footer)
    return lines
  }

  /// The frame as terminal output: from the top left, each line cleared to its end.
  func frame(color: Bool) -> String {
    "\u{1B}[H" + lines().map { $0.rendered(width: columns, color: color) + "\u{1B}[K" }.joined(separator: "\r\n")
      + "\u{1B}[J"
  }

  /// `7.4`, `12`, `0.5`: one decimal, none when whole.
  static func number(_ value: Double) -> String {
    guard value.isFinite else { return "-" }
    let tenths = (value * 10).rounded() / 10
    return tenths == tenths.rounded() && abs(tenths) < 1e12 ? String(Int(tenths)) : String(tenths)
  }
}
