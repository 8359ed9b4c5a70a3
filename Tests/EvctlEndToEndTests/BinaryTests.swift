import Foundation
import Testing

/// The built `evctl` binary run as a child process, as users and scripts run it.
@Suite struct BinaryTests {
  static let binary = Bundle.main.bundleURL.appendingPathComponent("evctl").path
  static let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  struct Result {
    var status: Int32
    var out: String
    var err: String
  }

  static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                  stdin: String = "") throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { _, new in new }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    input.fileHandleForWriting.write(Data(stdin.utf8))
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Result(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
                  err: String(decoding: errData, as: UTF8.self))
  }

  func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "evctl-e2e-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  @Test func usageErrorExitsWith64AndPrintsNothingOnStdout() throws {
    let result = try Self.run(Self.binary, ["station", "list", "--bogus"])
    #expect(result.status == 64)
    #expect(result.out.isEmpty)
    #expect(result.err.hasPrefix("error: unknown option '--bogus'\nusage: evctl station list"))
  }

  @Test func createsTheStoreUnderXDGDataHome() throws {
    let home = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: home) }
    let env = ["XDG_DATA_HOME": home + "/data", "EVCTL_DB": "", "HOME": home]
    let path = try Self.run(Self.binary, ["db", "path"], environment: env)
    #expect(path.out == home + "/data/evctl/evctl.db\n")
    let created = try Self.run(Self.binary, ["group", "create", "HQ"], environment: env)
    #expect(created.status == 0)
    #expect(FileManager.default.fileExists(atPath: home + "/data/evctl/evctl.db"))
    let check = try Self.run(Self.binary, ["db", "check"], environment: env)
    #expect(check.out == "ok\n")
  }

  @Test func versionReportsSQLiteAndSchema() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    _ = try Self.run(Self.binary, ["-q", "db", "migrate"], environment: ["EVCTL_DB": dir + "/e.db"])
    let result = try Self.run(Self.binary, ["version", "-o", "json"], environment: ["EVCTL_DB": dir + "/e.db"])
    #expect(result.out.contains("\"sqlite_version\": \"3."))
    let json = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
    #expect(json?["schema_version"] as? Int == json?["schema_supported"] as? Int)
    #expect((json?["schema_version"] as? Int ?? 0) >= 2)
  }

  @Test func completionScriptsMatchTheCommittedFiles() throws {
    for (shell, path) in [("bash", "Completions/bash/evctl"), ("zsh", "Completions/zsh/_evctl"),
                          ("fish", "Completions/fish/evctl.fish")] {
      let result = try Self.run(Self.binary, ["completion", shell])
      #expect(result.out == (try String(contentsOfFile: Self.root + "/" + path, encoding: .utf8)))
    }
  }

  @Test func bashCompletionOffersSubcommandsAndStations() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let db = dir + "/e.db"
    _ = try Self.run(Self.binary, ["--db", db, "station", "create", "CP-77", "--name", "x"])
    let binDir = (Self.binary as NSString).deletingLastPathComponent
    let script = """
      source \(Self.root)/Completions/bash/evctl
      COMP_WORDS=(evctl station sh); COMP_CWORD=2; _evctl; echo "${COMPREPLY[*]}"
      COMP_WORDS=(evctl station show ""); COMP_CWORD=3; _evctl; echo "${COMPREPLY[*]}"
      COMP_WORDS=(evctl station list -o ""); COMP_CWORD=4; _evctl; echo "${COMPREPLY[*]}"
      """
    let result = try Self.run(
      "/bin/bash", ["-c", script], environment: ["PATH": binDir + ":/usr/bin:/bin", "EVCTL_DB": db])
    #expect(result.out == "show\nCP-77\ntable wide tsv csv json\n", "\(result.err)")
  }

  @Test(arguments: ["quickstart.sh", "provision-site.sh", "nightly-token-import.sh",
                    "scripting-with-json.sh", "backup-restore.sh", "monthly-report.sh", "local-list-cron.sh"])
  func exampleScriptRuns(script: String) throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let binDir = (Self.binary as NSString).deletingLastPathComponent
    // The scripts run against an existing store, as in production; reading ones need one.
    _ = try Self.run(Self.binary, ["-q", "db", "migrate"], environment: ["EVCTL_DB": dir + "/e.db"])
    let result = try Self.run(
      "/bin/bash", [Self.root + "/Examples/" + script],
      environment: ["PATH": binDir + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                    "EVCTL_DB": dir + "/e.db", "HOME": dir])
    #expect(result.status == 0, "\(script) failed: \(result.err)")
  }
}
