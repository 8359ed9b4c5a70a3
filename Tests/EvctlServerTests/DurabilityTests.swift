import Dispatch
import EvctlCore
import EvctlTestSupport
import Foundation
import Testing

@testable import EvctlServer

/// What serve promises about acknowledged messages (issue 11 item 7).
@Suite struct DurabilityTests {
  /// SQLite only: `PRAGMA synchronous` is SQLite's; a PostgreSQL commit waits for its WAL flush
  /// by default (`synchronous_commit = on`), which serve leaves alone.
  @Test(.enabled(if: !TestBackend.isPostgreSQL, "PRAGMA synchronous is SQLite's own setting"),
        .timeLimit(.minutes(1)))
  func serveCommitsWithSynchronousFull() throws {
    let directory = NSTemporaryDirectory() + "evctl-sync-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try Store(.path(directory + "/e.db"))
    #expect(try store.db.queryOne("PRAGMA synchronous")?.values.first?.int == 1)
    var configuration = ServerConfiguration()
    configuration.host = "127.0.0.1"
    configuration.port = 0
    let server = try Server(central: CentralSystem(store: store, configuration: configuration))
    let stopper = server.stopper
    let box = UncheckedBox(server)
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      try? box.value.run()
      done.signal()
    }
    thread.start()
    usleep(300_000)
    stopper.stop()
    done.wait()
    // 2 = FULL: each batch's commit waits for the WAL to reach the disk.
    #expect(try store.db.queryOne("PRAGMA synchronous")?.values.first?.int == 2)
  }
}
