import EvctlCore
import Testing

@testable import EvctlCLI

/// Who may do what, through the command line, as Ensto's and CTEK's manuals have it.
@Suite struct PermissionCommandTests {
  /// A store with a site and a station, and a basic operator of HQ logged in.
  func loggedInBasicOperator() throws -> Sandbox {
    let box = try Sandbox()
    box.run("group create HQ --kind site")
    box.run("station create CP-1 --name One --group HQ")
    box.run("user create eva@x.io --first Eva --last Berg --group HQ")
    box.run("operator create root@x.io --name Root --role admin --password-stdin", stdin: "secret123\n")
    box.run("operator create ann@x.io --name Ann --role basic --base-group HQ --password-stdin",
            stdin: "secret123\n")
    box.run("operator create bob@x.io --name Bob --role basic --base-group HQ")
    #expect(box.run("login ann@x.io --password-stdin", stdin: "secret123\n").code == .success)
    return box
  }

  @Test(arguments: [
    ("station update CP-1 --name Renamed", "edit stations"),
    ("station connector update CP-1 1 --max-current 16", "edit stations"),
    ("station config set CP-1 HeartbeatInterval 300 --queue", "edit stations"),
    ("group capacity set HQ --max-current 63", "set a site's grid capacity"),
    ("user create new@x.io --first New --last User", "create charging users"),
  ])
  func basicOperatorsMayNot(line: String, what: String) throws {
    let box = try loggedInBasicOperator()
    let result = box.run(line)
    #expect(result.code == .noPermission, "\(line): \(result.err)")
    #expect(result.err.contains("a basic operator may not \(what)"), "\(result.err)")
    box.run("logout")
    #expect(box.run(line).code == .success, "the local administrator may: \(line)")
  }

  @Test func basicOperatorsStillDoDayToDayWork() throws {
    let box = try loggedInBasicOperator()
    #expect(box.run("user update eva@x.io --phone '+31 20 123'").code == .success)
    #expect(box.run("token add 04AABB --user eva@x.io").code == .success)
    #expect(box.run("station reset CP-1 --queue").code == .success)
  }

  @Test func aGroupWithoutParentGoesUnderTheBaseGroup() throws {
    let box = try loggedInBasicOperator()
    let created = box.run("group create Garage")
    #expect(created.code == .success, "\(created.err)")
    #expect(box.run("group list -o json").out.contains("\"path\": \"HQ/Garage\""))
    box.run("logout")
    #expect(box.run("group create Elsewhere").code == .success)
    #expect(box.run("group show Elsewhere -o json").out.contains("\"path\": \"Elsewhere\""))
  }

  @Test func operatorsChangeTheirOwnEmailAndKeepTheirSessionAndTokens() throws {
    let box = try loggedInBasicOperator()
    let token = box.run("operator token create --name cron --expires 30d").out
      .trimmingCharacters(in: " \n")
    #expect(box.run("operator update ann@x.io --email ann.b@x.io").code == .success)
    #expect(box.run("whoami -o json").out.contains("\"email\": \"ann.b@x.io\""), "the session follows")
    #expect(box.run("whoami -o json", env: ["EVCTL_TOKEN": token]).out.contains("ann.b@x.io"),
            "the API token follows")
    let other = box.run("operator update bob@x.io --email robert@x.io")
    #expect(other.code == .noPermission)
    #expect(other.err.contains("a basic operator may not manage operators"), "\(other.err)")
    box.run("logout")
    #expect(box.run("login ann@x.io --password-stdin", stdin: "secret123\n").code == .noPermission)
    #expect(box.run("login ann.b@x.io --password-stdin", stdin: "secret123\n").code == .success)
  }

  @Test func adminsChangeAnyonesEmail() throws {
    let box = try loggedInBasicOperator()
    box.run("logout")
    #expect(box.run("login root@x.io --password-stdin", stdin: "secret123\n").code == .success)
    #expect(box.run("operator update ann@x.io --email ann2@x.io").code == .success)
    #expect(box.run("operator show ann2@x.io -o json").out.contains("\"name\": \"Ann\""))
    let taken = box.run("operator update ann2@x.io --email root@x.io")
    #expect(taken.code == .failure)
    #expect(taken.err.contains("already exists"), "\(taken.err)")
    #expect(box.run("operator update ann2@x.io --email not-an-email").code != .success)
    #expect(box.run("operator show ann2@x.io").code == .success)
  }
}
