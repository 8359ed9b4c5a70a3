import Glibc

/// The last signal that asked a full-screen view to stop or redraw; set by the handlers below.
nonisolated(unsafe) private var pendingStop: Int32 = 0
nonisolated(unsafe) private var pendingResize: Int32 = 0

/// The process's own terminal in raw mode on the alternate screen, for `evctl top`.
///
/// ``enter()`` saves the terminal's settings and ``restore()`` puts them back; SIGINT, SIGTERM,
/// SIGHUP and SIGQUIT only set a flag, so the view restores the terminal before it returns
/// (the caller then exits with 128 + the signal). SIGWINCH asks for a redraw at the new size.
final class RawTerminal {
  private var saved = termios()
  private var active = false
  private var savedHandlers: [Int32: sighandler_t?] = [:]
  static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

  /// Whether stdin and stdout are both terminals.
  static var available: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }

  /// Raw input (no echo, no line buffering, no signals from keys), the alternate screen, no cursor.
  func enter() throws {
    guard tcgetattr(STDIN_FILENO, &saved) == 0 else {
      throw CLIError.io("cannot read the terminal's settings: \(String(cString: strerror(errno)))")
    }
    var raw = saved
    raw.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN)
    raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
    // Keep ISIG: ^C arrives as SIGINT, which only sets a flag here.
    withUnsafeMutableBytes(of: &raw.c_cc) { cc in
      cc[Int(VMIN)] = 0
      cc[Int(VTIME)] = 0
    }
    pendingStop = 0
    pendingResize = 0
    for sig in Self.stopSignals {
      savedHandlers[sig] = signal(sig) { pendingStop = $0 }
    }
    savedHandlers[SIGWINCH] = signal(SIGWINCH) { _ in pendingResize = 1 }
    guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0 else {
      restoreHandlers()
      throw CLIError.io("cannot put the terminal in raw mode: \(String(cString: strerror(errno)))")
    }
    active = true
    write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J")
  }

  /// Puts the terminal back as it was: main screen, cursor, settings and signal handlers.
  func restore() {
    guard active else { return }
    active = false
    write("\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l")
    _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
    restoreHandlers()
  }

  private func restoreHandlers() {
    for (sig, handler) in savedHandlers { signal(sig, handler ?? SIG_DFL) }
    savedHandlers = [:]
  }

  deinit { restore() }

  /// The signal that asked to stop, if one came.
  var stopSignal: Int32? { pendingStop == 0 ? nil : pendingStop }

  /// Whether the window changed size since the last call.
  func takeResize() -> Bool {
    defer { pendingResize = 0 }
    return pendingResize != 0
  }

  /// Columns and rows of the window; 80×24 when the terminal does not say.
  var size: (columns: Int, rows: Int) {
    var ws = winsize()
    guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 else { return (80, 24) }
    return (Int(ws.ws_col), Int(ws.ws_row))
  }

  /// Writes `text` to the terminal as it is.
  func write(_ text: String) {
    var text = text
    text.withUTF8 { _ = Console.writeAll(STDOUT_FILENO, UnsafeRawBufferPointer($0)) }
  }

  /// Waits up to `milliseconds` for keys and returns them; empty on a timeout or a signal.
  func readKeys(waiting milliseconds: Int32) -> [Key] {
    var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
    guard poll(&descriptor, 1, milliseconds) > 0 else { return [] }
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = read(STDIN_FILENO, &buffer, buffer.count)
    guard count > 0 else { return count == 0 ? [.endOfInput] : [] }
    return Key.parse(Array(buffer.prefix(count)))
  }
}

/// A key pressed in a full-screen view.
enum Key: Equatable {
  case character(Character)
  case up, down, pageUp, pageDown, home, end, enter, escape
  /// Standard input closed (the terminal went away).
  case endOfInput

  /// The keys in a chunk of terminal input (ANSI escape sequences for arrows and pages).
  static func parse(_ bytes: [UInt8]) -> [Key] {
    var keys: [Key] = []
    var index = 0
    while index < bytes.count {
      let byte = bytes[index]
      if byte == 0x1B, index + 2 < bytes.count, bytes[index + 1] == 0x5B || bytes[index + 1] == 0x4F {
        let final = bytes[index + 2]
        var length = 3
        switch final {
        case 0x41: keys.append(.up)
        case 0x42: keys.append(.down)
        case 0x48: keys.append(.home)
        case 0x46: keys.append(.end)
        case 0x31...0x38:
          // ESC [ n ~: 1 or 7 Home, 4 or 8 End, 5 Page Up, 6 Page Down.
          if index + 3 < bytes.count, bytes[index + 3] == 0x7E { length = 4 }
          switch final {
          case 0x31, 0x37: keys.append(.home)
          case 0x34, 0x38: keys.append(.end)
          case 0x35: keys.append(.pageUp)
          case 0x36: keys.append(.pageDown)
          default: break
          }
        default: break
        }
        index += length
        continue
      }
      switch byte {
      case 0x1B: keys.append(.escape)
      case 0x0D, 0x0A: keys.append(.enter)
      case 0x20...0x7E: keys.append(.character(Character(Unicode.Scalar(byte))))
      default: break
      }
      index += 1
    }
    return keys
  }
}
