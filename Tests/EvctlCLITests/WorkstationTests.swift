import EvctlCore
import EvctlTestSupport
import Foundation
import Testing

@testable import EvctlCLI

/// Issue 14 item 5: operators on their own workstations work on one PostgreSQL store. Each
/// workstation is a sandbox of its own (its HOME and config folder, so its own login session);
/// both name the same database. Login sessions and API tokens live in the database, the session
/// file only names the store (without its password) and holds the secret.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["EVCTL_TEST_POSTGRES_URL"].map { !$0.isEmpty } ?? false,
                "needs EVCTL_TEST_POSTGRES_URL (Tests/run.sh starts a cluster)"))
struct WorkstationTests {
  @Test func aLoginOnOneWorkstationActsThereAndItsCommandsReachTheSharedStore() throws {
    let created = try TestBackend.createDatabase()
    defer { TestBackend.dropDatabase(created) }
    // A password in the URL (the cluster trusts the socket, so any will do) never reaches a file.
    let url = created.replacingOccurrences(of: "://evctl@", with: "://evctl:never-in-files@")
    let office = try Sandbox(sqlite: true), laptop = try Sandbox(sqlite: true)
    let env = ["EVCTL_DB": url]
    // The office machine sets the store up, as the database's local administrator.
    #expect(office.run("db migrate", env: env).code == .success)
    for line in ["group create HQ --kind site", "station create CP-1 --name One --group HQ",
                 "operator create ann@x.io --name Ann --role basic --base-group HQ --password-stdin"] {
      let made = office.run(line, stdin: "secret-ann-1\n", env: env)
      #expect(made.code == .success, "\(line): \(made.err)")
    }
    // Ann logs in on her laptop: the session is the laptop's, the credential is in the database.
    let login = laptop.run("login ann@x.io --password-stdin", stdin: "secret-ann-1\n", env: env)
    #expect(login.code == .success, "\(login.err)")
    #expect(laptop.run("whoami -o json", env: env).out.contains("ann@x.io"))
    #expect(office.run("whoami -o json", env: env).out.contains("\"actor\": \"local\""))
    let sessionFile = laptop.directory + "/config/evctl/session.json"
    let session = try String(contentsOfFile: sessionFile, encoding: .utf8)
    #expect(!session.contains("never-in-files") && session.contains("postgresql://evctl:***@/"), "\(session)")
    // Her remote command is queued in the shared store, as hers; the office sees it.
    let queued = laptop.run("station reset CP-1 --queue", env: env)
    #expect(queued.code == .success, "\(queued.err)")
    let commands = office.run("command list -o json", env: env)
    #expect(commands.out.contains("\"Reset\"") && commands.out.contains("ann@x.io"), "\(commands.out)\(commands.err)")
    // Her role holds on the laptop: a basic operator creates no operators.
    #expect(laptop.run("operator create eve@x.io --name Eve --role admin --password-stdin", stdin: "pw-eve-12345\n", env: env).code
      == .noPermission)
    // An API token made on the laptop works from the office machine (in a script, say).
    let token = laptop.run("operator token create --name ci", env: env).out.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(token.hasPrefix("evctl_"), "\(token)")
    #expect(office.run("whoami -o json", env: ["EVCTL_DB": url, "EVCTL_TOKEN": token]).out.contains("ann@x.io"))
    // Logging out revokes the session in the database, not just the file.
    let secret = try #require(laptop.savedSecret())
    #expect(office.run("whoami", env: ["EVCTL_DB": url, "EVCTL_TOKEN": secret]).code == .success)
    #expect(laptop.run("logout", env: env).code == .success)
    #expect(!FileManager.default.fileExists(atPath: sessionFile))
    #expect(office.run("whoami", env: ["EVCTL_DB": url, "EVCTL_TOKEN": secret]).code == .noPermission)
    #expect(laptop.run("whoami -o json", env: env).out.contains("\"actor\": \"local\""))
  }
}

extension Sandbox {
  /// The secret of the saved login session, if any.
  func savedSecret() -> String? {
    guard let data = FileManager.default.contents(atPath: directory + "/config/evctl/session.json"),
      let json = try? JSONValue.parse(Array(data))
    else { return nil }
    return json["secret"]?.stringValue
  }
}
