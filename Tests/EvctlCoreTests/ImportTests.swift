import Foundation
import Testing

@testable import EvctlCore
import EvctlTestSupport

/// Issue 11 items 11–14 and 17 (CSV part), issue 10 item 22.
@Suite struct ImportTests {
  func tokenCSV(_ count: Int, name: String, user: String = "eva@x.io") -> String {
    "id_tag,user,name\n" + (0..<count).map { "BULK\($0),\(user),\(name)\($0)" }.joined(separator: "\n")
  }

  @Test func aNULByteInAFieldIsRefusedWithItsLine() throws {
    #expect(throws: CSVError(line: 2, reason: "NUL byte in a field (byte 7 of the file)")) {
      try CSVReader.parse("a,b\nab\u{0}c,d\n")
    }
    let store = try seededStore()
    #expect(throws: StoreError.badInput(["t.csv:2: NUL byte in a field (byte 26 of the file)"])) {
      try store.importTokens(csv: "id_tag,user,name\nAB12,eva\u{0}@x.io,x\n", file: "t.csv")
    }
  }

  @Test func oneUsersManyTokensAreCountedOnceEachAndWrittenInChunks() throws {
    let store = try seededStore()
    let count = Store.importChunkRows * 2 + 7
    let first = try store.importTokens(csv: tokenCSV(count, name: "a"), file: "t.csv")
    #expect(first == ImportSummary(created: count, updated: 0, unchanged: 0, written: true))
    #expect(try store.user("eva@x.io").tokenCount == count + 1)
    let again = try store.importTokens(csv: tokenCSV(count, name: "a"), file: "t.csv")
    #expect(again == ImportSummary(created: 0, updated: 0, unchanged: count, written: true))
    var changed = tokenCSV(count, name: "a").split(separator: "\n").map(String.init)
    changed[5] = "BULK4,eva@x.io,renamed"
    changed.append("BULKNEW,eva@x.io,")
    let third = try store.importTokens(csv: changed.joined(separator: "\n"), file: "t.csv")
    #expect(third == ImportSummary(created: 1, updated: 1, unchanged: count - 1, written: true))
    #expect(try store.token("BULK4").name == "renamed")
    #expect(try store.db.queryOne("SELECT count(*) AS n FROM import_token_rows")?.int("n") == 0)
    #expect(try store.db.queryOne("SELECT count(*) AS n FROM import_jobs")?.int("n") == 0)
    let dry = try store.importTokens(csv: tokenCSV(count, name: "b"), file: "t.csv", dryRun: true)
    #expect(dry == ImportSummary(created: 0, updated: count, unchanged: 0, written: false))
    #expect(try store.token("BULK0").name == "a0")
  }

  /// A process that died leaves a job behind: past the commit point it is finished, before it
  /// discarded, and a live process's job is left alone.
  @Test func interruptedImportsAreFinishedOrDiscarded() throws {
    let store = try seededStore()
    let user = try store.user("eva@x.io").id
    let dead = 0x7fff_fff0
    // On PostgreSQL a pid may belong to another workstation: what counts there is the job's
    // advisory lock, which nobody holds for jobs 1 and 2.
    let deadTouched = "2026-11-21T11:59:00Z"
    try store.db.execute(
      """
      INSERT INTO import_jobs (id, kind, state, pid, started_at, touched_at) VALUES
        (1, 'token', 'committed', \(dead), '2026-11-21T11:59:00Z', '\(deadTouched)'),
        (2, 'token', 'staging', \(dead), '2026-11-21T11:59:00Z', '\(deadTouched)'),
        (3, 'token', 'staging', \(getpid()), '2026-11-21T11:59:00Z', '2026-11-21T11:59:00Z')
      """)
    for (job, tag) in [(1, "DONE"), (2, "DROP"), (3, "LIVE")] {
      for seq in 0..<(Store.importChunkRows + 3) {
        try store.db.run(
          """
          INSERT INTO import_token_rows (job_id, seq, token_id, id_tag, raw_id_tag, user_id, blocked)
          VALUES (?, ?, NULL, ?, ?, ?, FALSE)
          """, [job, seq, "\(tag)\(seq)", "\(tag)\(seq)", user])
      }
    }
    try store.resumeInterruptedImports(maxChunks: 1, pausing: false)
    #expect(try store.db.queryOne("SELECT count(*) AS n FROM tokens WHERE substr(id_tag, 1, 4) = 'DONE'")?.int("n")
      == Store.importChunkRows)
    try store.resumeInterruptedImports()
    #expect(try store.db.queryOne("SELECT count(*) AS n FROM tokens WHERE substr(id_tag, 1, 4) = 'DONE'")?.int("n")
      == Store.importChunkRows + 3)
    #expect(try store.db.queryOne("SELECT count(*) AS n FROM tokens WHERE substr(id_tag, 1, 4) = 'DROP'")?.int("n") == 0)
    let left = try store.db.query("SELECT id FROM import_jobs").compactMap { $0.int("id") }
    #expect(left == [3])
    if store.dialect == .postgresql {
      // Another workstation's import (a pid unknown here, its session holding the job's lock),
      // untouched for an hour: left alone while that session lasts, discarded once it ends.
      let name = try store.db.queryOne("SELECT current_database() AS name")!.string("name")!
      do {
        let workstation = try PostgresConnection(url: TestBackend.url(of: name))
        try workstation.execute("SELECT pg_advisory_lock(\(Store.importJobLockClass), 4)")
        try store.db.execute(
          "INSERT INTO import_jobs (id, kind, state, pid, started_at, touched_at) VALUES (4, 'token', 'staging', \(dead), '2026-11-21T10:00:00Z', '2026-11-21T10:00:00Z')")
        try store.resumeInterruptedImports()
        #expect(try store.db.query("SELECT id FROM import_jobs ORDER BY id").compactMap { $0.int("id") } == [3, 4])
      }
      // The workstation's connection is closed; its server process lets go of the lock.
      for _ in 0..<100 {
        let held = try store.db.queryOne(
          "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 4")?.int("n")
        if held == 0 { break }
        usleep(50_000)
      }
      try store.resumeInterruptedImports()
      #expect(try store.db.query("SELECT id FROM import_jobs ORDER BY id").compactMap { $0.int("id") } == [3])
    }
    #expect(try store.db.queryOne("SELECT count(*) AS n FROM import_token_rows WHERE job_id <> 3")?.int("n") == 0)
  }

  @Test func aWriteTransactionWaitsForTheLockAndServeOnlyTries() throws {
    let dir = try TemporaryDirectory()
    let path = dir.path + "/s.db"
    let holder = try Connection(.path(path))
    try holder.execute("CREATE TABLE t (v)")
    let waiter = try Connection(.path(path), busyTimeout: 5_000)
    try holder.execute("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
    #expect(try waiter.tryBeginImmediate(waitingAtMost: 5) == false)
    #expect(!waiter.isInTransaction)
    #expect(waiter.busyTimeoutMilliseconds == 5_000)
    nonisolated(unsafe) let owner = holder
    let release = Thread { usleep(150_000); try? owner.execute("COMMIT") }
    release.start()
    _ = try waiter.transaction { try waiter.run("INSERT INTO t VALUES (2)") }
    #expect(try waiter.queryOne("SELECT count(*) AS n FROM t")?.int("n") == 2)
  }

  @Test func usersAndTheirCardsImportTogetherAllOrNothing() throws {
    let store = try seededStore()
    let csv = """
      email,first_name,last_name,phone,group,id_tag,token_name,valid_to
      ann@x.io,Ann,Lund,+46 1,HQ,CARD1,work,
      ann@x.io,,,,,CARD2,spare,2027-01-01
      bo@x.io,Bo,Ek,,,,,
      """
    let dry = try store.importUsers(csv: csv, file: "u.csv", dryRun: true)
    #expect(dry.users.created == 2 && dry.tokens.created == 2 && !dry.written)
    #expect(throws: StoreError.notFound(kind: "user", name: "ann@x.io")) { try store.user("ann@x.io") }
    let done = try store.importUsers(csv: csv, file: "u.csv")
    #expect(done.users == ImportSummary(created: 2, updated: 0, unchanged: 0, written: false))
    #expect(done.tokens.created == 2 && done.written)
    #expect(try store.user("ann@x.io").tokenCount == 2)
    #expect(try store.token("CARD2").validTo == Timestamp(parsing: "2027-01-01"))
    let exported = try store.exportUsers()
    let text = exported.map { $0.joined(separator: ",") }.joined(separator: "\n")
    let again = try store.importUsers(csv: text, file: "export.csv")
    #expect(again.users.created == 0 && again.users.updated == 0 && again.tokens.updated == 0)
    #expect(again.tokens.unchanged == 3)
    let bad = """
      email,first_name,last_name,id_tag
      new@x.io,,,NEW1
      ann@x.io,Anna,,
      ann@x.io,Annie,,
      x,A,B,
      ok@x.io,Ok,Fine,CARD1
      ok@x.io,,,card1
      """
    #expect(throws: StoreError.badInput([
      "b.csv:2: first_name and last_name are required for a new user",
      "b.csv:4: first_name 'Annie' differs from line 3 ('Anna')",
      "b.csv:5: invalid email address 'x'",
      "b.csv:7: duplicate id tag 'CARD1' (also on line 6)",
    ])) { try store.importUsers(csv: bad, file: "b.csv") }
    #expect(try store.user("ann@x.io").firstName == "Ann")
    #expect(throws: StoreError.notFound(kind: "user", name: "ok@x.io")) { try store.user("ok@x.io") }
  }
}
