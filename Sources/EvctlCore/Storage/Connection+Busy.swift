internal import CSQLite
import Glibc

/// The state of the busy handler: how long to wait for a lock, and when this wait began.
///
/// SQLite's own `sqlite3_busy_timeout` sleeps 1, 2, 5, 10 … 100 ms between attempts, so a
/// process waiting beside `evctl serve` (which takes and drops the write lock every few
/// milliseconds) keeps sleeping through the gaps. This handler polls every 0.1–1 ms instead.
final class BusyWait {
  /// The longest wait, in milliseconds.
  var milliseconds: Int
  var startedAt: Int64 = 0

  init(milliseconds: Int) { self.milliseconds = milliseconds }

  /// Monotonic microseconds.
  static func clock() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000
  }

  /// Called by SQLite while a lock is held elsewhere; returns whether to try again.
  func shouldRetry(attempt: Int32) -> Bool {
    let now = BusyWait.clock()
    if attempt == 0 { startedAt = now }
    let waited = now - startedAt
    guard waited < Int64(milliseconds) * 1_000 else { return false }
    let pause = min(Int64(100) << min(Int64(attempt) / 8, 3), 1_000)
    usleep(UInt32(min(pause, Int64(milliseconds) * 1_000 - waited + 1)))
    return true
  }
}

extension Connection {
  func installBusyHandler() {
    let context = Unmanaged.passUnretained(busyWait).toOpaque()
    sqlite3_busy_handler(handle, { context, attempt in
      guard let context else { return 0 }
      let wait = Unmanaged<BusyWait>.fromOpaque(context).takeUnretainedValue()
      return wait.shouldRetry(attempt: attempt) ? 1 : 0
    }, context)
  }

  /// How long statements wait for another connection's lock before failing with SQLITE_BUSY.
  public var busyTimeoutMilliseconds: Int {
    get { busyWait.milliseconds }
    set { busyWait.milliseconds = max(0, newValue) }
  }

  /// Starts a write transaction (`BEGIN IMMEDIATE`), waiting at most `milliseconds` for the
  /// write lock instead of the connection's busy timeout.
  ///
  /// - Returns: `false` when another connection still holds the lock; nothing is open then.
  /// - Throws: ``SQLiteError`` for any other failure.
  public func tryBeginImmediate(waitingAtMost milliseconds: Int) throws -> Bool {
    let saved = busyWait.milliseconds
    busyWait.milliseconds = milliseconds
    defer { busyWait.milliseconds = saved }
    do {
      try execute("BEGIN IMMEDIATE")
      return true
    } catch let error as SQLiteError where error.isBusy {
      return false
    }
  }
}
