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

  /// The process's own terminal.
  public static func standard(environment: [String: String]) -> Console {
    let tty = isatty(STDOUT_FILENO) == 1 || environment["EVCTL_FORCE_TTY"] == "1"
    let console = Console(
      environment: environment, isTTY: tty,
      out: { FileHandle.standardOutput.write(Data($0.utf8)) },
      outBytes: { FileHandle.standardOutput.write(Data($0)) },
      err: { FileHandle.standardError.write(Data($0.utf8)) },
      input: { Array(FileHandle.standardInput.readDataToEndOfFile()) },
      secret: { prompt in
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        guard let line = getpass(prompt) else { return nil }
        return String(cString: line)
      })
    if isatty(STDIN_FILENO) == 1, isatty(STDERR_FILENO) == 1 {
      console.prompter = { question in
        FileHandle.standardError.write(Data(question.utf8))
        return readLine(strippingNewline: true) ?? ""
      }
    }
    return console
  }

  /// Writes results to stdout.
  public func writeOut(_ text: String) { out(text) }

  /// Writes UTF-8 bytes to stdout (streaming reports).
  public func writeOut(bytes: [UInt8]) {
    if let outBytes { outBytes(bytes) } else { out(String(decoding: bytes, as: UTF8.self)) }
  }
  /// Writes a diagnostic line to stderr.
  public func diagnose(_ line: String) { err(line + "\n") }
  /// Reads all of stdin.
  public func readInput() -> [UInt8] { input() }
  /// Asks `question` on the terminal; `nil` when there is none to ask on.
  public func ask(_ question: String) -> String? { prompter(question) }
  /// Asks for a secret on the terminal without echo; `nil` when there is no terminal.
  public func readSecret(prompt: String) -> String? { secret(prompt) }
}
