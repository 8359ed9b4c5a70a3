/// `db copy`: moves a whole store from one backend to another (SQLite ↔ PostgreSQL, or between
/// two of a kind), all or nothing, verified by row counts and checksums.
///
/// The target is migrated to the current schema and filled inside one transaction; before it
/// commits, every table's row count and checksum are read back from the target and compared
/// with the source's, which is read in one snapshot (so `serve` may keep writing it). Any
/// difference, constraint failure or value the target's types refuse rolls everything back.
public final class StoreCopy {
  /// What was copied from one table.
  public struct TableReport: Equatable, Sendable {
    /// The table.
    public let table: String
    /// Rows copied (the same in source and target).
    public let rows: Int
    /// The order-independent checksum both sides agree on (hex).
    public let checksum: String
  }

  private let source: any StoreBackend
  private let target: any StoreBackend
  private let schema: CanonicalSchema

  /// Prepares a copy between two open backends; nothing happens until ``run(commit:)``.
  public init(from source: any StoreBackend, to target: any StoreBackend) throws {
    self.source = source
    self.target = target
    schema = try CanonicalSchema()
  }

  /// Copies, verifies and commits (or, with `commit: false`, rolls the target back after
  /// verifying: `--dry-run`).
  ///
  /// - Throws: ``StoreError/conflict(_:)`` when the source's schema is not current, the target
  ///   already holds data, or the verification fails; backend errors for rows the target refuses.
  @discardableResult
  public func run(commit: Bool = true) throws -> [TableReport] {
    try requireCurrentSchema(source, role: "source")
    try beginSnapshot()
    defer { try? source.execute("ROLLBACK") }
    try target.execute(target.dialect == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN")
    do {
      try migrateTarget()
      try requireEmptyTarget()
      let kinds = try columnKinds()
      var reports: [TableReport] = []
      for table in schema.tablesInDependencyOrder {
        let columns = schema.columns[table] ?? []
        let sourceSum = try naming(table) { try copyTable(table, columns: columns, kinds: kinds) }
        let targetSum = try checksum(of: target, table: table, columns: columns, kinds: kinds)
        guard sourceSum == targetSum else {
          throw StoreError.conflict(
            "db copy: verification failed for table \(table): source has \(sourceSum.rows) row(s), checksum \(sourceSum.hex); target has \(targetSum.rows), checksum \(targetSum.hex); nothing was written")
        }
        reports.append(TableReport(table: table, rows: sourceSum.rows, checksum: sourceSum.hex))
      }
      try resetIdentities()
      try target.execute(commit ? "COMMIT" : "ROLLBACK")
      return reports
    } catch {
      try? target.execute("ROLLBACK")
      throw error
    }
  }

  /// Runs `body`, saying in a database error which table it was copying.
  private func naming<T>(_ table: String, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as PostgresError {
      throw PostgresError(
        sqlState: error.sqlState, message: "db copy: table \(table): \(error.message); nothing was written",
        sql: error.sql, isConnectionFailure: error.isConnectionFailure)
    } catch let error as SQLiteError {
      throw SQLiteError(
        code: error.code, message: "db copy: table \(table): \(error.message); nothing was written", sql: error.sql)
    }
  }

  // MARK: Schema and snapshot

  /// The schema version a backend records, whatever its dialect.
  static func schemaVersion(of backend: any StoreBackend) throws -> Int {
    if let connection = backend as? Connection { return try Schema.migrator.currentVersion(of: connection) }
    if let connection = backend as? PostgresConnection {
      return try PostgresSchema.migrator.currentVersion(of: connection)
    }
    throw StoreError.notSupported("a store backend other than SQLite and PostgreSQL")
  }

  private func requireCurrentSchema(_ backend: any StoreBackend, role: String) throws {
    let version = try StoreCopy.schemaVersion(of: backend)
    let latest = Schema.migrator.latestVersion
    if version == 0 { throw StoreError.conflict("db copy: the \(role) holds no evctl store (schema version 0)") }
    guard version == latest else {
      throw StoreError.conflict(
        "db copy: the \(role)'s schema is version \(version), this evctl's is \(latest); run 'evctl db migrate' on it first")
    }
  }

  private func beginSnapshot() throws {
    switch source.dialect {
    case .sqlite: try source.execute("BEGIN DEFERRED")
    case .postgresql: try source.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    }
  }

  private func migrateTarget() throws {
    if let connection = target as? Connection {
      try Schema.migrator.migrate(connection)
    } else if let connection = target as? PostgresConnection {
      try PostgresSchema.migrator.migrate(connection)
    }
    try requireCurrentSchema(target, role: "target")
  }

  /// The target may hold the schema but no rows, except what migrations themselves insert
  /// (`id_sequences`), which the copy replaces.
  private func requireEmptyTarget() throws {
    for table in schema.tablesInDependencyOrder where table != "id_sequences" {
      let count = try target.query("SELECT count(*) AS n FROM \(quoted(table))", []).first?.int("n") ?? 0
      if count > 0 {
        throw StoreError.conflict(
          "db copy: the target already holds data (table \(table) has \(count) row(s)); copy into an empty database or a new file")
      }
    }
    try target.run("DELETE FROM id_sequences", [])
  }

  /// How to compare each column's values across dialects, read from the PostgreSQL side's
  /// catalog (SQLite to SQLite compares values as they are). Also checks that the PostgreSQL
  /// schema has exactly SQLite's tables and columns.
  private func columnKinds() throws -> [String: [String: ColumnKind]] {
    guard let postgres = [source, target].first(where: { $0.dialect == .postgresql }) else { return [:] }
    var kinds: [String: [String: ColumnKind]] = [:]
    for row in try postgres.query(
      "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()",
      [])
    {
      guard let table = row.string("table_name"), let column = row.string("column_name") else { continue }
      kinds[table, default: [:]][column] = ColumnKind(postgresType: row.string("data_type") ?? "")
    }
    for table in schema.tablesInDependencyOrder {
      let expected = Set(schema.columns[table] ?? [])
      let found = Set((kinds[table] ?? [:]).keys)
      guard expected == found else {
        let missing = expected.subtracting(found).sorted(), extra = found.subtracting(expected).sorted()
        throw StoreError.conflict(
          "db copy: the PostgreSQL schema differs from SQLite's in table \(table) (missing: \(missing.joined(separator: ", ")); extra: \(extra.joined(separator: ", ")))")
      }
    }
    return kinds
  }

  // MARK: Rows

  private func copyTable(
    _ table: String, columns: [String], kinds: [String: [String: ColumnKind]]
  ) throws -> Checksum {
    var sum = Checksum()
    let columnKinds = columns.map { kinds[table]?[$0] }
    let select = "SELECT \(columns.map(quoted).joined(separator: ", ")) FROM \(quoted(table))"
    let batchSize = target.dialect == .postgresql ? max(1, min(500, 30_000 / max(columns.count, 1))) : 1
    var batch: [[SQLiteValue]] = []
    func flush() throws {
      guard !batch.isEmpty else { return }
      let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
      let sql = "INSERT INTO \(quoted(table)) (\(columns.map(quoted).joined(separator: ", "))) VALUES "
        + Array(repeating: row, count: batch.count).joined(separator: ", ")
      try target.run(sql, batch.flatMap { $0 })
      batch.removeAll(keepingCapacity: true)
    }
    func take(_ values: [SQLiteValue]) throws {
      sum.add(values, kinds: columnKinds)
      batch.append(values)
      if batch.count >= batchSize { try flush() }
    }
    if let selfReference = schema.selfReferences[table] {
      // Parents before children (groups.parent_id), whatever their ids.
      let rows = try source.query(select, []).map(\.values)
      for values in try parentsFirst(rows, columns: columns, reference: selfReference) { try take(values) }
    } else {
      try source.forEachRow(select, []) { try take($0.values) }
    }
    try flush()
    return sum
  }

  private func parentsFirst(
    _ rows: [[SQLiteValue]], columns: [String], reference: (from: String, to: String)
  ) throws -> [[SQLiteValue]] {
    guard let from = columns.firstIndex(of: reference.from), let to = columns.firstIndex(of: reference.to)
    else { return rows }
    var placed = Set<SQLiteValue.Key>()
    var remaining = rows
    var ordered: [[SQLiteValue]] = []
    let present = Set(rows.map { SQLiteValue.Key($0[to]) })
    while !remaining.isEmpty {
      var next: [[SQLiteValue]] = []
      for row in remaining {
        let parent = SQLiteValue.Key(row[from])
        if row[from] == .null || placed.contains(parent) || !present.contains(parent) {
          ordered.append(row)
          placed.insert(SQLiteValue.Key(row[to]))
        } else {
          next.append(row)
        }
      }
      if next.count == remaining.count {
        // A cycle: the target's foreign key will refuse it and name the table.
        ordered += next
        break
      }
      remaining = next
    }
    return ordered
  }

  private func checksum(
    of backend: any StoreBackend, table: String, columns: [String], kinds: [String: [String: ColumnKind]]
  ) throws -> Checksum {
    var sum = Checksum()
    let columnKinds = columns.map { kinds[table]?[$0] }
    try backend.forEachRow(
      "SELECT \(columns.map(quoted).joined(separator: ", ")) FROM \(quoted(table))", []
    ) { sum.add($0.values, kinds: columnKinds) }
    return sum
  }

  /// PostgreSQL identities continue after the copied ids, as SQLite's rowids do.
  private func resetIdentities() throws {
    guard target.dialect == .postgresql else { return }
    for row in try target.query(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'",
      [])
    {
      guard let table = row.string("table_name"), let column = row.string("column_name") else { continue }
      try target.query(
        "SELECT setval(pg_get_serial_sequence(?, ?), coalesce(max(\(quoted(column))), 0) + 1, false) FROM \(quoted(table))",
        [quoted(table), column])
    }
  }

  private func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

/// How a column's values are compared across dialects.
enum ColumnKind: Equatable {
  case integer, real, boolean, timestamp, text, other

  init(postgresType: String) {
    switch postgresType {
    case "bigint", "integer", "smallint": self = .integer
    case "double precision", "real", "numeric": self = .real
    case "boolean": self = .boolean
    case "timestamp with time zone", "timestamp without time zone": self = .timestamp
    case "text", "character varying", "character", "json", "jsonb": self = .text
    default: self = .other
    }
  }
}

/// An order-independent checksum of a table: the lane-wise sum of each row's SHA-256, so that
/// both sides agree whatever order their rows come in.
struct Checksum: Equatable {
  private(set) var rows = 0
  private var lanes: [UInt64] = [0, 0, 0, 0]

  mutating func add(_ values: [SQLiteValue], kinds: [ColumnKind?]) {
    var bytes: [UInt8] = []
    for (index, value) in values.enumerated() {
      let text = Checksum.canonical(value, kind: index < kinds.count ? kinds[index] : nil)
      bytes += Array(String(text.utf8.count).utf8)
      bytes.append(58)
      bytes += Array(text.utf8)
    }
    let digest = Crypto.sha256(bytes)
    for lane in 0..<4 {
      var word: UInt64 = 0
      for byte in digest[(lane * 8)..<(lane * 8 + 8)] { word = word << 8 | UInt64(byte) }
      lanes[lane] = lanes[lane] &+ word
    }
    rows += 1
  }

  var hex: String { lanes.map { lane in let h = String(lane, radix: 16); return String(repeating: "0", count: 16 - h.count) + h }.joined() }

  /// One value as both dialects agree to write it: booleans as 0/1, times as stored ISO text,
  /// numbers by value.
  static func canonical(_ value: SQLiteValue, kind: ColumnKind?) -> String {
    if value == .null { return "N" }
    switch kind {
    case .boolean?: return "b" + ((value.int ?? 0) != 0 ? "1" : "0")
    case .timestamp?:
      let text = value.string ?? ""
      return "t" + (Timestamp(parsing: text)?.iso8601 ?? text)
    case .integer?: return value.int.map { "i\($0)" } ?? "s" + (value.string ?? "")
    case .real?: return value.double.map { "r\($0)" } ?? "s" + (value.string ?? "")
    case .text?: return "s" + (value.string ?? "")
    case .other?, nil:
      switch value {
      case .integer(let v): return "i\(v)"
      case .real(let v): return "r\(v)"
      case .text(let v): return "s" + v
      case .blob(let v): return "x" + Crypto.hex(v)
      case .null: return "N"
      }
    }
  }
}

extension SQLiteValue {
  /// A hashable stand-in for a key value (ids compare by their text across types).
  struct Key: Hashable {
    let text: String?
    init(_ value: SQLiteValue) { text = value.string }
  }
}

/// The tables, columns and references of the current schema, read from a SQLite database in
/// memory migrated to the latest version: the one description both dialects are held to.
struct CanonicalSchema {
  let tablesInDependencyOrder: [String]
  let columns: [String: [String]]
  let selfReferences: [String: (from: String, to: String)]

  init() throws {
    let db = try Connection(.memory)
    try Schema.migrator.migrate(db)
    let tables = try db.query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).compactMap { $0.string("name") }
    var columns: [String: [String]] = [:]
    var references: [String: Set<String>] = [:]
    var selfReferences: [String: (from: String, to: String)] = [:]
    for table in tables {
      columns[table] = try db.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [table])
        .compactMap { $0.string("name") }
      for row in try db.query("SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?)", [table]) {
        guard let parent = row.string("table") else { continue }
        if parent == table {
          selfReferences[table] = (row.string("from") ?? "", row.string("to") ?? "id")
        } else {
          references[table, default: []].insert(parent)
        }
      }
    }
    // Referenced tables first; ties by name, so the order is stable.
    var ordered: [String] = []
    var done = Set<String>()
    var remaining = tables
    while !remaining.isEmpty {
      let ready = remaining.filter { (references[$0] ?? []).isSubset(of: done) }
      let batch = ready.isEmpty ? [remaining[0]] : ready
      ordered += batch
      done.formUnion(batch)
      remaining.removeAll { done.contains($0) }
    }
    tablesInDependencyOrder = ordered
    self.columns = columns
    self.selfReferences = selfReferences
  }
}
