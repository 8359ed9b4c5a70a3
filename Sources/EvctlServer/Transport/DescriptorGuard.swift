import EvctlCore
import Glibc

/// What the listener does when the process is out of file descriptors (EMFILE or ENFILE).
///
/// One descriptor is kept in reserve: when `accept` fails for lack of descriptors, the reserve is
/// released, the waiting connection is taken and closed at once (the client sees a clean close,
/// not a timeout), and the reserve is taken back. When even that fails, the listener is not polled
/// until a connection closes or a second has passed, so the loop never spins. Refusals are
/// counted and logged at most once per ``logIntervalMilliseconds``; one alarm is raised.
final class DescriptorGuard {
  static let logIntervalMilliseconds: Int64 = 10_000
  private var spare: Int32
  /// Connections refused since the last log line.
  private(set) var refused = 0
  /// All connections refused while out of descriptors.
  private(set) var refusedTotal = 0
  private var lastLog: Timestamp?
  private(set) var pausedAt: Timestamp?
  private(set) var exhaustedAt: Timestamp?

  init() { spare = DescriptorGuard.openSpare() }

  deinit { if spare >= 0 { close(spare) } }

  private static func openSpare() -> Int32 { open("/dev/null", O_RDONLY | O_CLOEXEC) }

  /// Whether `error` (an errno) means the process or the system ran out of descriptors.
  static func isExhaustion(_ error: Int32) -> Bool { error == EMFILE || error == ENFILE }

  /// Takes one waiting connection and closes it, using the reserve descriptor.
  ///
  /// - Returns: whether a connection was refused, and whether the reserve is still held (when
  ///   not, the caller stops polling the listener).
  func refuseOne(listener: Int32, now: Timestamp) -> (refused: Bool, reserve: Bool) {
    if exhaustedAt == nil { exhaustedAt = now }
    guard spare >= 0 else { return (false, false) }
    close(spare)
    let fd = accept(listener, nil, nil)
    if fd >= 0 {
      close(fd)
      refused += 1
      refusedTotal += 1
    }
    spare = DescriptorGuard.openSpare()
    return (fd >= 0, spare >= 0)
  }

  func paused(at now: Timestamp) { pausedAt = now }

  func resumed() {
    pausedAt = nil
    if spare < 0 { spare = DescriptorGuard.openSpare() }
  }

  /// The log line due now, if any: the first refusal at once, then one per interval.
  func logLine(now: Timestamp) -> String? {
    guard refused > 0 else { return nil }
    if let last = lastLog, now.milliseconds - last.milliseconds < DescriptorGuard.logIntervalMilliseconds {
      return nil
    }
    var limit = rlimit()
    _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    let line = "warning: out of file descriptors (limit \(limit.rlim_cur)): refused \(refused) connection\(refused == 1 ? "" : "s")"
      + (lastLog == nil ? "" : " in the last \(DescriptorGuard.logIntervalMilliseconds / 1000) s")
      + "; raise 'ulimit -n' or LimitNOFILE"
    lastLog = now
    refused = 0
    return line
  }

  /// Whether descriptors have been available for a whole interval since the last refusal.
  func recovered(now: Timestamp) -> Bool {
    guard exhaustedAt != nil, refused == 0, pausedAt == nil, let last = lastLog,
      now.milliseconds - last.milliseconds >= DescriptorGuard.logIntervalMilliseconds
    else { return false }
    exhaustedAt = nil
    return true
  }
}
