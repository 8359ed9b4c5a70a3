import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// What a reviewer trying evctl as a new user tripped over: exit codes, durations, help text.
@Suite struct NewUserPolishTests {
  @Test func inviteWithoutRoleIsAUsageErrorAndItsDryRunReadsCleanly() throws {
    let box = try Sandbox()
    box.run("db migrate")
    let missing = box.run("operator invite carl@example.com")
    #expect(missing.code == .usage, "\(missing.err)")
    #expect(missing.err.contains("missing --role"), "\(missing.err)")
    let dry = box.run("operator invite carl@example.com --role basic -n")
    #expect(dry.code == .success, "\(dry.err)")
    #expect(dry.out == "operator/carl@example.com invited (dry run)\n", "\(dry.out)")
    let real = box.run("operator invite carl@example.com --role basic")
    #expect(real.out.hasPrefix("operator/carl@example.com invited (invitation code queued)\n"), "\(real.out)")
    // A reminder to someone already invited needs no --role.
    #expect(box.run("operator invite carl@example.com").code == .success)
  }

  @Test func everyTimeoutAndIntervalOptionTakesTheDurationGrammar() {
    for (path, command) in Commands.root.walk() {
      for option in command.arguments where option.kind == .option {
        let timed = ["timeout", "interval", "retry", "duration", "every", "after", "wait", "retention"]
          .contains { option.name.contains($0) }
        #expect(option.valueName != "seconds", "\(path.joined(separator: " ")) --\(option.name) takes bare seconds")
        if timed {
          #expect(option.valueName == "duration", "\(path.joined(separator: " ")) --\(option.name) is labelled \(option.valueName)")
        }
      }
    }
  }

  @Test func timeoutsAcceptDurationsWithUnits() throws {
    let box = try Sandbox()
    box.run("db migrate")
    box.run("station create X --name X")
    box.run("station create T1 --name T1")
    for line in [
      "station reset X --timeout 5s --yes", "station reset X --timeout 1m30s --yes",
      "station security upgrade T1 --profile 2 --reconnect-timeout 30s",
      "station security upgrade T1 --profile 2 --reconnect-timeout 5m --timeout 10s",
    ] {
      let result = box.run(line)
      #expect(result.code != .usage, "\(line): \(result.err)")
      #expect(!result.err.contains("whole number"), "\(line): \(result.err)")
    }
    // 0s is read as a duration; the range check then refuses it with its own words.
    let zero = box.run("station reset X --timeout 0s --yes")
    #expect(zero.err.contains("--timeout must be 1 to 3600 seconds"), "\(zero.err)")
    let bad = box.run("station reset X --timeout 5x --yes")
    #expect(bad.code == .usage)
    #expect(bad.err.contains("invalid duration '5x' for '--timeout'"), "\(bad.err)")
  }

  /// Help is hard-wrapped in the source: a `\` left at a line end, or a line cut short in the
  /// middle of a paragraph, shows as it is.
  @Test func helpTextHasNoLiteralLineContinuationsOrStrayBreaks() {
    for (path, command) in Commands.root.walk() {
      let name = path.joined(separator: " ")
      let page = Help.page(path)
      for line in page.split(separator: "\n", omittingEmptySubsequences: false) {
        #expect(!line.hasSuffix("\\"), "'\(name) --help' has a literal backslash at a line end: \(line)")
      }
      guard let discussion = command.discussion else { continue }
      let lines = discussion.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      for (index, line) in lines.enumerated() where index + 1 < lines.count {
        let next = lines[index + 1]
        // Prose continues on the next line: a line a third of the width that ends mid-sentence.
        let prose = !line.isEmpty && !line.hasPrefix(" ") && !next.hasPrefix(" ") && !next.isEmpty && !next.hasPrefix("-")
        let ended = [".", ":", ";", ")", ","].contains { line.hasSuffix($0) }
        if prose && !ended {
          #expect(line.count >= 40, "'\(name) --help' breaks a sentence early: \(line)⏎\(next)")
        }
      }
    }
  }
}
