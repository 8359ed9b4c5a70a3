@testable import EvctlCore
import Testing

@testable import EvctlCLI

/// The pieces of `evctl top` that need no terminal: keys, selection, frames (issue 16 item 1).
@Suite struct TopScreenTests {
  @Test func keysAreReadFromTheSequencesTerminalsSend() {
    #expect(Key.parse(Array("q".utf8)) == [.character("q")])
    #expect(Key.parse([0x1B, 0x5B, 0x41, 0x1B, 0x4F, 0x42]) == [.up, .down])
    #expect(Key.parse(Array("\u{1B}[5~\u{1B}[6~\u{1B}[1~\u{1B}[4~\u{1B}[H\u{1B}[F".utf8))
      == [.pageUp, .pageDown, .home, .end, .home, .end])
    #expect(Key.parse([0x0D, 0x1B]) == [.enter, .escape])
  }

  @Test func theSelectionStaysOnScreenAndInsideTheRows() {
    var state = TopState()
    state.move(25, count: 100, visible: 10)
    #expect(state.selected == 25 && state.offset == 16)
    state.move(-20, count: 100, visible: 10)
    #expect(state.selected == 5 && state.offset == 5)
    state.move(1_000, count: 100, visible: 10)
    #expect(state.selected == 99 && state.offset == 90)
    state.scroll(visible: 10, count: 3)
    #expect(state.selected == 2 && state.offset == 0)
  }

  @Test func aFrameFitsTheWindowAndWritesStatesInWords() throws {
    let now = Timestamp(parsing: "2026-12-03T12:00:00Z")!
    let station = LiveStation(
      id: 1, identity: "CP-\u{1B}[31mEVIL", name: "x", state: "faulted", lastSeenAt: now,
      connectors: [LiveConnector(id: 1, status: "Faulted")])
    let snapshot = LiveSnapshot(
      at: now, states: ["faulted": 1], total: 1, matching: 1, stations: [station], capacities: [],
      alarmCount: 0, alarms: [], serve: nil, connected: 1, messageMark: nil)
    for (columns, rows) in [(40, 12), (132, 50)] {
      let screen = TopScreen(
        snapshot: snapshot, state: TopState(), events: [], scope: "whole network", rate: nil,
        zone: try LocalTime(identifier: "UTC"), columns: columns, rows: rows)
      let lines = screen.lines()
      #expect(lines.count == rows)
      #expect(lines.allSatisfy { $0.rendered(width: columns, color: false).count <= columns })
      #expect(lines.contains { $0.plain.contains("faulted") })
      // Text from stations never reaches the terminal as control characters.
      #expect(!screen.frame(color: false).contains("\u{1B}[31mEVIL"))
      #expect(lines.last!.plain.contains("sort identity"))
    }
  }
}
