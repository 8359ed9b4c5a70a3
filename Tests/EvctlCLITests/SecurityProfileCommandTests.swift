import EvctlCLI
import EvctlCore
import Testing

/// Security profiles per station from the shell (issue 12 item 2).
@Suite struct SecurityProfileCommandTests {
  @Test func aNewStationGetsProfile1AndAKeyShownOnce() throws {
    let box = try Sandbox()
    let created = box.run("station create CP-1 --name One")
    #expect(created.code == .success)
    let lines = created.out.split(separator: "\n")
    #expect(lines.first == "station/CP-1 created")
    let key = try #require(lines.dropFirst().first?.split(separator: " ").last)
    #expect(key.count == 40 && key.allSatisfy(\.isHexDigit))
    #expect(box.run("station show CP-1 -o json").out.contains("\"security_profile\": 1"))
    #expect(!box.run("station show CP-1 -o json").out.contains(String(key)))
    // A dry run creates nothing and shows no key.
    #expect(box.run("station create CP-9 --name x -n").out == "station/CP-9 created (dry run)\n")
    #expect(box.run("station create CP-3 --name Three --security-profile 3").out == "station/CP-3 created\n")
    #expect(box.run("station create CP-4 --name x --security-profile 3 --password-stdin", stdin: "0123456789abcdef\n").code == .usage)
  }

  @Test func profilesAreNeverLoweredWithoutAskingAndListedWhenOpen() throws {
    let box = try Sandbox()
    box.run("station create CP-1 --name One --password-stdin", stdin: "0123456789abcdef\n")
    box.run("station create CP-0 --name Open --security-profile 0")
    #expect(box.run("station update CP-1 --security-profile 2").code == .success)
    let lowered = box.run("station update CP-1 --security-profile 1")
    #expect(lowered.code == .failure)
    #expect(lowered.err.contains("--allow-downgrade"))
    #expect(box.run("station passwd CP-1 --clear").code == .failure)
    #expect(box.run("station update CP-1 --security-profile 0 --allow-downgrade").code == .success)
    #expect(box.run("station show CP-1 -o json").out.contains("\"has_password\": false"))
    #expect(box.run("station update CP-0 --security-profile 1").err.contains("needs an AuthorizationKey"))
    #expect(box.run("station list --security-profile 0 -o tsv").out.split(separator: "\n").map { $0.prefix(4) } == ["CP-0", "CP-1"])
    #expect(box.run("station passwd CP-0 --password-stdin", stdin: "0123456789abcdef\n").code == .success)
    #expect(box.run("station list --security-profile 1 -o tsv").out.hasPrefix("CP-0\t"))
    let check = box.run("db check")
    #expect(check.code == .success)
    #expect(check.err.contains("warning: station CP-1: security profile 0"))
    #expect(!check.err.contains("CP-0"))
    #expect(box.run("station list --security-profile 5").code == .usage)
  }

  @Test func importsTakeProfilesAndKeys() throws {
    let box = try Sandbox()
    let csv = "identity,name,security_profile,authorization_key\nA-1,a,0,\nA-2,b,,0123456789abcdef\nA-3,c,,\n"
    #expect(box.run("station import -", stdin: csv).code == .success)
    #expect(box.run("station show A-1 -o json").out.contains("\"security_profile\": 0"))
    #expect(box.run("station show A-2 -o json").out.contains("\"has_password\": true"))
    #expect(box.run("db check").err.contains("station A-3: security profile 1 without an AuthorizationKey"))
    let bad = box.run("station import -", stdin: "identity,name,security_profile,authorization_key\nA-4,d,3,0123456789abcdef\n")
    #expect(bad.code == .dataError)
  }
}
