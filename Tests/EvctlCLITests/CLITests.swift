import EvctlCore
import Testing

@testable import EvctlCLI

@Suite struct OutputTests {
  func provisioned() throws -> Sandbox {
    let box = try Sandbox()
    box.run("group create HQ --kind site")
    box.run("station create CP-001 --name Gate --group HQ --connectors 2")
    box.run("station create CP-002 --name 'Back door' --group HQ")
    return box
  }

  @Test func tableOnATerminalTSVWhenPiped() throws {
    let box = try provisioned()
    let table = box.run("station list --color never", tty: true)
    #expect(table.out.hasPrefix("IDENTITY  NAME       GROUP  STATE            CONNECTORS  LAST SEEN AT\n"))
    #expect(table.out.contains("CP-002    Back door  HQ     never_connected  1           <none>\n"))
    let piped = box.run("station list")
    #expect(piped.out.split(separator: "\n").first?.hasPrefix("CP-001\tGate\tHQ\tnever_connected\t2\t\t") == true)
    #expect(box.run("station list --no-headers", tty: true).out.hasPrefix("CP-001"))
  }

  @Test func jsonIsAnArrayWithStableSnakeCaseKeys() throws {
    let box = try provisioned()
    let result = box.run("station list --json")
    let value = try JSONValue.parse(result.out)
    let first = try #require(value[0]?.objectValue)
    #expect(first["identity"] == "CP-001")
    #expect(first["group"] == "HQ")
    #expect(first["last_seen_at"] == .null)
    #expect(first.keys.allSatisfy { $0 == $0.lowercased() && !$0.contains("-") })
    #expect(box.run("station show CP-001 -o json").out.hasPrefix("{\n"))
  }

  @Test func csvHasAHeaderAndQuotes() throws {
    let box = try provisioned()
    box.run("station update CP-001 --description 'North, by the gate'")
    let csv = box.run("station list -o csv").out
    #expect(csv.hasPrefix("identity,name,group,state,connectors,last_seen_at,id,"))
    #expect(csv.contains("\"North, by the gate\""))
    #expect(csv.hasSuffix("\r\n"))
  }

  @Test func mutationsConfirmUnlessQuiet() throws {
    let box = try Sandbox()
    #expect(box.run("group create HQ").out == "group/HQ created\n")
    #expect(box.run("-q group create Depot").out == "")
  }

  @Test func colourOnlyWhenAskedOrOnATerminal() throws {
    let box = try provisioned()
    #expect(box.run("station list", tty: true).out.contains("\u{1B}["))
    #expect(!box.run("station list", tty: true, env: ["NO_COLOR": "1"]).out.contains("\u{1B}["))
    #expect(!box.run("station list --color never", tty: true).out.contains("\u{1B}["))
    #expect(box.run("station list --color always -o table").out.contains("\u{1B}["))
    #expect(!box.run("station list --color always -o tsv").out.contains("\u{1B}["))
  }
}

@Suite struct ExitCodeTests {
  @Test(arguments: [
    ("station create", ExitCode.usage),
    ("station frobnicate", .usage),
    ("station list -o yaml", .usage),
    ("station list --bogus", .usage),
    ("station", .usage),
    ("station list", .notFound),
    ("--help", .success),
    ("station list --help", .success),
    ("station show NOPE", .notFound),
    ("station create BAD/ID --name x", .dataError),
    ("token import /nonexistent.csv", .ioError),
    ("help exit-codes", .success),
    ("version", .success),
  ])
  func exitCodes(line: String, expected: ExitCode) throws {
    let box = try Sandbox()
    let result = box.run(line)
    #expect(result.code == expected, "\(line): \(result.err)")
    if expected != .success {
      #expect(result.out.isEmpty)
      #expect(result.err.hasPrefix("error: "))
    }
  }

  @Test func usageErrorsPrintTheUsageAndAHint() throws {
    let box = try Sandbox()
    let result = box.run("station list -o yaml")
    #expect(result.err == """
      error: invalid value 'yaml' for '--output'; expected one of: table, wide, tsv, csv, json
      usage: evctl station list [--group <group> ...] [--state <state> ...] [--search <text>] [--serial <serial> ...] [--firmware <version> ...] [--vendor <vendor> ...] [--model <model> ...] [--security-profile <profile> ...] [--orphans]
      See 'evctl station list --help'.

      """)
  }

  @Test func duplicatesSayWhatExists() throws {
    let box = try Sandbox()
    box.run("station create CP-1 --name One")
    let result = box.run("station create cp-1 --name Two")
    #expect(result.code == .failure)
    #expect(result.err == "error: station 'cp-1' already exists\nhint: charging station already exists for that identifier\n")
  }

  @Test func badImportRowsAreListedAndNothingIsWritten() throws {
    let box = try Sandbox()
    box.run("user create eva@x.io --first Eva --last Berg")
    let csv = "id_tag,user\nAAA1,eva@x.io\nAAA2,nobody@x.io\n"
    let result = box.run("token import -", stdin: csv)
    #expect(result.code == .dataError)
    #expect(result.err == "error: -:3: user 'nobody@x.io' not found\nerror: 1 bad row(s); nothing was written\n")
    #expect(box.run("token list").out.isEmpty)
  }
}

@Suite struct SessionCommandTests {
  @Test func loginScopesEveryCommandToTheOperator() throws {
    let box = try Sandbox()
    box.run("group create HQ")
    box.run("group create Other")
    box.run("station create CP-1 --name One --group HQ")
    box.run("station create CP-2 --name Two --group Other")
    box.run("operator create ann@x.io --name Ann --role basic --base-group HQ --password-stdin", stdin: "secret123\n")
    #expect(box.run("login ann@x.io --password-stdin", stdin: "wrong1234\n").code == .noPermission)
    #expect(box.run("login ann@x.io --password-stdin", stdin: "secret123\n").code == .success)
    #expect(box.run("station list").out.hasPrefix("CP-1\t"))
    #expect(!box.run("station list").out.contains("CP-2"))
    let refused = box.run("station create CP-3 --name Three --group HQ")
    #expect(refused.code == .noPermission)
    #expect(refused.err.contains("a basic operator may not add stations"))
    #expect(box.run("whoami -o json").out.contains("\"email\": \"ann@x.io\""))
    box.run("logout")
    #expect(box.run("whoami").out.hasPrefix("local administrator"))
  }

  @Test func apiTokensWorkThroughTheEnvironment() throws {
    let box = try Sandbox()
    box.run("operator create ops@x.io --name Ops --role admin --password-stdin", stdin: "secret123\n")
    box.run("login ops@x.io --password-stdin", stdin: "secret123\n")
    let token = box.run("operator token create --name cron --expires 90d").out
      .trimmingCharacters(in: " \n")
    box.run("logout")
    #expect(token.hasPrefix("evctl_"))
    let whoami = box.run("whoami -o json", env: ["EVCTL_TOKEN": token])
    #expect(whoami.out.contains("ops@x.io"))
    #expect(box.run("station list", env: ["EVCTL_TOKEN": "evctl_bogus"]).code == .noPermission)
  }
}

extension String {
  func trimmingCharacters(in set: String) -> String {
    var s = Substring(self)
    while let f = s.first, set.contains(f) { s = s.dropFirst() }
    while let l = s.last, set.contains(l) { s = s.dropLast() }
    return String(s)
  }
}
