import EvctlCore

/// `-o, --output`: how results are printed.
public enum OutputFormat: String, CaseIterable, Sendable {
  /// Aligned columns with a header. The default on a terminal.
  case table
  /// ``table`` with every column.
  case wide
  /// Tab-separated: the ``wide`` columns in the same order, a header only with `--headers`.
  /// The default when piped.
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
  /// The exact cell (wide, TSV, CSV); `nil` prints as `<none>` in tables and empty elsewhere.
  public let value: @Sendable (T) -> String?
  /// How plain `table` shows the cell for people (a relative time, `1h30m`), when it differs.
  public let human: (@Sendable (T, PeopleTime) -> String?)?
  /// Whether the cell carries colour escapes of our own (``Renderer/paint(_:)``), which
  /// control-character escaping must keep; paint escapes what it is given.
  public let painted: Bool
  /// Whether plain `table` may shorten the cell (`…`) to fit the terminal: free text such as names.
  public var flexible = false

  /// Creates a column.
  public init(_ key: String, brief: Bool = true, _ value: @escaping @Sendable (T) -> String?) {
    self.init(key, brief: brief, painted: false, human: nil, value)
  }

  /// Creates a column whose table form differs from its exact form.
  public init(
    _ key: String, brief: Bool = true, painted: Bool = false,
    human: (@Sendable (T, PeopleTime) -> String?)?, _ value: @escaping @Sendable (T) -> String?
  ) {
    self.key = key
    self.brief = brief
    self.value = value
    self.human = human
    self.painted = painted
  }

  /// This column, shortened in plain tables to fit the terminal.
  public func shortened() -> Column {
    var copy = self
    copy.flexible = true
    return copy
  }

  /// A time column: exact ISO 8601 UTC in machine formats, relative or short in tables.
  public static func time(_ key: String, brief: Bool = true, _ value: @escaping @Sendable (T) -> Timestamp?) -> Column {
    Column(key, brief: brief, human: { item, people in value(item).map(people.time) }) { value($0)?.iso8601 }
  }

  /// A duration in seconds: the number in machine formats, `1h30m` in tables.
  public static func duration(_ key: String, brief: Bool = true, _ value: @escaping @Sendable (T) -> Int64?) -> Column {
    Column(key, brief: brief, human: { item, people in value(item).map(people.duration) }) { value($0).map(String.init) }
  }
}
