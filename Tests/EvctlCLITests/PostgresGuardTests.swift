import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// Issue 14 item 2: a command that cannot run on PostgreSQL yet says so (exit 1), and never works
/// on some SQLite file instead. No server is needed: the refusal comes before any connection.
@Suite struct PostgresGuardTests {
  let url = "postgresql://ann:pw-never-shown@/evctl?host=/nonexistent-socket-folder"

  @Test func everyCommandThatTouchesTheStoreRefusesPostgreSQLExplicitly() throws {
    let box = try Sandbox()
    let runnable = Commands.root.walk().filter { $0.command.action != nil }
      .map { ($0.path.dropFirst().joined(separator: " "), $0.command) }
    var refused: [String] = []
    for (path, command) in runnable {
      guard let effect = Commands.effects[path], effect != .none,
        !BackendNotSupported.supported.contains(path)
      else { continue }
      var words = path.split(separator: " ").map(String.init)
      for spec in command.arguments where spec.kind == .positional && spec.isRequired {
        words.append(spec.choices.first ?? "x1")
      }
      for spec in command.arguments where spec.kind == .option && spec.isRequired {
        words += ["--\(spec.name)", spec.choices.first ?? "1"]
      }
      let line = words.map { "'\($0)'" }.joined(separator: " ")
      for env in [["EVCTL_DB": url], ["EVCTL_DB": box.db]] {
        let result = box.run(env["EVCTL_DB"] == url ? line : "--db '\(url)' " + line, stdin: "x\n", env: env)
        if result.code == .usage { continue }  // a sample argument the parser refused: not this test's subject
        #expect(result.code == .failure, "\(line): \(result.err)")
        #expect(result.err.hasPrefix("error: 'evctl \(path)' on PostgreSQL (postgresql://ann:***@/evctl"), "\(line): \(result.err)")
        #expect(result.err.contains("is not supported yet\nhint: "), "\(line): \(result.err)")
        #expect(!result.err.contains("pw-never-shown"))
        refused.append(path)
      }
    }
    #expect(Set(refused).count >= 90, "only \(Set(refused).count) commands checked")
    // Nothing fell back to a SQLite file.
    #expect(!FileManager.default.fileExists(atPath: box.db))
  }

  @Test func commandsWithoutAStoreAndTheSupportedOnesAreNotRefused() throws {
    let box = try Sandbox()
    let path = box.run("db path", env: ["EVCTL_DB": url])
    #expect(path.code == .success && path.out == "postgresql://ann:***@/evctl?host=/nonexistent-socket-folder\n")
    #expect(box.run("help", env: ["EVCTL_DB": url]).code == .success)
    let version = box.run("version", env: ["EVCTL_DB": url])
    #expect(version.code == .success && version.out.contains("database postgresql://ann:***@/evctl"))
    // db migrate gets as far as connecting.
    let migrate = box.run("db migrate", env: ["EVCTL_DB": url])
    #expect(migrate.code == .unavailable && migrate.err.hasPrefix("error: cannot connect to PostgreSQL"), "\(migrate.err)")
  }
}
