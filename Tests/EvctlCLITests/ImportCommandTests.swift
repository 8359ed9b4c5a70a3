import EvctlCore
import Testing

@testable import EvctlCLI

/// `user import` / `user export` (issue 10 item 22) and the CSV rules every import shares.
@Suite struct ImportCommandTests {
  @Test func userImportCreatesUsersWithTheirCardsInOneCommand() throws {
    let box = try Sandbox()
    box.run("group create HQ")
    let csv = """
      email,first_name,last_name,group,id_tag,token_name
      ann@x.io,Ann,Lund,HQ,CARD1,work
      ann@x.io,,,,CARD2,spare
      bo@x.io,Bo,Ek,,,
      """
    let dry = box.run("user import --dry-run -", stdin: csv)
    #expect(dry.code == .success)
    #expect(dry.out == "users: 2 created, 0 updated, 0 unchanged; tokens: 2 created, 0 updated, 0 unchanged (dry run: nothing written)\n")
    #expect(box.run("user list").out.isEmpty)
    let done = box.run("user import -", stdin: csv)
    #expect(done.out == "users: 2 created, 0 updated, 0 unchanged; tokens: 2 created, 0 updated, 0 unchanged\n")
    #expect(box.run("token list -o csv").out.contains("CARD2,ann@x.io,spare"))
    let exported = box.run("user export").out
    #expect(exported.hasPrefix("email,first_name,last_name,phone,group,id_tag,token_name,valid_from,valid_to,blocked\r\n"))
    #expect(exported.contains("ann@x.io,Ann,Lund,,HQ,CARD1,work,,,false\r\n"))
    #expect(exported.contains("bo@x.io,Bo,Ek,,,,,,,\r\n"))
    #expect(box.run("user import -", stdin: exported).out
      == "users: 0 created, 0 updated, 2 unchanged; tokens: 0 created, 0 updated, 2 unchanged\n")
  }

  @Test func userImportListsEveryBadRowAndWritesNothing() throws {
    let box = try Sandbox()
    let csv = "email,first_name,last_name,id_tag\nok@x.io,Ok,Fine,C1\nnew@x.io,,,\nbad,A,B,\n"
    let result = box.run("user import fleet.csv", stdin: "")
    #expect(result.code == .ioError)
    let bad = box.run("user import -", stdin: csv)
    #expect(bad.code == .dataError)
    #expect(bad.err == """
      error: -:3: first_name and last_name are required for a new user
      error: -:4: invalid email address 'bad'
      error: 2 bad row(s); nothing was written

      """)
    #expect(box.run("user list").out.isEmpty)
  }

  @Test func aNULByteInAnyImportIsRefusedWithFileAndLine() throws {
    let box = try Sandbox()
    box.run("user create eva@x.io --first Eva --last Berg")
    let tokens = box.run("token import -", stdin: "id_tag,user,name\nAB1,eva@x.io,abc\u{0}def\n")
    #expect(tokens.code == .dataError)
    #expect(tokens.err.hasPrefix("error: -:2: NUL byte in a field"))
    #expect(box.run("token list").out.isEmpty)
    let stations = box.run("station import -", stdin: "identity,name\nCP-1,Gate\nCP-2,x\u{0}y\n")
    #expect(stations.code == .dataError)
    #expect(stations.err.hasPrefix("error: -:3: NUL byte in a field"))
    let users = box.run("user import -", stdin: "email,first_name,last_name\na@x.io,A\u{0},B\n")
    #expect(users.err.hasPrefix("error: -:2: NUL byte in a field"))
    #expect(box.run("station list").out.isEmpty)
  }
}
