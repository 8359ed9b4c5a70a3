import Foundation
import Testing

@testable import EvctlCore

/// A live PostgreSQL server for the backend's tests: `Tests/run.sh` starts a throwaway cluster
/// (`Tests/peer/pgcluster.py start`) and exports its URL; each test works in a schema of its own.
enum LivePostgres {
  static let url = ProcessInfo.processInfo.environment["EVCTL_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

  static func connection() throws -> PostgresConnection {
    let db = try PostgresConnection(url: try #require(url))
    let schema = "t_" + Crypto.hex(Crypto.randomBytes(6))
    try db.execute("CREATE SCHEMA \(schema); SET search_path = \(schema)")
    return db
  }
}

@Suite(.enabled(if: LivePostgres.url != nil, "needs EVCTL_TEST_POSTGRES_URL (Tests/run.sh starts a cluster)"))
struct PostgresConnectionTests {
  @Test func valuesOfEveryKindRoundTripThroughParameters() throws {
    let db = try LivePostgres.connection()
    try db.execute("""
      CREATE TABLE t (i bigint, r double precision, s text, b boolean, at timestamptz, x bytea, j jsonb, n text)
      """)
    let changed = try db.run(
      "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      [SQLiteValue.integer(9_007_199_254_740_993), .real(0.1), .text("é '?' \"x\""), .integer(1),
       .text("2026-11-21T08:02:45.123Z"), .blob([0, 1, 255]), .text("{\"idTag\": \"A\"}"), .null])
    #expect(changed == 1)
    let row = try #require(try db.query("SELECT * FROM t WHERE s = ? AND b", ["é '?' \"x\""]).first)
    #expect(row.values == [
      .integer(9_007_199_254_740_993), .real(0.1), .text("é '?' \"x\""), .integer(1),
      .text("2026-11-21T08:02:45.123Z"), .blob([0, 1, 255]), .text("{\"idTag\": \"A\"}"), .null,
    ])
    #expect(row.bool("b") && row.date("at") == Timestamp(parsing: "2026-11-21T08:02:45.123Z"))
    #expect(try db.query("SELECT j ->> 'idTag' AS tag FROM t").first?.string("tag") == "A")
  }

  @Test func errorsCarryTheirSQLStateAndMapToStoreErrors() throws {
    let db = try LivePostgres.connection()
    try db.execute("CREATE TABLE u (k text PRIMARY KEY, n integer CHECK (n > 0))")
    try db.run("INSERT INTO u VALUES (?, ?)", ["a", 1])
    do {
      try db.run("INSERT INTO u VALUES (?, ?)", ["a", 2])
      Issue.record("a duplicate key was accepted")
    } catch let error as PostgresError {
      #expect(error.isUniqueViolation && error.sqlState == "23505")
      if case .conflict? = error.storeError {} else { Issue.record("\(String(describing: error.storeError))") }
    }
    do {
      try db.run("INSERT INTO u VALUES (?, ?)", ["b", 0])
      Issue.record("a failing CHECK was accepted")
    } catch let error as PostgresError {
      #expect(error.storeError == .invalid(error.message))
    }
    do {
      try db.query("SELEKT 1", [])
      Issue.record("bad SQL ran")
    } catch let error as PostgresError {
      #expect(error.sqlState == "42601" && error.storeError == nil && error.sql == "SELEKT 1")
    }
    // The connection is still usable after errors.
    #expect(try db.query("SELECT count(*) AS n FROM u").first?.int("n") == 1)
  }

  @Test func transactionsCommitRollBackAndNest() throws {
    let db = try LivePostgres.connection()
    try db.execute("CREATE TABLE v (n integer)")
    struct Stop: Error {}
    #expect(throws: Stop.self) {
      try db.transaction {
        try db.run("INSERT INTO v VALUES (?)", [1])
        _ = try db.transaction { try db.run("INSERT INTO v VALUES (?)", [2]) }
        throw Stop()
      }
    }
    #expect(!db.isInTransaction)
    #expect(try db.query("SELECT count(*) AS n FROM v").first?.int("n") == 0)
    _ = try db.transaction { try db.run("INSERT INTO v VALUES (?)", [3]) }
    #expect(try db.query("SELECT n FROM v").map { $0.int("n") } == [3])
  }

  @Test func forEachRowStreamsAndStopsCleanlyWhenTheBodyThrows() throws {
    let db = try LivePostgres.connection()
    var sum = 0
    try db.forEachRow("SELECT g AS n FROM generate_series(1, ?) AS g", [10_000]) { sum += $0.int("n") ?? 0 }
    #expect(sum == 50_005_000)
    struct Enough: Error {}
    var seen = 0
    #expect(throws: Enough.self) {
      try db.forEachRow("SELECT g FROM generate_series(1, 1000000) AS g", []) { _ in
        seen += 1
        if seen == 3 { throw Enough() }
      }
    }
    #expect(seen == 3)
    #expect(try db.query("SELECT 1 AS one").first?.int("one") == 1)
  }

  @Test func theMigrationsBuildSQLitesTablesAndColumnsOnceUnderTheLock() throws {
    let db = try LivePostgres.connection()
    #expect(try PostgresSchema.migrator.currentVersion(of: db) == 0)
    #expect(try PostgresSchema.migrator.pending(in: db) == Array(1...Schema.migrator.latestVersion))
    #expect(try PostgresSchema.migrator.migrate(db) == Schema.migrator.latestVersion)
    #expect(try PostgresSchema.migrator.migrate(db) == 0)
    #expect(try PostgresSchema.migrator.currentVersion(of: db) == Schema.migrator.latestVersion)
    let canonical = try CanonicalSchema()
    var found: [String: Set<String>] = [:]
    for row in try db.query(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()", [])
    {
      found[row.string("table_name") ?? "", default: []].insert(row.string("column_name") ?? "")
    }
    found["evctl_schema_version"] = nil
    #expect(Set(found.keys) == Set(canonical.tablesInDependencyOrder))
    for table in canonical.tablesInDependencyOrder {
      #expect(found[table] == Set(canonical.columns[table] ?? []), "\(table)")
    }
    // A database from a newer evctl is refused, not downgraded.
    try db.run("UPDATE evctl_schema_version SET version = version + 1", [])
    #expect(throws: StoreError.schemaTooNew(found: Schema.migrator.latestVersion + 1, supported: Schema.migrator.latestVersion)) {
      try PostgresSchema.migrator.migrate(db)
    }
  }

  @Test func aStoreCopiedThroughPostgreSQLComesBackTheSame() throws {
    let store = try Store(.memory)
    let now = Timestamp(parsing: "2026-11-21T08:00:00Z")!
    store.clock = { now }
    let hq = try store.db.run("INSERT INTO groups (id, name, created_at) VALUES (7, 'HQ', ?)", [now.iso8601])
    #expect(hq == 1)
    // A child with a lower id than its parent: the copy must still insert the parent first.
    try store.db.run("INSERT INTO groups (id, name, parent_id, created_at) VALUES (3, 'Floor', 7, ?)", [now.iso8601])
    try store.db.run(
      "INSERT INTO stations (identity, name, group_id, connected, public, created_at, updated_at, last_seen_at) VALUES ('CP-1', 'Gate', 3, 1, 0, ?, ?, ?)",
      [now.iso8601, now.iso8601, "2026-11-21T08:00:01Z"])
    try store.db.run(
      "INSERT INTO meter_values (station_id, connector_id, sampled_at, measurand, value, numeric_value) VALUES (1, 1, ?, 'Power', '1.5', 1.5)",
      [now.iso8601])
    let postgres = try LivePostgres.connection()
    let there = try StoreCopy(from: store.db, to: postgres).run()
    #expect(try postgres.query("SELECT connected, public FROM stations").first?.values == [.integer(1), .integer(0)])
    #expect(try postgres.query("SELECT last_seen_at FROM stations").first?.string("last_seen_at") == "2026-11-21T08:00:01.000Z")
    let back = try Connection(.memory)
    let again = try StoreCopy(from: postgres, to: back).run()
    #expect(again == there)
    for table in ["groups", "stations", "meter_values", "id_sequences"] {
      #expect(try back.query("SELECT * FROM \(table) ORDER BY 1").map(\.values)
        == (try store.db.query("SELECT * FROM \(table) ORDER BY 1").map(\.values).map { values in
          values.map { value -> SQLiteValue in
            // The copy stores every time in the one stored form, with milliseconds.
            if case .text(let text) = value, let time = Timestamp(parsing: text), text.hasSuffix("Z") {
              return .text(time.iso8601)
            }
            return value
          }
        }), "\(table)")
    }
    // Copying again into the same, now full, database is refused and changes nothing.
    #expect(throws: StoreError.self) { try StoreCopy(from: store.db, to: postgres).run() }
    #expect(try postgres.query("SELECT count(*) AS n FROM groups").first?.int("n") == 2)
  }

  @Test func mailAndCertificateRowsCopyThroughPostgreSQLWithTheirTypes() throws {
    let store = try Store(.memory)
    let now = "2026-11-21T08:00:00.000Z"
    try store.db.run(
      "INSERT INTO stations (identity, name, created_at, updated_at) VALUES ('CP-1', 'Gate', ?, ?)", [now, now])
    try store.db.run(
      """
      INSERT INTO operators (email, name, role, created_at, updated_at, alarm_mail, alarm_mail_hour, last_digest_on)
      VALUES ('ann@example.com', 'Ann', 'admin', ?, ?, 'daily', 6, '2026-11-20')
      """, [now, now])
    try store.db.run(
      "INSERT INTO operator_codes (operator_id, purpose, code_hash, created_at, expires_at) VALUES (1, 'invite', 'h', ?, ?)",
      [now, "2026-11-23T08:00:00.000Z"])
    try store.db.run(
      """
      INSERT INTO mail_outbox (operator_id, recipient, kind, subject, body, attempts, next_attempt_at, created_at)
      VALUES (1, 'ann@example.com', 'digest', 'Alarms', 'None', 2, ?, ?)
      """, [now, now])
    try store.db.run(
      """
      INSERT INTO station_certificates (station_id, source, certificate_type, serial, not_after, first_seen_at, last_seen_at)
      VALUES (1, 'issued', 'ChargingStationCertificate', '0A', '2027-11-21T08:00:00.000Z', ?, ?)
      """, [now, now])
    try store.db.run(
      "INSERT INTO certificate_requests (station_id, csr, state, received_at, certificate_id) VALUES (1, 'PEM', 'signed', ?, 1)",
      [now])
    try store.db.run("INSERT INTO station_links (station_id, tls, connected_at) VALUES (1, 1, ?)", [now])
    try store.db.run("INSERT INTO station_security_profiles (station_id, profile, updated_at) VALUES (1, 2, ?)", [now])
    let postgres = try LivePostgres.connection()
    try StoreCopy(from: store.db, to: postgres).run()
    var types: [String: String] = [:]
    for row in try postgres.query(
      "SELECT table_name || '.' || column_name AS name, data_type FROM information_schema.columns WHERE table_schema = current_schema()", [])
    {
      types[row.string("name") ?? ""] = row.string("data_type")
    }
    #expect(types["station_links.tls"] == "boolean")
    #expect(types["station_certificates.not_after"] == "timestamp with time zone")
    #expect(types["mail_outbox.next_attempt_at"] == "timestamp with time zone")
    #expect(types["operator_codes.expires_at"] == "timestamp with time zone")
    #expect(types["station_certificates.id"] == "bigint" && types["mail_outbox.id"] == "bigint")
    #expect(types["operators.last_digest_on"] == "text")
    #expect(try postgres.query("SELECT count(*) AS n FROM station_links WHERE tls").first?.int("n") == 1)
    // Identities carry on after the copied rows.
    try postgres.run(
      "INSERT INTO mail_outbox (recipient, kind, subject, body, next_attempt_at, created_at) VALUES ('b@example.com', 'alarm', 's', 'b', ?, ?)",
      [now, now])
    #expect(try postgres.query("SELECT max(id) AS id FROM mail_outbox").first?.int("id") == 2)
    try postgres.run("DELETE FROM mail_outbox WHERE id = 2", [])
    let back = try Connection(.memory)
    try StoreCopy(from: postgres, to: back).run()
    for table in ["operators", "operator_codes", "mail_outbox", "station_certificates", "certificate_requests",
                  "station_links", "station_security_profiles"] {
      #expect(try back.query("SELECT * FROM \(table) ORDER BY 1").map(\.values)
        == (try store.db.query("SELECT * FROM \(table) ORDER BY 1").map(\.values)), "\(table)")
    }
  }

  @Test func stationDetailsAndFileGrantsCopyThroughPostgreSQLAndItFillsUUIDsAsSQLiteDoes() throws {
    let store = try Store(.memory)
    let now = "2026-11-21T08:00:00.000Z"
    try store.db.run("INSERT INTO groups (name, address, latitude, longitude, created_at) VALUES ('HQ', 'Main St 1', 60.17, 24.94, ?)", [now])
    try store.db.run(
      """
      INSERT INTO stations (identity, name, group_id, password_hash, created_at, updated_at, address, latitude, longitude,
        external_id, max_current, security_profile)
      VALUES ('CP-1', 'Gate', 1, 'h', ?, ?, 'Dock 4', 60.1699, 24.9384, 'EXT-1', 32.5, 2)
      """, [now, now])
    try store.db.run("INSERT INTO connectors (station_id, connector_id, external_id) VALUES (1, 1, 'EXT-1-1')", [])
    try store.db.run(
      "INSERT INTO file_grants (token, station_id, kind, name, created_at, expires_at, closed_at) VALUES ('t0k3n', 1, 'upload', 'diag.zip', ?, ?, ?)",
      [now, "2026-11-21T09:00:00.000Z", now])
    let uuid = try #require(try store.db.query("SELECT uuid FROM stations").first?.string("uuid"))
    let postgres = try LivePostgres.connection()
    try StoreCopy(from: store.db, to: postgres).run()
    var types: [String: String] = [:]
    for row in try postgres.query(
      "SELECT table_name || '.' || column_name AS name, data_type FROM information_schema.columns WHERE table_schema = current_schema()", [])
    {
      types[row.string("name") ?? ""] = row.string("data_type")
    }
    #expect(types["stations.latitude"] == "double precision" && types["stations.max_current"] == "double precision")
    #expect(types["stations.uuid"] == "text" && types["connectors.uuid"] == "text")
    #expect(types["groups.updated_at"] == "timestamp with time zone")
    #expect(types["stations.security_profile"] == "integer")
    #expect(types["file_grants.expires_at"] == "timestamp with time zone")
    #expect(try postgres.query("SELECT uuid FROM stations").first?.string("uuid") == uuid)
    // What SQLite's triggers fill in, PostgreSQL fills in too: UUIDs (also for an explicit NULL)
    // and a group's updated_at.
    try postgres.run("INSERT INTO stations (identity, name, created_at, updated_at) VALUES ('CP-2', 'b', ?, ?)", [now, now])
    try postgres.run("INSERT INTO stations (identity, name, created_at, updated_at, uuid) VALUES ('CP-3', 'c', ?, ?, NULL)", [now, now])
    try postgres.run("INSERT INTO connectors (station_id, connector_id, uuid) VALUES (2, 1, NULL)", [])
    try postgres.run("INSERT INTO groups (name, created_at) VALUES ('Depot', ?)", [now])
    let filled = try postgres.query("SELECT uuid FROM stations WHERE identity <> 'CP-1' UNION ALL SELECT uuid FROM connectors WHERE station_id = 2")
      .compactMap { $0.string("uuid") }
    #expect(filled.count == 3 && Set(filled).count == 3)
    #expect(filled.allSatisfy { $0.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", options: .regularExpression) != nil })
    #expect(try postgres.query("SELECT updated_at FROM groups WHERE name = 'Depot'").first?.string("updated_at") == now)
    try postgres.run("DELETE FROM groups WHERE name = 'Depot'", [])
    try postgres.run("DELETE FROM stations WHERE identity <> 'CP-1'", [])
    let back = try Connection(.memory)
    try StoreCopy(from: postgres, to: back).run()
    for table in ["groups", "stations", "connectors", "file_grants"] {
      #expect(try back.query("SELECT * FROM \(table) ORDER BY 1").map(\.values)
        == (try store.db.query("SELECT * FROM \(table) ORDER BY 1").map(\.values)), "\(table)")
    }
  }
}
