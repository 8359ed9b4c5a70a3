import Foundation
import Testing

/// SQL lives in Core's store types only (issue 14 item 1): the CLI, the server, the simulator
/// and main call typed store operations and never see a statement or the connection.
@Suite struct StoreBoundaryTests {
  /// The modules above Core.
  static let folders = ["Sources/EvctlCLI", "Sources/EvctlServer", "Sources/EvctlSimulator", "Sources/evctl"]

  /// What gives SQL or the connection away, each with what it means.
  static let patterns: [(regex: String, what: String)] = [
    (#"\bstore\.db\b|\)\.db\.|\bdb\.(query|queryOne|run|execute|transaction|prepare|forEachRow|tryBeginImmediate|backup|isInTransaction|lastInsertRowID)\b"#,
     "use of the store's connection"),
    (#"\bConnection\s*[(.]|:\s*Connection\b|\bStatement\s*\("#, "use of the SQLite connection type"),
    (#"Schema\.migrator\.migrate\("#, "migration on a connection"),
    (#""\s*(SELECT|INSERT|UPDATE|DELETE|PRAGMA|SAVEPOINT|ROLLBACK|RELEASE|BEGIN|COMMIT|CREATE|DROP|ALTER|WITH|REPLACE|VACUUM|ANALYZE)\b"#,
     "a string that starts with a SQL statement"),
    (#"\bSELECT\b.*\bFROM\b|\bINSERT\s+(OR\s+[A-Z]+\s+)?INTO\b|\bDELETE\s+FROM\b|\bUPDATE\s+\w+\s+SET\b|\bON\s+CONFLICT\b"#,
     "SQL text"),
    (#"^\s*(SELECT|FROM|WHERE|JOIN|LEFT JOIN|UNION ALL|ORDER BY|GROUP BY|VALUES|SET)\b"#,
     "a line of a SQL statement"),
  ]

  /// The lines of `text` that break the rule, as "LINE: what: text" (comments are ignored).
  static func violations(in text: String) -> [String] {
    var found: [String] = []
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.hasPrefix("//") { continue }
      let code = String(line)
      for pattern in patterns where code.range(of: pattern.regex, options: .regularExpression) != nil {
        found.append("\(number + 1): \(pattern.what): \(trimmed)")
      }
    }
    return found
  }

  @Test func theScanRecognisesSQLAndConnectionUse() {
    let sample = """
      let rows = try store.db.query("SELECT id FROM stations WHERE identity = ?", [identity])
      try central.store.db.execute("COMMIT")
      let connection = try Connection(.path(path))
      try Schema.migrator.migrate(db)
      let text = \"\"\"
        INSERT INTO events (kind) VALUES (?)
        \"\"\"
      try store.recordEvent(stationID: 1, identity: "CP", kind: "boot", detail: nil, at: now)
      // SELECT in a comment is fine
      """
    let found = Self.violations(in: sample)
    #expect(found.contains { $0.hasPrefix("1: use of the store's connection") })
    #expect(found.contains { $0.hasPrefix("1: SQL text") })
    #expect(found.contains { $0.hasPrefix("2: a string that starts with a SQL statement") })
    #expect(found.contains { $0.hasPrefix("3: use of the SQLite connection type") })
    #expect(found.contains { $0.hasPrefix("4: migration on a connection") })
    #expect(found.contains { $0.hasPrefix("6: SQL text") })
    #expect(!found.contains { $0.hasPrefix("8:") || $0.hasPrefix("9:") })
  }

  @Test func noSQLOrConnectionOutsideCore() throws {
    var problems: [String] = []
    var scanned = 0
    for folder in Self.folders {
      let root = BinaryTests.root + "/" + folder
      guard let walker = FileManager.default.enumerator(atPath: root) else {
        problems.append("\(folder): cannot be read")
        continue
      }
      for case let path as String in walker where path.hasSuffix(".swift") {
        let text = try String(contentsOfFile: root + "/" + path, encoding: .utf8)
        scanned += 1
        problems += Self.violations(in: text).map { "\(folder)/\(path):\($0)" }
      }
    }
    #expect(scanned > 50, "the scan found only \(scanned) source files")
    #expect(problems.isEmpty, Comment(rawValue: "SQL belongs in Core's store types:\n" + problems.joined(separator: "\n")))
  }
}
