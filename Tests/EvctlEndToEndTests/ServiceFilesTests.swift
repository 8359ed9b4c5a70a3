import Foundation
import Testing

/// The files a newcomer and an administrator start from: the quickstart script and the systemd unit.
@Suite struct ServiceFilesTests {
  static let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

  /// The unit with ExecStart pointing at the built binary, in a fresh directory.
  func unitForTheBuiltBinary() throws -> (dir: String, unit: String) {
    let dir = NSTemporaryDirectory() + "evctl-unit-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let text = try String(contentsOfFile: BinaryTests.root + "/Examples/evctl.service", encoding: .utf8)
      .replacingOccurrences(of: "/usr/local/bin/evctl", with: BinaryTests.binary)
    let unit = dir + "/evctl.service"
    try text.write(toFile: unit, atomically: true, encoding: .utf8)
    return (dir, unit)
  }

  @Test func theUnitCreatesNoUserByHandAndKeepsTheStorePrivate() throws {
    let text = try String(contentsOfFile: BinaryTests.root + "/Examples/evctl.service", encoding: .utf8)
    let lines = Set(text.split(separator: "\n").map(String.init))
    for wanted in ["DynamicUser=yes", "UMask=0077", "StateDirectory=evctl", "StateDirectoryMode=0700",
                   "Environment=EVCTL_DB=/var/lib/evctl/evctl.db", "PrivateTmp=yes",
                   "ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes",
                   "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                   "SystemCallFilter=@system-service", "CapabilityBoundingSet="] {
      #expect(lines.contains(wanted), "missing \(wanted)")
    }
  }

  @Test(.enabled(if: analyze != nil)) func systemdAnalyzeVerifiesTheUnit() throws {
    let (dir, unit) = try unitForTheBuiltBinary()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let result = try BinaryTests.run(Self.analyze!, ["verify", unit])
    #expect(result.status == 0, "\(result.out)\(result.err)")
  }

  /// `--threshold` is in tenths: 25 means an overall exposure of at most 2.5.
  @Test(.enabled(if: analyze != nil)) func systemdAnalyzeRatesTheUnitAtMostTwoAndAHalf() throws {
    let (dir, unit) = try unitForTheBuiltBinary()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let result = try BinaryTests.run(Self.analyze!, ["security", "--offline=true", "--threshold=25", unit])
    #expect(result.status == 0, "\(result.out.split(separator: "\n").last ?? "")\(result.err)")
  }

  /// Every Debian package a system-library target of Package.swift names (`.apt([...])`).
  static func packagesTheBuildNeeds() throws -> Set<String> {
    let manifest = try String(contentsOfFile: BinaryTests.root + "/Package.swift", encoding: .utf8)
    var names = Set<String>()
    for part in manifest.components(separatedBy: ".apt([").dropFirst() {
      let list = part.prefix { $0 != "]" }
      for quoted in list.split(separator: ",") {
        names.insert(quoted.trimmingCharacters(in: CharacterSet(charactersIn: " \"\n")))
      }
    }
    return names
  }

  /// A fresh Debian machine builds after the quickstart and after README's install line: both
  /// install every -dev package the build links against (libpq and libcurl came later).
  @Test func theQuickstartAndTheInstallLineInstallEveryLibraryTheBuildNeeds() throws {
    let needed = try Self.packagesTheBuildNeeds()
    #expect(needed.isSuperset(of: ["libsqlite3-dev", "libssl-dev", "libpq-dev", "libcurl4-openssl-dev"]))
    let script = try String(contentsOfFile: BinaryTests.root + "/Examples/serve-quickstart.sh", encoding: .utf8)
    let loop = script.split(separator: "\n").first { $0.hasPrefix("for pkg in ") } ?? ""
    let readme = try String(contentsOfFile: BinaryTests.root + "/README.md", encoding: .utf8)
    let install = readme.split(separator: "\n").first { $0.hasPrefix("apt-get install -y ") } ?? ""
    for package in needed {
      #expect(loop.split(whereSeparator: { $0 == " " || $0 == ";" }).contains(Substring(package)), "the quickstart does not install \(package)")
      #expect(install.split(separator: " ").contains(Substring(package)), "README's install line lacks \(package)")
    }
  }

  @Test func theQuickstartSaysWhereSwiftComesFrom() throws {
    let home = NSTemporaryDirectory() + "evctl-qs-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: home) }
    let result = try BinaryTests.run(
      "/bin/bash", [BinaryTests.root + "/Examples/serve-quickstart.sh"],
      environment: ["PATH": "/usr/bin:/bin", "HOME": home])
    #expect(result.status == 69)
    #expect(result.err.hasPrefix("error: 'swift' was not found on PATH"), "\(result.err)")
    #expect(result.err.contains("https://www.swift.org/install/linux/"))
    #expect(result.out.isEmpty)
  }

  @Test func theQuickstartInstallsEvctlWhereTheTourFindsItAndSaysToOpenASecondTerminal() throws {
    let script = try String(contentsOfFile: BinaryTests.root + "/Examples/serve-quickstart.sh", encoding: .utf8)
    #expect(script.contains("install -m 0755 .build/release/evctl \"$bin_dir/evctl\""))
    #expect(script.contains("open a second terminal"))
    #expect(script.contains("exec \"$bin_dir/evctl\" serve --demo \"$@\""))
    #expect(script.contains("evctl simulate --demo"))
    let readme = try String(contentsOfFile: BinaryTests.root + "/README.md", encoding: .utf8)
    #expect(readme.contains("**open a second terminal**"))
    // The README's first command brings up a demo network; the second terminal plays it.
    #expect(readme.contains("run `evctl serve --demo`"))
    #expect(readme.contains("evctl simulate --demo               # second terminal"))
    #expect(readme.contains("evctl simulate --demo --remove"))
    #expect(readme.contains("https://www.swift.org/install/linux/"))
  }
}
