/// The ends of a `db copy` as the CLI names them, so that it never holds a connection itself.
extension StoreCopy {
  /// The store a copy reads.
  public enum Source {
    /// An open SQLite store.
    case store(Store)
    /// A PostgreSQL database.
    case postgresql(PostgresConnection)

    var backend: any StoreBackend {
      switch self {
      case .store(let store): return store.db
      case .postgresql(let connection): return connection
      }
    }
  }

  /// Prepares a copy from `source` into `target`; nothing happens until ``run(commit:)``.
  public convenience init(from source: Source, to target: PostgresConnection) throws {
    try self.init(from: source.backend, to: target)
  }

  /// Copies `source` into the SQLite file at `path` (new and empty; the caller creates it with
  /// the mode it wants) and leaves everything in that one file: the write-ahead log is
  /// checkpointed and removed, so the file can be renamed into place. With `commit: false` the
  /// rows are verified and rolled back.
  public static func intoSQLiteFile(_ path: String, from source: Source, commit: Bool) throws -> [TableReport] {
    let target = try Connection(.path(path))
    let reports = try StoreCopy(from: source.backend, to: target).run(commit: commit)
    try target.execute("PRAGMA journal_mode = DELETE")
    return reports
  }
}
