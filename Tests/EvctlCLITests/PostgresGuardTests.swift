import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// Issue 14 item 2: every command runs on PostgreSQL except the few that need a SQLite store,
/// which say so (exit 1) and never work on some SQLite file instead. No server is needed: the
/// refusal comes before any connection, and every other command gets as far as connecting.
@Suite struct PostgresGuardTests {
  let url = "postgresql://ann:pw-never-shown@/evctl?host=/nonexistent-socket-folder"

  @Test func onlyTheSQLiteOnlyCommandsRefusePostgreSQLAndTheRestTryToConnect() throws {
    let box = try Sandbox(sqlite: true)
    let runnable = Commands.root.walk().filter { $0.command.action != nil }
      .map { ($0.path.dropFirst().joined(separator: " "), $0.command) }
    var refused: Set<String> = [], connecting: Set<String> = []
    for (path, command) in runnable {
      guard let effect = Commands.effects[path], effect != .none else { continue }
      guard !["db migrate", "db copy", "simulate", "login", "password-reset"].contains(path) else { continue }
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
        #expect(!result.err.contains("pw-never-shown"))
        if let hint = BackendNotSupported.sqliteOnly[path] {
          #expect(result.code == .failure, "\(line): \(result.err)")
          #expect(result.err == "error: 'evctl \(path)' is not supported on PostgreSQL (postgresql://ann:***@/evctl?host=/nonexistent-socket-folder)\nhint: \(hint)\n", "\(line): \(result.err)")
          refused.insert(path)
        } else if result.err.hasPrefix("error: cannot connect to PostgreSQL") {
          #expect(result.code == .unavailable, "\(line): \(result.err)")
          connecting.insert(path)
        } else {
          // Refused before opening the store (a bad argument value, a missing file): fine, but
          // never as "not supported".
          #expect(!result.err.contains("not supported"), "\(line): \(result.err)")
        }
      }
    }
    #expect(refused == Set(BackendNotSupported.sqliteOnly.keys))
    #expect(connecting.count >= 80, "only \(connecting.count) commands reached the connection")
    // Nothing fell back to a SQLite file.
    #expect(!FileManager.default.fileExists(atPath: box.db))
  }

  @Test func commandsWithoutAStoreAndTheSupportedOnesAreNotRefused() throws {
    let box = try Sandbox(sqlite: true)
    let path = box.run("db path", env: ["EVCTL_DB": url])
    #expect(path.code == .success && path.out == "postgresql://ann:***@/evctl?host=/nonexistent-socket-folder\n")
    #expect(box.run("help", env: ["EVCTL_DB": url]).code == .success)
    let version = box.run("version", env: ["EVCTL_DB": url])
    #expect(version.code == .success && version.out.contains("database postgresql://ann:***@/evctl"))
    // db migrate gets as far as connecting.
    let migrate = box.run("db migrate", env: ["EVCTL_DB": url])
    #expect(migrate.code == .unavailable && migrate.err.hasPrefix("error: cannot connect to PostgreSQL"), "\(migrate.err)")
  }

  /// serve's mailer reads the outbox through a SQLite connection of its own: on PostgreSQL,
  /// `serve --smtp` says so at start (before connecting) instead of failing on some file.
  @Test func serveWithSMTPIsRefusedOnPostgreSQL() throws {
    let box = try Sandbox(sqlite: true)
    let result = box.run("serve --listen 127.0.0.1:0 --smtp smtp://127.0.0.1:1 --mail-from evctl@example.com", env: ["EVCTL_DB": url])
    #expect(result.code == .failure, "\(result.err)")
    #expect(result.err == "error: 'evctl serve --smtp' is not supported on PostgreSQL (postgresql://ann:***@/evctl?host=/nonexistent-socket-folder)\nhint: \(BackendNotSupported.sqliteOnlyOptions["serve --smtp"]!)\n", "\(result.err)")
    #expect(!FileManager.default.fileExists(atPath: box.db))
  }
}

/// `serve --help` on the rule of one serve per store: it holds on SQLite only.
@Suite struct ServeHelpTextTests {
  @Test func serveHelpSaysSeveralNodesMayShareAPostgreSQLDatabase() throws {
    let box = try Sandbox(sqlite: true)
    let help = box.run("serve --help")
    #expect(help.code == .success)
    let text = help.out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    #expect(!text.contains("One serve per store"), "\(text)")
    #expect(text.contains("On a SQLite store one serve per store"), "\(text)")
    #expect(text.contains("On PostgreSQL several serve nodes share one database"), "\(text)")
  }
}
