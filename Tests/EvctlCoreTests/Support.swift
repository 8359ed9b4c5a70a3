import EvctlTestSupport
import Foundation

@testable import EvctlCore

/// A folder under /tmp removed when the value is released.
final class TemporaryDirectory {
  let path: String

  init() throws {
    path = NSTemporaryDirectory() + "evctl-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A store in memory with a fixed clock; on a fresh PostgreSQL database under
/// `EVCTL_TEST_BACKEND=postgresql` (``TestBackend``).
/// `sqlite: true` keeps a test on SQLite whatever the backend (the test says why).
func makeStore(now: Timestamp = Timestamp(parsing: "2026-11-21T12:00:00Z")!, sqlite: Bool = false) throws -> Store {
  let store = try TestBackend.makeStore(sqlite: sqlite)
  store.clock = { now }
  return store
}
