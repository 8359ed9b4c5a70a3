import EvctlCore
import Glibc

/// How `serve`'s loop rides out a lost PostgreSQL connection (the server restarted, the backend
/// was terminated): nothing is read or answered while it is lost (the batch that failed was
/// rolled back and its connections closed unanswered, so stations send it again), and the loop
/// connects again with a growing pause, giving up after ``giveUpSeconds``.
struct StoreReconnect {
  /// After this long without a connection serve stops (exit 69), for a supervisor or a load
  /// balancer to move the stations on; `EVCTL_RECONNECT_SECONDS` overrides it (tests).
  let giveUpSeconds: Int64
  private(set) var lostSince: Timestamp?
  private var nextTry = Timestamp(milliseconds: 0)
  private var pause: Int64 = 100
  private var tries = 0

  init(environment: [String: String]) {
    giveUpSeconds = environment["EVCTL_RECONNECT_SECONDS"].flatMap(Int64.init).map { max($0, 1) } ?? 60
  }

  /// Whether the store can be used in this turn: `true` at once when the connection is up;
  /// otherwise one reconnection attempt when due.
  ///
  /// - Throws: ``StoreError/unavailable(_:)`` once the connection has been lost for longer than
  ///   ``giveUpSeconds``.
  mutating func ready(_ store: Store, now: Timestamp, log: (String) -> Void) throws -> Bool {
    guard lostSince != nil || store.hasLostConnection else { return true }
    let since = lostSince ?? now
    if lostSince == nil {
      lostSince = now
      log("error: lost the connection to PostgreSQL; answers are held until it is back")
    }
    if now.milliseconds >= nextTry.milliseconds {
      tries += 1
      if store.reconnect() {
        log("info: connected to PostgreSQL again after \(now.milliseconds - since.milliseconds) ms (\(tries) attempt\(tries == 1 ? "" : "s")); answering again")
        lostSince = nil
        pause = 100
        tries = 0
        return true
      }
      nextTry = Timestamp(milliseconds: now.milliseconds + pause)
      pause = min(pause * 2, 2_000)
    }
    if now.milliseconds - since.milliseconds >= giveUpSeconds * 1000 {
      throw StoreError.unavailable(
        "lost the connection to PostgreSQL and could not connect again within \(giveUpSeconds) s (\(tries) attempts)")
    }
    // Sockets stay readable while nothing is read: do not spin on them.
    usleep(20_000)
    return false
  }
}
