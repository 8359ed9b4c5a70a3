extension PostgresSchema {
  /// `db check` on PostgreSQL: the problems found, none when the database holds this evctl's
  /// schema intact. The server enforces foreign keys and page checksums itself, so this checks
  /// what it cannot know: the schema version, that every table and column of the SQLite schema
  /// is there (and nothing unknown beside them), and that no index was left invalid by a failed
  /// concurrent build.
  public static func check(_ db: PostgresConnection) throws -> [String] {
    var problems: [String] = []
    let version = try migrator.currentVersion(of: db)
    if version != migrator.latestVersion {
      problems.append("schema version \(version), this evctl's is \(migrator.latestVersion) (run 'evctl db migrate')")
      return problems
    }
    let canonical = try CanonicalSchema()
    var found: [String: Set<String>] = [:]
    for row in try db.query(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()", [])
    {
      found[row.string("table_name") ?? "", default: []].insert(row.string("column_name") ?? "")
    }
    found["evctl_schema_version"] = nil
    for table in canonical.tablesInDependencyOrder {
      guard let columns = found.removeValue(forKey: table) else {
        problems.append("table \(table) is missing")
        continue
      }
      let expected = Set(canonical.columns[table] ?? [])
      for column in expected.subtracting(columns).sorted() { problems.append("column \(table).\(column) is missing") }
      for column in columns.subtracting(expected).sorted() { problems.append("column \(table).\(column) is not evctl's") }
    }
    for table in found.keys.sorted() { problems.append("table \(table) is not evctl's") }
    for row in try db.query(
      """
      SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND NOT i.indisvalid ORDER BY 1
      """, [])
    {
      problems.append("index \(row.string("name") ?? "?") is invalid (rebuild it with REINDEX)")
    }
    return problems
  }
}
