import Foundation
import Testing

@testable import EvctlCLI

/// The committed completions and man page must match the command tree.
///
/// Re-record with `EVCTL_RECORD=1 swift test --filter GeneratedFilesTests`.
@Suite struct GeneratedFilesTests {
  static let files: [(String, @Sendable () -> String)] = [
    ("Completions/bash/evctl", { Commands.completionScript(for: "bash") }),
    ("Completions/zsh/_evctl", { Commands.completionScript(for: "zsh") }),
    ("Completions/fish/evctl.fish", { Commands.completionScript(for: "fish") }),
    ("Man/evctl.1", { Commands.manPage() }),
  ]

  @Test(arguments: files.map(\.0))
  func committedFileMatchesTheCommandTree(path: String) throws {
    let generated = Self.files.first { $0.0 == path }!.1()
    let full = repositoryRoot + "/" + path
    if ProcessInfo.processInfo.environment["EVCTL_RECORD"] == "1" {
      try generated.write(toFile: full, atomically: true, encoding: .utf8)
      return
    }
    let committed = try? String(contentsOfFile: full, encoding: .utf8)
    #expect(committed == generated,
            "\(path) is stale: run 'EVCTL_RECORD=1 swift test --filter GeneratedFilesTests' and commit it")
  }

  @Test func readmeCommandTableMatchesTheTree() throws {
    let path = repositoryRoot + "/README.md"
    let readme = try String(contentsOfFile: path, encoding: .utf8)
    let begin = "<!-- commands:begin -->\n"
    let end = "<!-- commands:end -->"
    let start = try #require(readme.range(of: begin), "README.md lacks \(begin)")
    let stop = try #require(readme.range(of: end), "README.md lacks \(end)")
    let current = String(readme[start.upperBound..<stop.lowerBound])
    let generated = Commands.commandTable()
    if ProcessInfo.processInfo.environment["EVCTL_RECORD"] == "1" {
      try readme.replacingCharacters(in: start.upperBound..<stop.lowerBound, with: generated)
        .write(toFile: path, atomically: true, encoding: .utf8)
      return
    }
    #expect(current == generated, "README.md's command table is stale: run 'EVCTL_RECORD=1 swift test --filter GeneratedFilesTests'")
  }

  @Test func bashScriptParses() throws {
    let result = try shell("bash", "-n", repositoryRoot + "/Completions/bash/evctl")
    #expect(result == 0)
  }

  @Test func manPageHasNoGroffWarnings() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/groff") else { return }
    let pipe = Pipe()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/groff")
    process.arguments = ["-mandoc", "-Tutf8", "-ww", "-z", repositoryRoot + "/Man/evctl.1"]
    process.standardError = pipe
    try process.run()
    process.waitUntilExit()
    let warnings = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(warnings.isEmpty, "\(warnings)")
  }

  func shell(_ arguments: String...) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
  }
}

/// Checks on the command tree itself, as SwiftFormat's metadata tests do.
@Suite struct MetadataTests {
  static let commands = Commands.root.walk().filter { !$0.command.isHidden }

  @Test func abstractsAreImperativeWithoutAFinalPeriod() {
    for (path, command) in Self.commands {
      #expect(!command.abstract.hasSuffix("."), "\(path.joined(separator: " "))")
      #expect(command.abstract.first?.isUppercase == true, "\(path.joined(separator: " "))")
    }
  }

  @Test func flagNamesAreLowercaseKebabCase() {
    for (path, command) in Self.commands {
      for spec in command.arguments where spec.kind != .positional {
        #expect(spec.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" },
                "\(path.joined(separator: " ")) --\(spec.name)")
      }
    }
  }

  @Test func everyCommandIsInTheManPageAndTheREADME() throws {
    let man = Commands.manPage()
    let readme = try String(contentsOfFile: repositoryRoot + "/README.md", encoding: .utf8)
    for (path, command) in Self.commands where command.action != nil && path.count > 1 {
      let words = path.dropFirst().joined(separator: " ")
      #expect(man.contains(".It Nm Cm \(words)"), "man page lacks '\(words)'")
      #expect(readme.contains("evctl \(words)"), "README lacks 'evctl \(words)'")
    }
  }

  @Test func everyCommandHasWorkingHelp() throws {
    let box = try Sandbox()
    for (path, _) in Self.commands {
      let result = box.run(path.dropFirst().joined(separator: " ") + " --help")
      #expect(result.code == .success)
      #expect(result.out.hasPrefix("OVERVIEW: "))
    }
  }
}
