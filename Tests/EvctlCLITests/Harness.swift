import EvctlCore
import EvctlTestSupport
import Foundation

@testable import EvctlCLI

/// What one in-process run printed and returned.
struct RunResult {
  var code: ExitCode
  var out: String
  var err: String
}

final class Recorder: @unchecked Sendable {
  var out = ""
  var err = ""
}

/// A temporary store and config folder for in-process runs of the CLI.
///
/// The store is the file `evctl.db` in the folder, or, under `EVCTL_TEST_BACKEND=postgresql`, a
/// fresh empty PostgreSQL database (``TestBackend``) dropped with the sandbox; `db` is its path
/// or URL either way. Tests that need a SQLite file whatever the backend ask for `Sandbox(sqlite: true)`.
final class Sandbox {
  let directory: String
  /// The store's path or PostgreSQL URL.
  let db: String
  /// Whether the store is a PostgreSQL database.
  let isPostgreSQL: Bool

  init(sqlite: Bool = false) throws {
    directory = NSTemporaryDirectory() + "evctl-cli-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    isPostgreSQL = !sqlite && TestBackend.isPostgreSQL
    db = isPostgreSQL ? try TestBackend.createDatabase() : directory + "/evctl.db"
  }

  deinit {
    try? FileManager.default.removeItem(atPath: directory)
    if isPostgreSQL { TestBackend.dropDatabase(db) }
  }

  /// Opens the sandbox's store directly (migrated), as the local administrator.
  func openStore() throws -> Store {
    try Store(DatabaseLocation(db))
  }

  /// Runs `line` (split like a shell, with single and double quotes) in-process.
  @discardableResult
  func run(_ line: String, tty: Bool = false, stdin: String = "", env: [String: String] = [:])
    -> RunResult
  {
    let recorder = Recorder()
    var environment = ["HOME": directory, "XDG_CONFIG_HOME": directory + "/config", "EVCTL_DB": db]
    environment.merge(env) { _, new in new }
    let console = Console(
      environment: environment, isTTY: tty,
      out: { recorder.out += $0 }, err: { recorder.err += $0 },
      input: { Array(stdin.utf8) }, secret: { _ in nil })
    let code = CLI.run(Sandbox.split(line), console: console)
    return RunResult(code: code, out: recorder.out, err: recorder.err)
  }

  static func split(_ line: String) -> [String] {
    var words: [String] = []
    var current = ""
    var quote: Character?
    var started = false
    for c in line {
      if let q = quote {
        if c == q { quote = nil } else { current.append(c) }
      } else if c == "'" || c == "\"" {
        quote = c
        started = true
      } else if c == " " {
        if started || !current.isEmpty { words.append(current) }
        current = ""
        started = false
      } else {
        current.append(c)
      }
    }
    if started || !current.isEmpty { words.append(current) }
    return words
  }
}

/// The repository root, from this file's path.
let repositoryRoot: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path
}()
