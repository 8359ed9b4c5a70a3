import Glibc

/// The `serve` process that owns a store, as its lock row says (issue 9 items 21-22).
public struct ServeStatus: Equatable, Sendable {
  public var pid: Int
  public var host: String
  /// The address it listens on, `HOST:PORT`.
  public var listen: String
  public var startedAt: Timestamp
  public var heartbeatAt: Timestamp
  /// Set when it stopped cleanly.
  public var stoppedAt: Timestamp?
  /// Whether it is running now: not stopped, a fresh heartbeat, and (on this host) a live pid.
  public var running: Bool

  /// Since when it has not been running: its stop, or its last heartbeat.
  public var downSince: Timestamp { stoppedAt ?? heartbeatAt }

  /// The stable JSON form.
  public var json: JSONValue {
    [
      "running": .bool(running), "pid": .int(Int64(pid)), "host": .string(host),
      "listen": .string(listen), "started_at": .from(startedAt), "heartbeat_at": .from(heartbeatAt),
      "stopped_at": .from(stoppedAt), "down_since": running ? .null : .from(downSince),
    ]
  }
}

/// Facts about processes on this host, for deciding whether a lock's owner still lives.
public enum ProcessFacts {
  /// This host's name.
  public static var hostName: String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    return text(buffer)
  }

  /// The text of a NUL-terminated C buffer.
  static func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// This process's id.
  public static var pid: Int { Int(getpid()) }

  /// Whether a process with `pid` exists on this host and runs the same program as we do (so a
  /// reused pid does not count).
  public static func isAlive(_ pid: Int) -> Bool {
    guard pid > 0, kill(pid_t(pid), 0) == 0 || errno == EPERM else { return false }
    guard let theirs = command(of: "/proc/\(pid)/comm"), let ours = command(of: "/proc/self/comm")
    else { return true }
    return theirs == ours
  }

  private static func command(of path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 64)
    guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
    let line = text(buffer)
    return line.hasSuffix("\n") ? String(line.dropLast()) : line
  }
}
