import Foundation
import Testing

@testable import EvctlCore

/// Savepoints sent only when a statement runs inside them, and releases sent with the next one.
struct PostgresSavepointsTests {
  @Test func nestedSavepointsWithoutAStatementBetweenAreOneAndReleasesWaitForTheNext() {
    var savepoints = PostgresSavepoints()
    savepoints.open("unit")
    savepoints.open("call")
    #expect(savepoints.beforeStatement() == "SAVEPOINT evctl_sp0")
    savepoints.sent()
    #expect(savepoints.beforeStatement() == nil)
    let released = savepoints.release("call") && savepoints.release("unit")
    #expect(released)
    #expect(savepoints.beforeStatement() == nil)
    // Opened and released around nothing: nothing to send.
    savepoints.open("idle")
    let idle = savepoints.release("idle")
    let gone = savepoints.rollback(to: "idle")
    #expect(idle && !gone.open && gone.sql == nil)
    savepoints.open("unit")
    let untouched = savepoints.rollback(to: "unit")
    #expect(untouched.open && untouched.sql == nil)
    #expect(savepoints.beforeStatement() == "RELEASE evctl_sp0; SAVEPOINT evctl_sp0")
    savepoints.sent()
    savepoints.open("call")
    #expect(savepoints.beforeStatement() == "SAVEPOINT evctl_sp1")
    savepoints.sent()
    let back = savepoints.rollback(to: "unit")
    #expect(back.open && back.sql == "ROLLBACK TO evctl_sp0")
    #expect(!savepoints.isOpen("call") && savepoints.isOpen("unit"))
    savepoints.removeAll()
    #expect(savepoints.isEmpty)
  }
}

/// The same against a live server: what is rolled back and what is kept.
@Suite(.enabled(if: LivePostgres.url != nil, "needs EVCTL_TEST_POSTGRES_URL (Tests/run.sh starts a cluster)"))
struct PostgresLazySavepointTests {
  private func values(_ db: PostgresConnection) throws -> [Int] {
    try db.query("SELECT n FROM s ORDER BY n", []).compactMap { $0.int("n") }
  }

  @Test func rollingBackToASavepointUndoesExactlyTheWorkSinceIt() throws {
    let db = try LivePostgres.connection()
    try db.execute("CREATE TABLE s (n integer PRIMARY KEY)")
    try db.execute("BEGIN")
    try db.run("INSERT INTO s VALUES (1)", [])
    try db.openSavepoint("unit")
    try db.openSavepoint("call")
    try db.run("INSERT INTO s VALUES (2)", [])
    try db.rollbackToSavepoint("call")
    try db.releaseSavepoint("call")
    try db.run("INSERT INTO s VALUES (3)", [])
    try db.releaseSavepoint("unit")
    // Work after a (deferred) release is rolled back with the savepoint around it.
    try db.openSavepoint("outer")
    try db.run("INSERT INTO s VALUES (4)", [])
    try db.openSavepoint("inner")
    try db.run("INSERT INTO s VALUES (5)", [])
    try db.releaseSavepoint("inner")
    try db.run("INSERT INTO s VALUES (6)", [])
    try db.rollbackToSavepoint("outer")
    try db.releaseSavepoint("outer")
    // A failed statement inside a savepoint: rolling back to it rescues the transaction.
    try db.openSavepoint("unit")
    try db.openSavepoint("call")
    #expect(throws: PostgresError.self) { try db.run("INSERT INTO s VALUES (1)", []) }
    try db.rollbackToSavepoint("call")
    try db.releaseSavepoint("call")
    try db.run("INSERT INTO s VALUES (7)", [])
    try db.releaseSavepoint("unit")
    try db.execute("COMMIT")
    #expect(try values(db) == [1, 3, 7])
    #expect(db.savepoints.isEmpty)
  }

  @Test func aSavepointOutsideATransactionOrInAFailedOneFailsAsSQLDoes() throws {
    let db = try LivePostgres.connection()
    #expect(throws: PostgresError.self) { try db.openSavepoint("x") }
    try db.execute("BEGIN")
    #expect(throws: PostgresError.self) { try db.run("SELEKT", []) }
    #expect(throws: PostgresError.self) { try db.openSavepoint("x") }
    try db.execute("ROLLBACK")
    // A name never opened is the server's error, as before.
    try db.execute("BEGIN")
    #expect(throws: PostgresError.self) { try db.releaseSavepoint("never") }
    try db.execute("ROLLBACK")
  }
}
