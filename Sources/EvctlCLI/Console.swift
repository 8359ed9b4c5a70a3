import EvctlCore
import Foundation

/// The terminal, or a recording of it in tests: stdout, stderr, stdin and the environment.
public final class Console: @unchecked Sendable {
  /// The process environment.
  public let environment: [String: String]
  /// Whether stdout is a terminal (or `EVCTL_FORCE_TTY=1`).
  public let isTTY: Bool
  private let out: (String) -> Void
  private let outBytes: (([UInt8]) -> Void)?
  private let err: (String) -> Void
  private let input: () -> [UInt8]
  private let secret: (String) -> String?
  /// Asks a question on the terminal and returns the answer line; `nil` when standard input or
  /// standard error is not a terminal. Tests replace it.
  public var prompter: (String) -> String? = { _ in nil }
  /// The width of the terminal that stdout (else stderr) is, from the kernel; `nil` when neither
  /// is a terminal. Tests replace it.
  public var terminalColumns: () -> Int? = { nil }

  /// Creates a console from its parts.
  public init(
    environment: [String: String], isTTY: Bool, out: @escaping (String) -> Void,
    err: @escaping (String) -> Void, input: @escaping () -> [UInt8],
    secret: @escaping (String) -> String?
  ) {
    self.environment = environment
    self.isTTY = isTTY
    self.out = out
    self.outBytes = nil
    self.err = err
    self.input = input
    self.secret = secret
  }

  init(
    environment: [String: String], isTTY: Bool, out: @escaping (String) -> Void,
    outBytes: @escaping ([UInt8]) -> Void, err: @escaping (String) -> Void,
    input: @escaping () -> [UInt8], secret: @escaping (String) -> String?
  ) {
    self.environment = environment
    self.isTTY = isTTY
    self.out = out
    self.outBytes = outBytes
    self.err = err
    self.input = input
    self.secret = secret
  }

  /// The errno of the first failed write to stdout (`EPIPE`, `ENOSPC`), after which nothing more
  /// is written; ``CLI`` turns it into `error: write error: …` (exit 74), or ends quietly on a
  /// closed pipe.
  public private(set) var writeFailure: Int32?

  /// Records a failed write to stdout (the standard console does this itself).
  public func recordWriteFailure(_ errno: Int32) {
    if writeFailure == nil { writeFailure = errno }
  }

  /// Writes all of `bytes` to `descriptor`; returns the errno of a failure.
  static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
    var offset = 0
    while offset < bytes.count {
      let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
      if written < 0 {
        if errno == EINTR { continue }
        return errno
      }
      offset += written
    }
    return nil
  }

  /// The process's own terminal.
  ///
  /// Writes go straight to the descriptors: a full disk or a closed pipe is recorded in
  /// ``writeFailure`` instead of trapping. SIGPIPE is ignored so that a closed pipe is an error
  /// value, not a signal.
  public static func standard(environment: [String: String]) -> Console {
    signal(SIGPIPE, SIG_IGN)
    let tty = isatty(STDOUT_FILENO) == 1 || environment["EVCTL_FORCE_TTY"] == "1"
    var console: Console?
    func out(_ bytes: UnsafeRawBufferPointer) {
      guard let console, console.writeFailure == nil else { return }
      if let failure = writeAll(STDOUT_FILENO, bytes) { console.recordWriteFailure(failure) }
    }
    let made = Console(
      environment: environment, isTTY: tty,
      out: { text in var text = text; text.withUTF8 { out(UnsafeRawBufferPointer($0)) } },
      outBytes: { bytes in bytes.withUnsafeBytes { out($0) } },
      err: { text in var text = text; text.withUTF8 { _ = writeAll(STDERR_FILENO, UnsafeRawBufferPointer($0)) } },
      input: { Array(FileHandle.standardInput.readDataToEndOfFile()) },
      secret: { prompt in
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        guard let line = getpass(prompt) else { return nil }
        return String(cString: line)
      })
    if isatty(STDIN_FILENO) == 1, isatty(STDERR_FILENO) == 1 {
      made.prompter = { question in
        _ = question.utf8CString.withUnsafeBytes { writeAll(STDERR_FILENO, UnsafeRawBufferPointer(rebasing: $0.dropLast())) }
        return readLine(strippingNewline: true) ?? ""
      }
    }
    made.terminalColumns = {
      for descriptor in [STDOUT_FILENO, STDERR_FILENO] where isatty(descriptor) == 1 {
        var size = winsize()
        if ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
      }
      return nil
    }
    console = made
    return made
  }

  /// Whether stdout can no longer be written (a closed pipe, a full disk): long outputs stop.
  public var outputFailed: Bool { writeFailure != nil }

  /// Writes results to stdout.
  public func writeOut(_ text: String) {
    if !text.isEmpty { hasWrittenOut = true }
    out(text)
  }

  /// Writes UTF-8 bytes to stdout (streaming reports).
  public func writeOut(bytes: [UInt8]) {
    if !bytes.isEmpty { hasWrittenOut = true }
    if let outBytes { outBytes(bytes) } else { out(String(decoding: bytes, as: UTF8.self)) }
  }
  /// Writes text (a chart, a progress line) to stderr as it is.
  public func writeError(_ text: String) { err(text) }
  /// Writes a diagnostic line to stderr.
  public func diagnose(_ line: String) {
    if line.hasPrefix("error:") { hasDiagnosedError = true }
    // A diagnostic may quote a station's words; it never drives the terminal.
    err(PrintableText.escaped(line, keeping: ["\t"]) + "\n")
  }

  /// Whether an `error:` line went to stderr (a failure must write one).
  public private(set) var hasDiagnosedError = false
  /// Whether anything went to stdout.
  public private(set) var hasWrittenOut = false
  /// Reads all of stdin.
  public func readInput() -> [UInt8] { input() }
  /// Asks `question` on the terminal; `nil` when there is none to ask on.
  public func ask(_ question: String) -> String? { prompter(question) }
  /// Asks for a secret on the terminal without echo; `nil` when there is no terminal.
  public func readSecret(prompt: String) -> String? { secret(prompt) }
}
