/// `-o, --output`: how results are printed.
public enum OutputFormat: String, CaseIterable, Sendable {
  /// Aligned columns with a header. The default on a terminal.
  case table
  /// ``table`` with every column.
  case wide
  /// Tab-separated, every column, no header. The default when piped.
  case tsv
  /// RFC 4180 CSV with a header row.
  case csv
  /// Pretty-printed JSON, keys sorted, snake_case: the stable contract for scripts.
  case json
}

/// One column of table, TSV and CSV output.
public struct Column<T>: Sendable {
  /// The snake_case key, also the CSV header; the table header is its upper-case form.
  public let key: String
  /// Whether plain `table` shows it (`wide`, `tsv` and `csv` show every column).
  public let brief: Bool
  /// The cell; `nil` prints as `<none>` in tables and empty elsewhere.
  public let value: @Sendable (T) -> String?

  /// Creates a column.
  public init(_ key: String, brief: Bool = true, _ value: @escaping @Sendable (T) -> String?) {
    self.key = key
    self.brief = brief
    self.value = value
  }
}
