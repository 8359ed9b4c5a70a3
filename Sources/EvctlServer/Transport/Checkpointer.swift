import EvctlCore
import Foundation

/// Runs SQLite WAL checkpoints on a thread of its own, so that their `fsync` never blocks the
/// event loop (which turns automatic checkpoints off on its own connection).
///
/// A passive checkpoint copies committed pages into the database file without blocking writers;
/// a truncating one keeps the WAL from growing once readers allow it.
final class Checkpointer: @unchecked Sendable {
  private let path: String
  private let interval: TimeInterval
  private let stopped = NSCondition()
  private var isStopped = false
  private var thread: Thread?

  /// Creates a checkpointer for the database at `path`.
  init(path: String, interval: TimeInterval = 1) {
    self.path = path
    self.interval = interval
  }

  /// Starts the thread.
  func start() {
    let thread = Thread { [self] in self.loop() }
    thread.name = "evctl-checkpoint"
    self.thread = thread
    thread.start()
  }

  /// Stops the thread after its current checkpoint.
  func stop() {
    stopped.lock()
    isStopped = true
    stopped.signal()
    stopped.unlock()
  }

  private func loop() {
    guard let checkpointer = WALCheckpointer(path: path) else { return }
    var rounds = 0
    while true {
      stopped.lock()
      if !isStopped { _ = stopped.wait(until: Date().addingTimeInterval(interval)) }
      let done = isStopped
      stopped.unlock()
      rounds += 1
      checkpointer.checkpoint(truncating: rounds % 30 == 0 || done)
      if done { return }
    }
  }
}
