import EvctlCore
import Glibc

/// Caps the TLS handshakes in flight, so that a burst of connects (10,000 stations after a power
/// cut) is handshaken a few hundred at a time instead of all at once, each cut by the handshake
/// timeout half-way and retried.
///
/// Above ``limit`` *active* handshakes a new TLS connection is still accepted (a full listen
/// backlog would leave clients to SYN retransmits, 1, 3, 7 s apart) but not read: it waits in a
/// first-in first-out queue and its handshake starts as others finish, fail or time out. The
/// handshake timeout counts from that start, so waiting never costs a client its handshake. A handshake is active while it hears from its peer: accepted, or a byte received,
/// within the last ``quietMilliseconds``. A stalled client (silent, or a ClientHello that stopped
/// coming) stops counting after that and is left to the handshake timeout, so a few hundred
/// stalled connections never lock working stations out. The plain listener and established
/// connections are never held back.
final class HandshakeGate {
  /// The default cap. 256 was too few for RSA 2048 while loop iterations are slow (10,000 cold
  /// connects: 3,526 in 20 s); 2,048 let all 10,000 in within 16 s (Benchmarks/README.md, TLS).
  /// `EVCTL_TLS_HANDSHAKE_CAP` overrides it (tests only).
  static let defaultLimit = 2048
  /// A handshake that heard nothing from its peer for this long no longer counts.
  static let quietMilliseconds: Int64 = 1000
  let limit: Int
  private var handshakes: [Int32: TLSChannel] = [:]
  /// Accepted connections waiting for a slot, oldest first, from ``head``.
  private var waiting: [(Int32, TLSChannel)] = []
  private var head = 0
  /// Handshakes finished (or given up) since ``takeFinished()`` was last called.
  private var finished = 0

  init(limit: Int) { self.limit = max(limit, 1) }

  /// The cap from the environment (`EVCTL_TLS_HANDSHAKE_CAP`, tests only), else ``defaultLimit``.
  static func fromEnvironment() -> HandshakeGate {
    if let raw = getenv("EVCTL_TLS_HANDSHAKE_CAP"), let value = Int(String(cString: raw)), value > 0 {
      return HandshakeGate(limit: value)
    }
    return HandshakeGate(limit: defaultLimit)
  }

  /// A connection accepted on the TLS listener, whose handshake starts now.
  func admitted(fd: Int32, _ channel: TLSChannel) { handshakes[fd] = channel }

  /// The connection on `fd` closed.
  func forget(fd: Int32, _ channel: TLSChannel) {
    if handshakes[fd] === channel {
      handshakes[fd] = nil
      finished += 1
    }
  }

  /// The handshakes that count against ``limit`` now; finished ones are dropped on the way.
  func active(now: Timestamp) -> Int {
    var count = 0
    for (fd, channel) in handshakes {
      if !channel.handshaking {
        handshakes[fd] = nil
        finished += 1
      } else if now.milliseconds - channel.heardAt.milliseconds < HandshakeGate.quietMilliseconds {
        count += 1
      }
    }
    return count
  }

  /// Whether connections wait for a slot.
  var hasWaiting: Bool { head < waiting.count }

  /// A connection accepted above the cap: it waits, unread.
  func wait(fd: Int32, _ channel: TLSChannel) {
    channel.queued = true
    waiting.append((fd, channel))
  }

  /// The oldest waiting connection (it may have closed since: the caller checks).
  func nextWaiting() -> (Int32, TLSChannel)? {
    guard head < waiting.count else { return nil }
    defer {
      head += 1
      if head == waiting.count {
        waiting.removeAll(keepingCapacity: false)
        head = 0
      }
    }
    return waiting[head]
  }

  /// How many handshakes finished since the last call (see ``active(now:)``), and resets it.
  func takeFinished() -> Int {
    defer { finished = 0 }
    return finished
  }
}
