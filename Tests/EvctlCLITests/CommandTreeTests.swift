import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// Rules every command of the tree keeps; a new command is held to them too.
@Suite struct CommandTreeTests {
  var runnable: [(path: String, command: CommandSpec)] {
    Commands.root.walk().filter { $0.command.action != nil }
      .map { ($0.path.dropFirst().joined(separator: " "), $0.command) }
  }

  @Test func everyCommandSaysWhatItDoesAndEveryWritingOneHasDryRun() {
    for (path, command) in runnable {
      guard let effect = Commands.effects[path] else {
        Issue.record("'\(path)' is missing from Commands.effects: say whether it reads or writes")
        continue
      }
      let hasDryRun = command.arguments.contains { $0.name == "dry-run" && $0.kind == .flag }
      if effect.writes { #expect(hasDryRun, "'\(path)' writes but has no --dry-run") }
    }
    let known = Set(runnable.map(\.path))
    for path in Commands.effects.keys { #expect(known.contains(path), "Commands.effects names no command '\(path)'") }
  }

  @Test func dryRunOfEveryWritingCommandLeavesTheStoreAsItWas() throws {
    let box = try Sandbox()
    let secret = "0123456789abcdef"
    box.run("group create HQ")
    box.run("group create Empty")
    box.run("station create CP-1 --name Gate --group HQ")
    box.run("user create eva@x.io --first Eva --last Berg")
    box.run("token add TAG1 --user eva@x.io")
    box.run("operator create ann@x.io --name Ann --role admin --password-stdin", stdin: secret)
    box.run("profile create P1 --purpose TxDefaultProfile --period 0:16")
    try "identity,name\nCP-9,Nine\n".write(toFile: box.directory + "/s.csv", atomically: true, encoding: .utf8)
    try "id_tag,user\nTAG9,eva@x.io\n".write(toFile: box.directory + "/t.csv", atomically: true, encoding: .utf8)
    let before = box.run("station list -o json").out + box.run("user list -o json").out
      + box.run("token list -o json").out + box.run("group list -o json").out
      + box.run("profile list -o json").out + box.run("operator list -o json").out
    // Arguments that get each command past its checks; the rest is filled in from the tree.
    let samples: [String: String] = [
      "group move": "HQ --top", "group delete": "Empty", "group capacity set": "HQ --max-current 32",
      "station import": box.directory + "/s.csv", "token import": box.directory + "/t.csv",
      "station connector update": "CP-1 1 --type Type2", "station stop": "CP-1 --connector 1",
      "station firmware update": "CP-1 --location http://x/f.bin",
      "station diagnostics": "CP-1 --location ftp://x/", "user grant": "eva@x.io --group HQ",
      "user revoke": "eva@x.io --group HQ", "token add": "TAG2 --user eva@x.io",
      "local-list push": "--station CP-1", "profile set": "CP-1 P1", "profile delete": "P1",
      "reservation create": "--station CP-1 --connector 1 --id-tag TAG1 --expires 1h",
      "profile create": "P2 --purpose ChargePointMaxProfile --period 0:16",
      "login": "ann@x.io --password-stdin", "operator token create": "--name ci",
      "operator create": "bob@x.io --name Bob --role basic --password-stdin",
      "user create": "max@x.io --first Max --last Berg",
    ]
    var succeeded: [String] = []
    for (path, command) in runnable where Commands.effects[path]?.writes == true {
      var words = path.split(separator: " ").map(String.init)
      if let sample = samples[path] {
        words += sample.split(separator: " ").map(String.init)
      } else {
        for spec in command.arguments where spec.kind == .positional && (spec.isRequired || spec.name == "identity") {
          let value: String
          switch spec.completion {
          case .stations: value = "CP-1"
          case .groups: value = "HQ"
          case .users: value = "eva@x.io"
          case .operators: value = "ann@x.io"
          case .tokens: value = "TAG1"
          default: value = spec.choices.first ?? "x1"
          }
          words.append(value)
        }
        for spec in command.arguments where spec.kind == .option && spec.isRequired {
          words += ["--\(spec.name)", spec.choices.first ?? "1"]
        }
      }
      if command.arguments.contains(where: { $0.name == "yes" }) { words.append("--yes") }
      if command.arguments.contains(where: { $0.name == "password-stdin" }) { words.append("--password-stdin") }
      let line = words.map { "'\($0)'" }.joined(separator: " ") + " --dry-run"
      let result = box.run(line, stdin: secret + "\n")
      #expect(result.code != .software, "\(line): \(result.err)")
      if ProcessInfo.processInfo.environment["EVCTL_TRACE"] == "1" { print(result.code.rawValue, line, result.err) }
      if result.code == .success {
        succeeded.append(path)
        #expect(result.err.contains("dry run: nothing was written or sent"), "\(line)")
      }
    }
    let check = box.run("command list -o json")
    #expect(check.out.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "a dry run queued a command: \(check.out)")
    #expect(succeeded.count >= 45, "only \(succeeded.count) ran: \(succeeded)")
    let after = box.run("station list -o json").out + box.run("user list -o json").out
      + box.run("token list -o json").out + box.run("group list -o json").out
      + box.run("profile list -o json").out + box.run("operator list -o json").out
    #expect(before == after, "a dry run changed the store")
    #expect(!FileManager.default.fileExists(atPath: box.directory + "/config/evctl/session.json"))
    #expect(box.run("station list -o csv --no-headers").out.hasPrefix("CP-1,Gate,HQ,"))
  }

  @Test func helpHasNoEmptyHeadings() {
    for (path, _) in Commands.root.walk() {
      let page = Help.page(path)
      for heading in ["OPTIONS:", "ARGUMENTS:", "COMMANDS:", "GLOBAL OPTIONS:", "EXAMPLES:"] {
        #expect(!page.contains("\n\(heading)\n\n") && !page.hasSuffix("\(heading)\n"), "\(path): empty \(heading)")
      }
    }
  }

  @Test func manSynopsesNeverNestOptionalBracketsAndOsIsReal() {
    let man = ManPage.render(root: Commands.root)
    for line in man.split(separator: "\n") where line.hasPrefix(".It Nm Cm") {
      #expect(!line.contains(" Op "), "\(line)")
      var depth = 0
      for word in line.split(separator: " ") {
        if word == "Oo" { depth += 1; #expect(depth == 1, "nested: \(line)") }
        if word == "Oc" { depth -= 1 }
      }
      #expect(depth == 0, "\(line)")
    }
    #expect(man.contains("\n.Os evctl \(Commands.version)\n"))
  }
}
