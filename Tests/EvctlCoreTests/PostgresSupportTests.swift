import Testing

@testable import EvctlCore

/// The parts of the PostgreSQL backend that need no server (issue 14 item 2); the rest runs
/// against a throwaway cluster in Tests/peer/test_postgres.py.
@Suite struct PostgresSupportTests {
  @Test func everySQLiteMigrationHasItsPostgreSQLTwin() {
    // A new migration in Schema.swift needs its PostgreSQL dialect in PostgresSchema.swift.
    #expect(PostgresSchema.migrations.count == Schema.migrations.count)
    #expect(PostgresSchema.migrator.latestVersion == Schema.migrator.latestVersion)
  }

  @Test func placeholdersAreNumberedOutsideLiteralsIdentifiersAndComments() {
    #expect(PostgresPlaceholders.numbered("SELECT * FROM t WHERE a = ? AND b IN (?, ?)")
      == "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)")
    #expect(PostgresPlaceholders.numbered("SELECT '?', \"we?rd\", ? -- why?\n, ? /* ? */")
      == "SELECT '?', \"we?rd\", $1 -- why?\n, $2 /* ? */")
    #expect(PostgresPlaceholders.numbered("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', $1")
    #expect(PostgresPlaceholders.numbered("SELECT $$a ? b$$, $tag$?$tag$, ?") == "SELECT $$a ? b$$, $tag$?$tag$, $1")
    #expect(PostgresPlaceholders.numbered("SELECT $1") == "SELECT $1")
    // SQLite's numbered `?NNN` keep their numbers (the live view and the alarms use them).
    #expect(PostgresPlaceholders.numbered("SELECT ?1, ?2 WHERE a = ?1 AND b = ?") == "SELECT $1, $2 WHERE a = $1 AND b = $3")
    #expect(PostgresPlaceholders.numbered("SELECT ?12, '?3'") == "SELECT $12, '?3'")
  }

  @Test func locationsAreReadLikePsqlAndPasswordsAreHidden() {
    #expect(DatabaseLocation("postgresql://u@h/db") == .postgresql(url: "postgresql://u@h/db"))
    #expect(DatabaseLocation("postgres://u@h/db").isPostgreSQL)
    #expect(DatabaseLocation("POSTGRESQL://h").isPostgreSQL)
    #expect(DatabaseLocation("sqlite:/var/lib/evctl.db") == .sqlite(path: "/var/lib/evctl.db"))
    #expect(DatabaseLocation("sqlite:///var/lib/evctl.db") == .sqlite(path: "/var/lib/evctl.db"))
    #expect(DatabaseLocation("evctl.db") == .sqlite(path: "evctl.db"))
    #expect(DatabaseLocation("postgresql://ann:s3cr%40t@db:5432/evctl").description
      == "postgresql://ann:***@db:5432/evctl")
    #expect(DatabaseLocation("postgresql://ann@db/evctl?sslmode=require&password=x&user=ann").description
      == "postgresql://ann@db/evctl?sslmode=require&password=***&user=ann")
    #expect(DatabaseLocation("postgresql:///evctl?host=/run/pg").description == "postgresql:///evctl?host=/run/pg")
  }

  @Test func postgresTextBecomesTheValuesSQLiteRowsHold() {
    #expect(PostgresValues.value("2026-11-21 08:02:45.123+00", type: PostgresValues.timestamptz)
      == .text("2026-11-21T08:02:45.123Z"))
    #expect(PostgresValues.value("2026-11-21 08:02:45+00", type: PostgresValues.timestamptz)
      == .text("2026-11-21T08:02:45.000Z"))
    #expect(PostgresValues.value("2026-11-21 08:02:45.123456+00", type: PostgresValues.timestamptz)
      == .text("2026-11-21T08:02:45.123Z"))
    #expect(PostgresValues.value("t", type: PostgresValues.bool) == .integer(1))
    #expect(PostgresValues.value("f", type: PostgresValues.bool) == .integer(0))
    #expect(PostgresValues.value("9007199254740993", type: PostgresValues.int8) == .integer(9_007_199_254_740_993))
    #expect(PostgresValues.value("0.1", type: PostgresValues.float8) == .real(0.1))
    #expect(PostgresValues.value("\\x00ff", type: PostgresValues.bytea) == .blob([0, 255]))
    #expect(PostgresValues.value("{\"a\": 1}", type: 3802) == .text("{\"a\": 1}"))
  }

  @Test func checksumsAgreeAcrossDialectsAndIgnoreRowOrder() {
    let kinds: [ColumnKind?] = [.integer, .boolean, .timestamp, .real, .text]
    var sqlite = Checksum()
    sqlite.add([.integer(1), .integer(1), .text("2026-11-21T08:02:45Z"), .real(6), .text("a")], kinds: kinds)
    sqlite.add([.integer(2), .integer(0), .null, .integer(6), .text("b")], kinds: kinds)
    var postgres = Checksum()
    postgres.add([.integer(2), .integer(0), .null, .real(6.0), .text("b")], kinds: kinds)
    postgres.add([.integer(1), .integer(1), .text("2026-11-21T08:02:45.000Z"), .real(6), .text("a")], kinds: kinds)
    #expect(sqlite == postgres)
    var changed = Checksum()
    changed.add([.integer(2), .integer(0), .null, .real(6.0), .text("B")], kinds: kinds)
    changed.add([.integer(1), .integer(1), .text("2026-11-21T08:02:45.000Z"), .real(6), .text("a")], kinds: kinds)
    #expect(changed != sqlite)
    // Values never run into each other: ("ab", "c") is not ("a", "bc").
    var left = Checksum(), right = Checksum()
    left.add([.text("ab"), .text("c")], kinds: [.text, .text])
    right.add([.text("a"), .text("bc")], kinds: [.text, .text])
    #expect(left != right)
  }

  @Test func theCanonicalSchemaPutsReferencedTablesFirst() throws {
    let schema = try CanonicalSchema()
    let order = schema.tablesInDependencyOrder
    func position(_ table: String) -> Int { order.firstIndex(of: table) ?? -1 }
    #expect(position("groups") < position("stations"))
    #expect(position("stations") < position("transactions"))
    #expect(position("local_list_contents") < position("local_lists"))
    #expect(position("transactions") < position("allocations"))
    #expect(schema.selfReferences["groups"]?.from == "parent_id")
    #expect(Set(order).count == order.count && order.contains("id_sequences"))
  }

  @Test func migrationSummariesNameEachStatement() {
    // A semicolon in a function body does not end the statement.
    let details = MigrationSummary.statements(PostgresSchema.stationDetails)
    #expect(details.contains("CREATE FUNCTION"))
    #expect(details.contains("CREATE TRIGGER groups_new_updated_at BEFORE INSERT ON"))
    #expect(!details.contains { $0.contains("RETURN") || $0.contains("END") || $0.hasPrefix("NEW.") })
    #expect(MigrationSummary.statements(Schema.v3) == [
      "CREATE TABLE alarms", "CREATE INDEX alarms_active ON alarms", "CREATE INDEX alarms_raised ON alarms",
      "ALTER TABLE transactions ADD COLUMN closed_by", "CREATE INDEX status_events_received ON status_events",
    ])
  }
}
