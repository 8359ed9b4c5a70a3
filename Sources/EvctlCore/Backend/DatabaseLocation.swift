/// Where a store lives, as named by `--db`, `EVCTL_DB` or `db copy --from/--to`.
///
/// `postgresql://…` and `postgres://…` name a PostgreSQL database (the URL is handed to libpq as
/// it is, so `PG*` variables and `~/.pgpass` fill in what it leaves out, as in `psql`);
/// `sqlite:FILE` or any other text names a SQLite file.
public enum DatabaseLocation: Equatable, Sendable, CustomStringConvertible {
  /// A SQLite file.
  case sqlite(path: String)
  /// A PostgreSQL connection URL.
  case postgresql(url: String)

  /// Reads a `--db` value.
  public init(_ text: String) {
    let lower = text.lowercased()
    if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") {
      self = .postgresql(url: text)
    } else if lower.hasPrefix("sqlite://") {
      self = .sqlite(path: String(text.dropFirst("sqlite://".count)))
    } else if lower.hasPrefix("sqlite:") {
      self = .sqlite(path: String(text.dropFirst("sqlite:".count)))
    } else {
      self = .sqlite(path: text)
    }
  }

  /// Whether this is a PostgreSQL database.
  public var isPostgreSQL: Bool {
    if case .postgresql = self { return true }
    return false
  }

  /// The location for messages and `db path`: a URL's password is replaced by `***`.
  public var description: String {
    switch self {
    case .sqlite(let path): return path
    case .postgresql(let url): return DatabaseLocation.redacting(url)
    }
  }

  /// `url` with the password of its user-info part (`user:secret@`) and any `password=` query
  /// parameter replaced by `***`.
  static func redacting(_ url: String) -> String {
    var text = url
    if let scheme = text.range(of: "://") {
      let rest = text[scheme.upperBound...]
      let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
      let authority = rest[..<authorityEnd]
      if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
        text.replaceSubrange(text.index(after: colon)..<at, with: "***")
      }
    }
    guard let query = text.firstIndex(of: "?") else { return text }
    let head = text[...query]
    let parameters = text[text.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false)
      .map { pair -> String in
        pair.lowercased().hasPrefix("password=") ? "password=***" : String(pair)
      }
    return head + parameters.joined(separator: "&")
  }
}
