import EvctlCore

/// How `serve`'s event loop takes the store's write lock for a batch without ever waiting long.
///
/// Another process (an import, `evctl token add`) may hold the write lock. Instead of waiting
/// for it inside the loop for the whole busy timeout, the loop tries for at most
/// ``turnMilliseconds``; when the lock is still taken it reads and answers nothing in that turn
/// (the answers of the last batch are already sent; new frames wait in the socket buffers) and
/// tries again on the next turn. The log says once that answers are held, and once how long
/// it lasted, instead of once per turn.
struct StoreLock {
  /// The longest a loop turn waits for the lock.
  static let turnMilliseconds = 2
  /// Held this long, the wait is logged.
  static let reportAfterMilliseconds: Int64 = 1_000

  private(set) var heldElsewhereSince: Timestamp?
  private var reported = false

  /// Begins the batch's transaction; `false` when another process still holds the lock.
  mutating func begin(_ store: Store, now: Timestamp, log: (String) -> Void) throws -> Bool {
    let began = try store.tryBeginWrite(waitingAtMost: StoreLock.turnMilliseconds)
    if began {
      if let since = heldElsewhereSince, reported {
        log("info: store lock regained after \(now.milliseconds - since.milliseconds) ms; answering again")
      }
      heldElsewhereSince = nil
      reported = false
      return true
    }
    let since = heldElsewhereSince ?? now
    heldElsewhereSince = since
    if !reported, now.milliseconds - since.milliseconds >= StoreLock.reportAfterMilliseconds {
      reported = true
      log("warning: store is locked by another process; answers are held until it lets go")
    }
    return false
  }
}
