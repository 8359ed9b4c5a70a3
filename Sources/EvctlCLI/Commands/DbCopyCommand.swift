import EvctlCore
import Foundation

extension Commands {
  static let dbCopy: CommandSpec = CommandSpec(
    "copy", abstract: "Copy a whole store between SQLite and PostgreSQL, verified",
    discussion: """
      Copies every table from --from to --to: sqlite:FILE (or a plain path) or a
      postgresql://… URL (postgres:// too; PG* variables and ~/.pgpass fill in what the URL
      leaves out, as for psql). The target is a new SQLite file or a PostgreSQL database without
      evctl data; it gets the current schema and the rows in one transaction, and before that
      commits, each table's row count and checksum are read back and compared with the
      source's. Any difference or refused row rolls everything back: the target is left as it
      was (a SQLite target file is not created). The source is read in one snapshot, so serve
      may keep running on it; rows it writes after the snapshot are not copied.
      """,
    arguments: [
      .option("from", value: "store", help: "The store to read: sqlite:FILE, FILE or postgresql://…", required: true,
              completion: .file),
      .option("to", value: "store", help: "The store to create: sqlite:FILE, FILE or postgresql://…", required: true,
              completion: .file),
    ],
    examples: [
      .init("Move to PostgreSQL", "evctl db copy --from sqlite:/var/lib/evctl/evctl.db --to postgresql://evctl@db.example/evctl"),
      .init("And back, into a new file", "evctl db copy --from postgresql://evctl@db.example/evctl --to sqlite:evctl.db"),
    ]
  ) { inv in
    try inv.supportsOnly([.table, .json])
    let context = inv.context
    let from = DatabaseLocation(inv.arguments.option("from") ?? "")
    let to = DatabaseLocation(inv.arguments.option("to") ?? "")
    if from == to {
      throw UsageError(message: "--from and --to name the same store (\(from))", commandPath: inv.arguments.path)
    }
    // The source: a SQLite file that exists (its administrator only, when a session or token
    // acts), or a PostgreSQL database (its roles decide).
    let source: StoreCopy.Source
    switch from {
    case .sqlite(let path):
      guard FileManager.default.fileExists(atPath: path) else {
        throw CLIError.notFound("no store at \(path)", hint: "--from names the store to copy; check the path")
      }
      let store = try Store(.path(path), migrate: false)
      store.actor = try context.resolveActor(store, path: path)
      try store.requireStoreAdministrator(to: "copy the whole store")
      source = .store(store)
    case .postgresql(let url):
      source = .postgresql(try PostgresConnection(url: url))
    }
    let reports: [StoreCopy.TableReport]
    switch to {
    case .postgresql(let url):
      reports = try StoreCopy(from: source, to: try PostgresConnection(url: url)).run(commit: !context.isDryRun)
    case .sqlite(let path):
      reports = try copyIntoNewFile(path, from: source, commit: !context.isDryRun)
    }
    guard !context.isQuiet else { return }
    let total = reports.reduce(0) { $0 + $1.rows }
    if context.requestedFormat == .json {
      let body: JSONValue = [
        "from": .string(from.description), "to": .string(to.description), "rows": .int(Int64(total)),
        "verified": .bool(true),
        "tables": .array(reports.map {
          ["table": .string($0.table), "rows": .int(Int64($0.rows)), "checksum": .string($0.checksum)]
        }),
      ]
      context.console.writeOut(body.pretty + "\n")
      return
    }
    context.console.writeOut(
      "\(context.isDryRun ? "would copy" : "copied") \(total) row(s) in \(reports.count) tables from \(from) to \(to); row counts and checksums match\n")
  }

  /// Copies into a new SQLite file: written under a temporary name beside it (mode 0600) and
  /// renamed into place only once verified, so a failure leaves no file behind.
  static func copyIntoNewFile(_ path: String, from source: StoreCopy.Source, commit: Bool) throws
    -> [StoreCopy.TableReport]
  {
    if FileManager.default.fileExists(atPath: path) {
      throw CLIError.io("'\(path)' already exists; db copy writes a new file: choose a new name")
    }
    for suffix in ["-wal", "-shm", "-journal"] where FileManager.default.fileExists(atPath: path + suffix) {
      // SQLite would read a stale journal into the new file.
      throw CLIError.io("'\(path + suffix)' exists (left from an earlier store of that name); remove it or choose a new name")
    }
    let folder = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    let temporary = (folder.isEmpty ? "" : folder + "/") + ".\(name).copy-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw CLIError.io("cannot create '\(path)': \(String(cString: strerror(errno)))") }
    close(fd)
    func removeTemporary() {
      for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: temporary + suffix) }
    }
    do {
      // Everything into the main file (the WAL checkpointed and removed) before it is renamed.
      let reports = try StoreCopy.intoSQLiteFile(temporary, from: source, commit: commit)
      guard commit else {
        removeTemporary()
        return reports
      }
      guard rename(temporary, path) == 0 else {
        throw CLIError.io("cannot rename the copy to '\(path)': \(String(cString: strerror(errno)))")
      }
      try? FileManager.default.removeItem(atPath: temporary + "-shm")
      return reports
    } catch {
      removeTemporary()
      throw error
    }
  }
}
