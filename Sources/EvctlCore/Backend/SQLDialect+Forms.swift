/// The few SQL forms that differ between SQLite and PostgreSQL, written once so that a store's
/// statement reads the same on both with the difference named. SQLite's forms are exactly those
/// the stores used before PostgreSQL came.
extension SQLDialect {
  /// The case-insensitive collation: SQLite's `NOCASE`, the schema's ICU `evctl_nocase` on
  /// PostgreSQL (see ``PostgresSchema``).
  public var nocase: String {
    switch self {
    case .sqlite: return "COLLATE NOCASE"
    case .postgresql: return "COLLATE evctl_nocase"
    }
  }

  /// Byte-wise comparison, for a column compared with one under ``nocase``: on PostgreSQL the
  /// case-insensitive side would otherwise decide, and an index on the plain column (built
  /// with the database's collation) would not be used.
  public var binary: String {
    switch self {
    case .sqlite: return "COLLATE BINARY"
    case .postgresql: return "COLLATE \"default\""
    }
  }

  /// The time `seconds` seconds before the time `time` (both SQL expressions), comparable with
  /// stored times: ISO text on SQLite, `timestamptz` on PostgreSQL.
  public func time(_ time: String, minusSeconds seconds: String) -> String {
    switch self {
    case .sqlite: return "strftime('%Y-%m-%dT%H:%M:%fZ', \(time), '-' || (\(seconds)) || ' seconds')"
    case .postgresql: return "(CAST(\(time) AS timestamptz) - (\(seconds)) * interval '1 second')"
    }
  }

  /// The text of `key` in the JSON object held as text in `column` (`NULL` when absent).
  public func jsonText(_ column: String, key: String) -> String {
    switch self {
    case .sqlite: return "json_extract(\(column), '$.\(key)')"
    case .postgresql: return "(CAST(nullif(\(column), '') AS json) ->> '\(key)')"
    }
  }

  /// A subquery of the integers in the JSON array `parameter` (such as `?3`) holds, for
  /// `x IN (…)`.
  public func integers(inJSONArray parameter: String) -> String {
    switch self {
    case .sqlite: return "SELECT value FROM json_each(\(parameter))"
    case .postgresql: return "SELECT CAST(value AS bigint) FROM json_array_elements_text(CAST(\(parameter) AS json))"
    }
  }

  /// The start of an `INSERT` that skips rows whose key exists: finish the statement with
  /// ``insertOrIgnoreEnd``.
  public var insertOrIgnore: String {
    switch self {
    case .sqlite: return "INSERT OR IGNORE INTO"
    case .postgresql: return "INSERT INTO"
    }
  }

  /// The end of an ``insertOrIgnore`` statement.
  public var insertOrIgnoreEnd: String {
    switch self {
    case .sqlite: return ""
    case .postgresql: return " ON CONFLICT DO NOTHING"
    }
  }
}
