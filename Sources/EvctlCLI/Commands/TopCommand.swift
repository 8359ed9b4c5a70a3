import EvctlCore
import Glibc

extension Commands {
  static let top: CommandSpec = CommandSpec(
    "top", abstract: "Watch the network live, full screen: stations, sessions, capacity, alarms, serve",
    discussion: """
      Refreshes every second from the store (one page of stations per refresh, read through
      indexes, so it stays light at tens of thousands of stations). States are coloured as in the
      portals (online, charging blue, faulted red, offline grey) and always written out.
      Keys: up/down (or j/k), PgUp/PgDn, Home/End select a station; Enter shows its last events,
      Esc closes them; s changes the order; f filters by state; q quits. It needs a terminal;
      for scripts and logs use 'evctl status --watch'.
      """,
    arguments: [
      .option("group", value: "group", help: "Only this group's subtree", completion: .groups),
      .option("sort", value: "order", help: "The first order; s changes it", choices: LiveSort.allCases.map(\.rawValue)),
      .option("state", value: "state", help: "Only stations in this state at first; f changes it",
              choices: Store.liveStateOrder),
    ],
    examples: [.init("Watch one site", "evctl top --group 'HQ'")]
  ) { inv in
    try inv.supportsOnly([.table])
    guard RawTerminal.available else {
      throw UsageError(
        message: "'evctl top' needs a terminal: for a refreshed snapshot in scripts or logs use 'evctl status --watch'",
        commandPath: inv.arguments.path)
    }
    let store = try inv.context.openStore()
    var state = TopState()
    state.sort = inv.arguments.option("sort").flatMap(LiveSort.init(rawValue:)) ?? .identity
    state.filter = inv.arguments.option("state")
    let group = inv.arguments.option("group")
    // A group that does not exist or lies outside the operator's domain fails here, before
    // the screen is taken.
    _ = try store.liveSnapshot(LiveQuery(group: group))
    let view = TopView(store: store, group: group, zone: try inv.context.zone(), color: inv.context.useColor)
    let terminal = RawTerminal()
    try terminal.enter()
    defer { terminal.restore() }
    let stop = try view.run(terminal: terminal, state: &state)
    terminal.restore()
    if let stop { throw ExitCode.stopped(by: stop) }
  }
}

/// The loop of `evctl top`: refresh, draw, read keys, until `q` or a signal.
struct TopView {
  let store: Store
  let group: String?
  let zone: LocalTime
  let color: Bool

  /// Runs until the person quits (`nil`) or a signal asks to stop (its number).
  func run(terminal: RawTerminal, state: inout TopState) throws -> Int32? {
    var lastMark: (mark: Int, at: Timestamp)?
    var rate: Double?
    var snapshot: LiveSnapshot?
    var nextRefresh = Timestamp(milliseconds: 0)
    var redraw = true
    var visible = 20
    while true {
      if let signal = terminal.stopSignal { return signal }
      if terminal.takeResize() { redraw = true; terminal.write("\u{1B}[2J") }
      let size = terminal.size
      let now = Timestamp.now()
      if now >= nextRefresh || snapshot == nil || redraw {
        var query = LiveQuery(group: group, state: state.filter)
        query.sort = state.sort
        query.offset = state.offset
        query.limit = visible
        do {
          let fresh = try store.liveSnapshot(query)
          if now >= nextRefresh {
            if let mark = fresh.messageMark, let last = lastMark, fresh.serve?.running == true {
              let seconds = Double(fresh.at.milliseconds - last.at.milliseconds) / 1000
              if seconds > 0.2 { rate = max(0, Double(mark - last.mark)) / seconds }
            }
            if let mark = fresh.messageMark { lastMark = (mark, fresh.at) }
            nextRefresh = Timestamp(milliseconds: now.milliseconds + 1000)
          }
          snapshot = fresh
          if state.message?.hasPrefix("store:") == true { state.message = nil }
        } catch {
          state.message = "store: \(error)"
          nextRefresh = Timestamp(milliseconds: now.milliseconds + 1000)
        }
        guard let shown = snapshot else {
          terminal.write("\u{1B}[H\u{1B}[2Jevctl top: \(state.message ?? "reading the store")\u{1B}[K")
          _ = terminal.readKeys(waiting: 500)
          continue
        }
        var events: [TimelineEntry] = []
        if let identity = state.eventsOf {
          events = (try? store.timeline(station: identity, from: now.adding(seconds: -86_400), to: nil, limit: 20)) ?? []
        }
        let screen = TopScreen(
          snapshot: shown, state: state, events: events, scope: group.map { "group \($0)" } ?? "whole network",
          rate: rate, zone: zone, columns: size.columns, rows: size.rows)
        let fits = screen.tableRows()
        if fits != visible {
          // The window changed: read the page that fits, then draw.
          visible = fits
          state.scroll(visible: visible, count: shown.matching)
          redraw = true
          continue
        }
        terminal.write(screen.frame(color: color))
        redraw = false
      }
      let wait = max(10, min(1000, nextRefresh.milliseconds - Timestamp.now().milliseconds))
      for key in terminal.readKeys(waiting: Int32(wait)) {
        if handle(key, state: &state, snapshot: snapshot, visible: visible) { return nil }
        redraw = true
      }
    }
  }

  /// Applies one key; returns `true` to quit.
  func handle(_ key: Key, state: inout TopState, snapshot: LiveSnapshot?, visible: Int) -> Bool {
    let count = snapshot?.matching ?? 0
    state.message = nil
    switch key {
    case .character("q"), .character("Q"), .endOfInput: return true
    case .up, .character("k"): state.move(-1, count: count, visible: visible)
    case .down, .character("j"): state.move(1, count: count, visible: visible)
    case .pageUp: state.move(-visible, count: count, visible: visible)
    case .pageDown: state.move(visible, count: count, visible: visible)
    case .home, .character("g"): state.move(-count, count: count, visible: visible)
    case .end, .character("G"): state.move(count, count: count, visible: visible)
    case .character("s"):
      let all = LiveSort.allCases
      state.sort = all[(all.firstIndex(of: state.sort)! + 1) % all.count]
      state.selected = 0
      state.offset = 0
    case .character("f"):
      let all = TopState.filters
      state.filter = all[((all.firstIndex(of: state.filter) ?? 0) + 1) % all.count]
      state.selected = 0
      state.offset = 0
    case .enter:
      let index = state.selected - state.offset
      if let stations = snapshot?.stations, stations.indices.contains(index) {
        let identity = stations[index].identity
        state.eventsOf = state.eventsOf == identity ? nil : identity
      } else {
        state.message = "no station selected"
      }
    case .escape: state.eventsOf = nil
    default: break
    }
    return false
  }
}
