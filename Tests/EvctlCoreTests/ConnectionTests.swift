import Testing

@testable import EvctlCore

@Suite struct ConnectionTests {
  @Test func everyStorageClassRoundTrips() throws {
    let db = try Connection(.memory)
    try db.execute("CREATE TABLE t (i, r, s, b, n)")
    try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
               [SQLiteValue.integer(42), .real(1.5), .text("é"), .blob([0, 255]), .null])
    let row = try #require(try db.queryOne("SELECT * FROM t"))
    #expect(row.values == [.integer(42), .real(1.5), .text("é"), .blob([0, 255]), .null])
  }

  /// serve runs SAVEPOINT/RELEASE around every unit of work and COMMIT every batch: a single
  /// statement is prepared once and reused, not parsed again on every call (issue 15).
  @Test func singleStatementsAreParsedOnceAndReused() throws {
    let db = try Connection(.memory)
    try db.execute("CREATE TABLE t (v)")
    var counts: [Int] = []
    for value in 0..<3 {
      try db.execute("BEGIN IMMEDIATE")
      try db.execute("SAVEPOINT unit")
      try db.run("INSERT INTO t VALUES (?)", [value])
      try db.execute("RELEASE unit")
      try db.execute("COMMIT")
      counts.append(db.cachedStatementCount)
    }
    let before = counts[0]
    #expect(counts == [before, before, before])
    #expect(before >= 5)
    #expect(try db.queryOne("SELECT count(*) FROM t")?.values.first == .integer(3))
    // Several statements at once still run through sqlite3_exec, uncached.
    let cached = db.cachedStatementCount
    try db.execute("INSERT INTO t VALUES (10); INSERT INTO t VALUES (11)")
    #expect(db.cachedStatementCount == cached)
    #expect(try db.queryOne("SELECT count(*) FROM t")?.values.first == .integer(5))
  }

  /// Text is bound from its UTF-8 in place: non-ASCII survives, a NUL still ends the text as it
  /// did when it went through a C string, and fewer arguments than parameters leave NULLs.
  @Test func textBindsAsBeforeWithoutTheCStringCopy() throws {
    let db = try Connection(.memory)
    try db.execute("CREATE TABLE t (a, b)")
    try db.run("INSERT INTO t VALUES (?, ?)", ["ÆØÅ ⚡︎ 日本", ""])
    try db.run("INSERT INTO t VALUES (?, ?)", ["cut\u{0}here", "x"])
    let statement = try db.prepare("INSERT INTO t VALUES (?, ?)")
    try statement.bind(["first", "second"])
    while try statement.step() != nil {}
    statement.reset()
    try statement.bind(["only"])
    while try statement.step() != nil {}
    let rows = try db.query("SELECT a, b FROM t ORDER BY rowid")
    #expect(rows.map(\.values) == [[.text("ÆØÅ ⚡︎ 日本"), .text("")], [.text("cut"), .text("x")],
                                    [.text("first"), .text("second")], [.text("only"), .null]])
  }

  @Test func uniqueViolationReportsExtendedCode() throws {
    let db = try Connection(.memory)
    try db.execute("CREATE TABLE t (v UNIQUE); INSERT INTO t VALUES (1)")
    let error = #expect(throws: SQLiteError.self) { try db.execute("INSERT INTO t VALUES (1)") }
    #expect(error?.code == 2067)
    #expect(error?.primaryCode == 19)
    #expect(error?.isUniqueViolation == true)
  }

  @Test func transactionRollsBackWhenTheBodyThrows() throws {
    let db = try Connection(.memory)
    try db.execute("CREATE TABLE t (v)")
    struct Boom: Error {}
    #expect(throws: Boom.self) {
      try db.transaction {
        try db.run("INSERT INTO t VALUES (1)")
        throw Boom()
      }
    }
    #expect(try db.queryOne("SELECT count(*) FROM t")?.values.first == .integer(0))
  }

  @Test func backupCopiesAConsistentFile() throws {
    let dir = try TemporaryDirectory()
    let db = try Connection(.path(dir.path + "/a.db"))
    try db.execute("CREATE TABLE t (v); INSERT INTO t VALUES ('kept')")
    try db.backup(to: dir.path + "/b.db")
    let copy = try Connection(.path(dir.path + "/b.db"))
    #expect(try copy.queryOne("SELECT v FROM t")?.string("v") == "kept")
  }

  @Test func fileDatabasesUseWAL() throws {
    let dir = try TemporaryDirectory()
    let db = try Connection(.path(dir.path + "/a.db"))
    #expect(try db.queryOne("PRAGMA journal_mode")?.values.first?.string == "wal")
    #expect(try db.queryOne("PRAGMA foreign_keys")?.values.first?.int == 1)
  }
}

@Suite struct MigratorTests {
  @Test func migratingTwiceIsANoOp() throws {
    let db = try Connection(.memory)
    #expect(try Schema.migrator.migrate(db) == Schema.migrations.count)
    #expect(try Schema.migrator.migrate(db) == 0)
    #expect(try Schema.migrator.currentVersion(of: db) == Schema.migrator.latestVersion)
  }

  @Test(arguments: 0..<Schema.migrations.count)
  func migratesFromEveryEarlierVersion(start: Int) throws {
    let db = try Connection(.memory)
    try Migrator(migrations: Array(Schema.migrations.prefix(start))).migrate(db)
    #expect(try Schema.migrator.migrate(db) == Schema.migrations.count - start)
    let store = try Store(.memory)
    let expected = try store.db.query(
      "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").map(\.values)
    let actual = try db.query(
      "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").map(\.values)
    #expect(actual == expected)
  }

  @Test func refusesAFileFromANewerEvctl() throws {
    let db = try Connection(.memory)
    try db.execute("PRAGMA user_version = 999")
    #expect(throws: StoreError.schemaTooNew(found: 999, supported: Schema.migrator.latestVersion)) {
      try Schema.migrator.migrate(db)
    }
  }
}

/// serve's periodic queries over running sessions stay flat as finished ones pile up (issue 15).
@Suite struct FlatCostTests {
  /// SQLite only: the plans read are SQLite's (EXPLAIN QUERY PLAN).
  @Test func queriesOverActiveTransactionsUseThePartialIndex() throws {
    let store = try makeStore(sqlite: true)
    for sql in [
      // stuck-transaction alarms (every 30 s) and the smart-charging plan read only these rows
      """
      SELECT t.id FROM transactions t JOIN stations s ON s.id = t.station_id
      LEFT JOIN connectors c ON c.station_id = t.station_id AND c.connector_id = t.connector_id
      WHERE t.state = 'active' AND ((c.status IN ('Available', 'Unavailable', 'Faulted') AND c.status_at > t.started_at)
        OR (s.connected = 0 AND coalesce(s.last_seen_at, '') < '2026-01-01'))
      """,
      "SELECT t.id, t.started_at, t.authorization_status FROM transactions t WHERE t.state = 'active'",
    ] {
      let plan = try store.db.query("EXPLAIN QUERY PLAN " + sql).compactMap { $0.string("detail") }
      #expect(plan.contains { $0.contains("transactions_active") }, "\(plan)")
    }
  }
}
