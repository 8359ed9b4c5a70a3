import Foundation
import Testing

/// Write failures on stdout through the built binary (issue 10 item 8).
@Suite struct WriteErrorTests {
  static let binary = BinaryTests.binary

  func store() throws -> (String, [String: String]) {
    let folder = NSTemporaryDirectory() + "evctl-write-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let env = ["EVCTL_DB": folder + "/evctl.db", "XDG_CONFIG_HOME": folder + "/config", "HOME": folder]
    for index in 0..<50 {
      _ = try BinaryTests.run(Self.binary, ["station", "create", "CP-\(index)", "--name", "Station \(index)"], environment: env)
    }
    return (folder, env)
  }

  /// Runs the binary with stdout on `descriptor`, returning status and stderr.
  func run(_ arguments: [String], stdout descriptor: FileHandle, environment: [String: String]) throws -> (Int32, String, Process.TerminationReason) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Self.binary)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    let err = Pipe()
    process.standardOutput = descriptor
    process.standardError = err
    try process.run()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: errData, as: UTF8.self), process.terminationReason)
  }

  @Test func aFullDiskIsOneErrorLineAndExit74() throws {
    let (folder, env) = try store()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
    for arguments in [["station", "list"], ["station", "list", "-o", "json"], ["report", "sessions", "--headers"]] {
      let (status, err, reason) = try run(arguments, stdout: full, environment: env)
      #expect(reason == .exit && status == 74, "\(arguments): \(status) \(err)")
      #expect(err == "error: write error: No space left on device\n", "\(arguments): \(err)")
    }
  }

  @Test func aClosedPipeEndsQuietly() throws {
    let (folder, env) = try store()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let pipe = Pipe()
    try pipe.fileHandleForReading.close()
    for arguments in [["station", "list"], ["station", "list", "-o", "json"]] {
      let (status, err, reason) = try run(arguments, stdout: pipe.fileHandleForWriting, environment: env)
      #expect(reason == .exit && status == 0, "\(arguments): \(status) \(err)")
      #expect(err.isEmpty, "\(arguments): \(err)")
    }
  }
}
