import Glibc

/// How serious a line of serve's log is; the order is `--log-level`'s.
public enum LogLevel: Int, Comparable, CaseIterable, Sendable {
  case debug, info, warning, error

  /// The name in `--log-level` and in each line (`warning: …`).
  public var name: String {
    switch self {
    case .debug: return "debug"
    case .info: return "info"
    case .warning: return "warning"
    case .error: return "error"
    }
  }

  /// The sd-daemon(3) priority: `<3>` error, `<4>` warning, `<6>` info, `<7>` debug.
  public var journalPriority: Int {
    switch self {
    case .debug: return 7
    case .info: return 6
    case .warning: return 4
    case .error: return 3
    }
  }

  public init?(name: String) {
    guard let level = LogLevel.allCases.first(where: { $0.name == name }) else { return nil }
    self = level
  }

  public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Formats serve's diagnostics: one line each, `LEVEL: message key=value…`, filtered by level and
/// prefixed with the sd-daemon priority when stderr is the systemd journal.
public struct ServeLog: Sendable {
  /// The least severe level written.
  public var minimum: LogLevel
  /// Whether lines get `<N>` priority prefixes for journald.
  public var journal: Bool

  public init(minimum: LogLevel = .info, journal: Bool = false) {
    self.minimum = minimum
    self.journal = journal
  }

  /// The level a line written as `"warning: …"` has; lines without a known prefix are info.
  public static func level(of line: String) -> LogLevel {
    guard let colon = line.firstIndex(of: ":") else { return .info }
    return LogLevel(name: String(line[..<colon])) ?? .info
  }

  /// The text to write for `line` (`"warning: …"`), or `nil` when its level is filtered out.
  public func render(_ line: String) -> String? {
    let level = ServeLog.level(of: line)
    guard level >= minimum else { return nil }
    return (journal ? "<\(level.journalPriority)>" : "") + "evctl: " + line
  }

  /// The text for a message written whatever the level (`listening on …`, `stopped`).
  public func always(_ level: LogLevel, _ message: String) -> String {
    (journal ? "<\(level.journalPriority)>" : "") + "evctl: " + message
  }

  /// Whether `JOURNAL_STREAM` (`DEVICE:INODE`, set by systemd) names the file on `fd`, as
  /// sd-daemon(3) recommends checking before using priority prefixes.
  public static func isJournal(_ journalStream: String?, fd: Int32 = 2) -> Bool {
    guard let value = journalStream else { return false }
    let parts = value.split(separator: ":")
    guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
    var info = stat()
    guard fstat(fd, &info) == 0 else { return false }
    return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
  }

  /// `key=value` pairs for a log line; values with spaces, quotes, `=` or control characters are
  /// quoted, with control characters escaped (`\x1b`), so one line stays one line.
  public static func fields(_ pairs: KeyValuePairs<String, String?>) -> String {
    pairs.compactMap { key, value in value.map { "\(key)=\(quote($0))" } }.joined(separator: " ")
  }

  static func quote(_ value: String) -> String {
    let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { scalar in
      scalar.value > 0x20 && scalar.value != 0x7f && scalar != "\"" && scalar != "=" && scalar != "\\"
        && scalar.properties.generalCategory != .control
    }
    if plain { return value }
    var out = "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7f || scalar.properties.generalCategory == .control {
          let hex = String(scalar.value, radix: 16)
          out += scalar.value <= 0xff ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex : "\\u{\(hex)}"
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}

/// The peer of a connected socket as `ADDRESS:PORT` (`[ADDRESS]:PORT` for IPv6), or `-`.
func peerAddress(of fd: Int32) -> String {
  var storage = sockaddr_storage()
  var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
  let got = withUnsafeMutablePointer(to: &storage) { pointer in
    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
  }
  guard got == 0 else { return "-" }
  var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
  switch Int32(storage.ss_family) {
  case AF_INET:
    return withUnsafePointer(to: &storage) { pointer in
      pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
        var address = v4.pointee.sin_addr
        guard inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil else { return "-" }
        return terminated(text) + ":" + String(UInt16(bigEndian: v4.pointee.sin_port))
      }
    }
  case AF_INET6:
    return withUnsafePointer(to: &storage) { pointer in
      pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
        var address = v6.pointee.sin6_addr
        guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return "-" }
        return "[" + terminated(text) + "]:" + String(UInt16(bigEndian: v6.pointee.sin6_port))
      }
    }
  default:
    return "-"
  }
}

/// The text of a NUL-terminated C buffer.
private func terminated(_ buffer: [CChar]) -> String {
  String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
