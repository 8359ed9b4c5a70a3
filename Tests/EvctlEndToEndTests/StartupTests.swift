import Foundation
import Testing

/// Start-up cost (issue 15 item 7): libpq and libcurl, with the ~30 shared libraries they pull
/// in, are loaded when a command first uses them, not by the dynamic loader before `main`.
@Suite struct StartupTests {
  /// The libraries the dynamic loader opened for one run (`LD_DEBUG=files` lists each).
  func loadedLibraries(_ arguments: [String], environment: [String: String] = [:]) throws -> (BinaryTests.Result, String) {
    var env = environment
    env["LD_DEBUG"] = "files"
    let result = try BinaryTests.run(BinaryTests.binary, arguments, environment: env)
    return (result, result.err)
  }

  @Test func aCommandOnSQLiteLoadsNeitherLibpqNorLibcurl() throws {
    let directory = NSTemporaryDirectory() + "evctl-startup-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let db = directory + "/e.db"
    #expect(try BinaryTests.run(BinaryTests.binary, ["--db", db, "group", "create", "HQ"]).status == 0)
    for arguments in [["version"], ["--db", db, "station", "list", "-o", "json"]] {
      let (result, loaded) = try loadedLibraries(arguments)
      #expect(result.status == 0, "\(arguments): \(result.err.suffix(500))")
      #expect(loaded.contains("libsqlite3.so"), "\(arguments)")
      #expect(!loaded.contains("libpq.so"), "\(arguments)")
      #expect(!loaded.contains("libcurl.so"), "\(arguments)")
    }
  }

  @Test func aPostgreSQLURLLoadsLibpqWhenFirstUsed() throws {
    // Nothing listens on this socket folder: libpq is loaded, tries, and reports the failure.
    let (result, loaded) = try loadedLibraries(
      ["--db", "postgresql:///evctl?host=/nonexistent-evctl-socket-dir", "db", "check"])
    #expect(result.status != 0)
    #expect(loaded.contains("libpq.so.5"))
    #expect(result.err.contains("/nonexistent-evctl-socket-dir"), "\(result.err.suffix(800))")
  }
}
