import Foundation
import Testing

/// The command line's safety rails through the built binary: no store from a typo, private file
/// modes, confirmations, --dry-run, "did you mean", bundled flags, coordinates.
@Suite struct SafetyTests {
  let dir: String
  var db: String { dir + "/e.db" }

  init() throws {
    dir = NSTemporaryDirectory() + "evctl-safety-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  func evctl(_ arguments: String..., stdin: String = "", env: [String: String] = [:]) throws -> BinaryTests.Result {
    try BinaryTests.run(BinaryTests.binary, arguments, environment: ["EVCTL_DB": db, "HOME": dir].merging(env) { _, b in b },
                        stdin: stdin)
  }

  /// Runs `line` under a pseudo-terminal (util-linux `script`), answering `answer`.
  func onTerminal(_ line: String, answer: String) throws -> BinaryTests.Result {
    try BinaryTests.run(
      "/usr/bin/script", ["-qec", "\(BinaryTests.binary) \(line)", "/dev/null"],
      environment: ["EVCTL_DB": db, "HOME": dir], stdin: answer)
  }

  func mode(_ path: String) throws -> Int {
    ((try FileManager.default.attributesOfItem(atPath: path))[.posixPermissions] as? Int ?? -1) & 0o777
  }

  func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

  // MARK: Item 9: a typo never creates a store

  @Test func readingCommandsOnAMissingStoreFailWithoutCreatingIt() throws {
    for line in [["station", "list"], ["report", "sessions"], ["status"], ["db", "check"], ["db", "backup", dir + "/b.db"]] {
      let result = try BinaryTests.run(BinaryTests.binary, ["--db", dir + "/typo.db"] + line)
      #expect(result.status == 66, "\(line): \(result.err)")
      #expect(result.out.isEmpty)
      #expect(result.err.hasPrefix("error: no store at \(dir)/typo.db\nhint: "), "\(result.err)")
    }
    let env = try BinaryTests.run(BinaryTests.binary, ["event", "list"], environment: ["EVCTL_DB": dir + "/tpyo.db"])
    #expect(env.status == 66)
    #expect(!exists(dir + "/typo.db") && !exists(dir + "/tpyo.db") && !exists(dir + "/b.db"))
  }

  @Test func creatingCommandsNeedTheFolderToExistExceptTheDefaultOne() throws {
    let missing = try BinaryTests.run(BinaryTests.binary, ["--db", dir + "/nope/e.db", "group", "create", "HQ"])
    #expect(missing.status == 66)
    #expect(missing.err.hasPrefix("error: no folder '\(dir)/nope' for the store"), "\(missing.err)")
    #expect(!exists(dir + "/nope"))
    let migrate = try evctl("db", "migrate")
    #expect(migrate.status == 0 && exists(db), "\(migrate.err)")
    let xdg = try BinaryTests.run(
      BinaryTests.binary, ["group", "create", "HQ"],
      environment: ["EVCTL_DB": "", "XDG_DATA_HOME": dir + "/data", "HOME": dir])
    #expect(xdg.status == 0, "\(xdg.err)")
    #expect(exists(dir + "/data/evctl/evctl.db"))
  }

  // MARK: Item 11: private modes

  @Test func theStoreIsPrivateAndDbCheckWarnsAboutLooseModes() throws {
    let result = try BinaryTests.run(
      "/bin/sh", ["-c", "umask 022; \(BinaryTests.binary) group create HQ && \(BinaryTests.binary) station create CP-1 --name x"],
      environment: ["EVCTL_DB": "", "XDG_DATA_HOME": dir + "/data", "HOME": dir])
    #expect(result.status == 0, "\(result.err)")
    let store = dir + "/data/evctl/evctl.db"
    #expect(try mode(dir + "/data") == 0o700)
    #expect(try mode(dir + "/data/evctl") == 0o700)
    for file in [store, store + "-wal", store + "-shm"] where exists(file) {
      #expect(try mode(file) == 0o600, "\(file)")
    }
    let env = ["EVCTL_DB": store, "HOME": dir]
    let clean = try BinaryTests.run(BinaryTests.binary, ["db", "check"], environment: env)
    #expect(clean.out == "ok\n" && clean.err.isEmpty, "\(clean.err)")
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: store)
    let loose = try BinaryTests.run(BinaryTests.binary, ["db", "check"], environment: env)
    #expect(loose.status == 0)
    #expect(loose.err.contains("warning: '\(store)' has mode 0644"), "\(loose.err)")
    // A backup holds everything too.
    let backup = try BinaryTests.run(BinaryTests.binary, ["db", "backup", dir + "/b.db"], environment: env)
    #expect(backup.status == 0, "\(backup.err)")
    #expect(try mode(dir + "/b.db") == 0o600)
  }

  @Test func aStricterUmaskWins() throws {
    let result = try BinaryTests.run(
      "/bin/sh", ["-c", "umask 0277; \(BinaryTests.binary) db migrate"],
      environment: ["EVCTL_DB": "", "XDG_DATA_HOME": dir + "/data", "HOME": dir])
    #expect(try mode(dir + "/data/evctl") == 0o500, "\(result.err)")
  }

  // MARK: Item 10: confirmations and --dry-run

  @Test func destructiveCommandsRefuseOffATerminalWithoutYes() throws {
    _ = try evctl("group", "create", "HQ")
    _ = try evctl("station", "create", "CP-1", "--name", "Gate", "--group", "HQ")
    _ = try evctl("user", "create", "eva@x.io", "--first", "Eva", "--last", "Berg")
    _ = try evctl("token", "add", "TAG1", "--user", "eva@x.io")
    for line in [["station", "delete", "CP-1"], ["group", "delete", "HQ"], ["user", "delete", "eva@x.io"],
                 ["station", "reset", "--all", "--hard"], ["profile", "clear", "CP-1"],
                 ["local-list", "push", "--all", "--full"]] {
      let result = try BinaryTests.run(BinaryTests.binary, line, environment: ["EVCTL_DB": db])
      #expect(result.status == 64, "\(line): \(result.err)")
      #expect(result.err.hasPrefix("error: refusing to "), "\(line): \(result.err)")
      #expect(result.err.contains("pass --yes"), "\(line)")
    }
    #expect(try evctl("station", "show", "CP-1").status == 0)
    #expect(try evctl("user", "show", "eva@x.io").status == 0)
    let deleted = try evctl("station", "delete", "CP-1", "--yes")
    #expect(deleted.status == 0 && deleted.out == "station/CP-1 deleted\n", "\(deleted.err)")
    #expect(try evctl("group", "delete", "HQ", "-y").status == 0)
    #expect(try evctl("user", "delete", "eva@x.io", "--yes").status == 0)
    // A user without tokens goes without a question.
    _ = try evctl("user", "create", "max@x.io", "--first", "Max", "--last", "Berg")
    #expect(try evctl("user", "delete", "max@x.io").status == 0)
  }

  @Test func onATerminalItAsksAndOnlyYesGoesAhead() throws {
    _ = try evctl("station", "create", "CP-1", "--name", "Gate")
    let no = try onTerminal("station delete CP-1", answer: "n\n")
    #expect(no.status == 1)
    #expect(no.out.contains("This will delete station CP-1 ('Gate')"), "\(no.out)")
    #expect(no.out.contains("aborted; nothing was changed"))
    #expect(try evctl("station", "show", "CP-1").status == 0)
    let yes = try onTerminal("station delete CP-1", answer: "y\n")
    #expect(yes.status == 0, "\(yes.out)")
    #expect(try evctl("station", "show", "CP-1").status == 66)
  }

  @Test func dryRunWritesAndSendsNothing() throws {
    let fresh = try evctl("group", "create", "HQ", "--dry-run")
    #expect(fresh.status == 0, "\(fresh.err)")
    #expect(fresh.out == "group/HQ created (dry run)\n")
    #expect(fresh.err == "dry run: nothing was written or sent\n")
    #expect(!exists(db), "a dry run created the store")
    _ = try evctl("group", "create", "HQ")
    _ = try evctl("station", "create", "CP-1", "--name", "Gate", "--group", "HQ")
    #expect(try evctl("station", "delete", "CP-1", "-n").status == 0)
    #expect(try evctl("group", "rename", "HQ", "Head Office", "--dry-run").status == 0)
    #expect(try evctl("station", "update", "CP-1", "--name", "Other", "--dry-run").status == 0)
    let shown = try evctl("station", "show", "CP-1", "-o", "json")
    #expect(shown.out.contains("\"name\": \"Gate\""), "\(shown.out)")
    #expect(try evctl("group", "show", "HQ").status == 0)
    // No serve runs: a real send would time out; a dry run says what it would send.
    let reset = try evctl("station", "reset", "--all", "--hard", "--dry-run")
    #expect(reset.status == 0, "\(reset.err)")
    #expect(reset.out == "would send Reset {\"type\":\"Hard\"} to CP-1\n")
    let commands = try evctl("command", "list", "-o", "json")
    #expect(commands.out.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(commands.out)")
  }

  // MARK: Items 15 and 17: did you mean, bundled flags

  @Test func mistypedCommandsAndOptionsGetASuggestion() throws {
    _ = try evctl("db", "migrate")
    let command = try evctl("statoin", "list")
    #expect(command.status == 64)
    #expect(command.err.hasPrefix("error: unknown command 'statoin' for 'evctl'; did you mean 'station'?\n"), "\(command.err)")
    let option = try evctl("station", "list", "--gruop", "HQ")
    #expect(option.status == 64)
    #expect(option.err.hasPrefix("error: unknown option '--gruop'; did you mean '--group'?\n"), "\(option.err)")
    let far = try evctl("xyzzy")
    #expect(!far.err.contains("did you mean"))
  }

  @Test func shortFlagsBundle() throws {
    _ = try evctl("station", "create", "CP-1", "--name", "Gate")
    let bundled = try evctl("-qo", "json", "station", "list")
    #expect(bundled.status == 0, "\(bundled.err)")
    #expect(bundled.out.contains("\"identity\": \"CP-1\""))
    let glued = try evctl("station", "list", "-qojson")
    #expect(glued.out == bundled.out)
    let silent = try evctl("station", "create", "CP-2", "--name", "x", "-qn")
    #expect(silent.status == 0 && silent.out.isEmpty && silent.err.isEmpty, "\(silent.err)")
    let repeated = try evctl("station", "list", "-o", "json", "-o", "csv")
    #expect(repeated.status == 64)
    #expect(repeated.err.hasPrefix("error: option '--output' given more than once"))
  }

  // MARK: Issue 11 item 17: coordinates

  @Test func coordinatesOffTheGlobeAreRefused() throws {
    for (option, value) in [("--lat", "91"), ("--lat", "1e999"), ("--lon", "181"), ("--lon", "-180.5"), ("--lat", "nan")] {
      let result = try evctl("group", "create", "HQ", option, value)
      #expect(result.status == 64, "\(option) \(value)")
      #expect(result.err.hasPrefix("error: invalid value '\(value)' for '\(option)'"), "\(result.err)")
    }
    #expect(try evctl("group", "create", "HQ", "--lat", "-90", "--lon", "180").status == 0)
    #expect(try evctl("group", "update", "HQ", "--lat", "90.01").status == 64)
  }
}
