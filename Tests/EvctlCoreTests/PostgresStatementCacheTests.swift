import Foundation
import Testing

@testable import EvctlCore

/// The statement cache on its own: when a statement is prepared, what the bound drops.
struct PostgresStatementCacheTests {
  @Test func aStatementIsPreparedOnItsSecondUseAndThenRunByName() {
    var cache = PostgresStatementCache()
    #expect(cache.plan("SELECT ? AS a") == .unnamed(text: "SELECT $1 AS a"))
    guard case .prepare(let name, let text) = cache.plan("SELECT ? AS a") else {
      Issue.record("the second use was not prepared")
      return
    }
    #expect(text == "SELECT $1 AS a")
    cache.prepared("SELECT ? AS a", as: name)
    #expect(cache.plan("SELECT ? AS a") == .prepared(name: name))
    #expect(cache.preparedCount == 1)
  }

  @Test func aPreparedStatementIsPreparedAfreshAfterSoManyRuns() {
    var cache = PostgresStatementCache(replanAfter: 3)
    _ = cache.plan("SELECT 1")
    guard case .prepare(let first, _) = cache.plan("SELECT 1") else {
      Issue.record("not prepared")
      return
    }
    cache.prepared("SELECT 1", as: first)
    #expect(cache.plan("SELECT 1") == .prepared(name: first))
    #expect(cache.plan("SELECT 1") == .prepared(name: first))
    guard case .prepare(let second, _) = cache.plan("SELECT 1") else {
      Issue.record("not prepared afresh after three runs")
      return
    }
    #expect(second != first && cache.toDeallocate == [first])
  }

  @Test func theBoundDropsTheLeastRecentlyUsedStatementAndListsItForDeallocation() {
    var cache = PostgresStatementCache(capacity: 2)
    var names: [String: String] = [:]
    for sql in ["SELECT 1", "SELECT 2"] {
      _ = cache.plan(sql)
      if case .prepare(let name, _) = cache.plan(sql) {
        cache.prepared(sql, as: name)
        names[sql] = name
      }
    }
    _ = cache.plan("SELECT 1")  // SELECT 2 is now the least recently used
    _ = cache.plan("SELECT 3")
    #expect(cache.count == 2)
    #expect(cache.toDeallocate == [names["SELECT 2"]])
    #expect(cache.plan("SELECT 1") == .prepared(name: names["SELECT 1"] ?? ""))
    cache.deallocated(cache.toDeallocate)
    #expect(cache.toDeallocate.isEmpty)
    // A new session knows none of them, and deallocates nothing.
    cache.removeAll()
    #expect(cache.count == 0 && cache.plan("SELECT 1") == .unnamed(text: "SELECT 1"))
  }
}

/// The statement cache against a live server: statements prepared once, safe across a new
/// session, `DEALLOCATE`, schema changes and rolled-back transactions.
@Suite(.enabled(if: LivePostgres.url != nil, "needs EVCTL_TEST_POSTGRES_URL (Tests/run.sh starts a cluster)"))
struct PostgresPreparedStatementTests {
  private func preparedOnServer(_ db: PostgresConnection) throws -> Int {
    try db.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'evctl_%'", [])
      .first?.int("n") ?? -1
  }

  @Test func aStatementRunsPreparedFromItsSecondUse() throws {
    let db = try LivePostgres.connection()
    try db.execute("CREATE TABLE p (n integer)")
    for n in 1...3 { try db.run("INSERT INTO p VALUES (?)", [n]) }
    #expect(db.statements.preparedCount == 1)
    #expect(try preparedOnServer(db) == 1)
    #expect(try db.query("SELECT sum(n) AS s FROM p", []).first?.int("s") == 6)
  }

  @Test func aPreparedStatementRunsAgainInATransactionAfterAReconnect() throws {
    let db = try LivePostgres.connection()
    let schema = try #require(try db.query("SELECT current_schema() AS s", []).first?.string("s"))
    try db.execute("CREATE TABLE p (n integer)")
    let insert = "INSERT INTO \(schema).p VALUES (?)"
    for n in 1...2 { try db.run(insert, [n]) }
    #expect(db.statements.preparedCount == 1)
    #expect(db.reconnect())
    // The new session has none of the old one's statements; a stale name would abort this
    // transaction.
    try db.transaction {
      try db.run(insert, [3])
      try db.run(insert, [4])
    }
    #expect(try db.query("SELECT count(*) AS n FROM \(schema).p", []).first?.int("n") == 4)
  }

  @Test func theBoundDeallocatesOnTheServerToo() throws {
    let db = try LivePostgres.connection()
    db.statements = PostgresStatementCache(capacity: 2)
    for k in 1...4 {
      for _ in 1...2 { try db.query("SELECT \(k) AS k", []) }
    }
    // Each new text evicted the oldest, deallocated before the next statement: SELECT 3 and 4
    // remain (the count's own text evicts SELECT 3 from the cache, on the server after it).
    #expect(try preparedOnServer(db) == 2)
    #expect(db.statements.count == 2)
  }

  @Test func statementsSurviveDeallocateAllARolledBackTransactionAndASchemaChange() throws {
    let db = try LivePostgres.connection()
    try db.execute("CREATE TABLE p (n integer)")
    struct Stop: Error {}
    // Prepared inside a transaction that rolls back: still prepared afterwards.
    #expect(throws: Stop.self) {
      try db.transaction {
        for n in 1...2 { try db.run("INSERT INTO p VALUES (?)", [n]) }
        throw Stop()
      }
    }
    _ = try db.transaction { try db.run("INSERT INTO p VALUES (?)", [1]) }
    try db.execute("DEALLOCATE ALL")
    _ = try db.transaction { try db.run("INSERT INTO p VALUES (?)", [2]) }
    // Prepared afresh after so many runs: the old one is deallocated on the server.
    db.statements = PostgresStatementCache(replanAfter: 2)
    for _ in 1...6 { try db.query("SELECT count(*) AS n FROM p", []) }
    #expect(try preparedOnServer(db) == 1)
    // A cached SELECT * whose table gains a column is prepared again (outside a transaction).
    for _ in 1...2 { try db.query("SELECT * FROM p ORDER BY n", []) }
    try db.execute("ALTER TABLE p ADD COLUMN m integer DEFAULT 7")
    let rows = try db.query("SELECT * FROM p ORDER BY n", [])
    #expect(rows.map(\.values) == [[.integer(1), .integer(7)], [.integer(2), .integer(7)]])
  }
}
