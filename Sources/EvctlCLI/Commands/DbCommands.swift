import EvctlCore
import Foundation

extension Commands {
  static let db: CommandSpec = CommandSpec(
    "db", abstract: "Manage the store file",
    subcommands: [dbPath, dbMigrate, dbCheck, dbBackup, dbCopy])

  static let dbPath: CommandSpec = CommandSpec(
    "path", abstract: "Print the path of the store file (or the PostgreSQL URL, password hidden)"
  ) { inv in
    try inv.supportsOnly([.table, .wide, .tsv, .json])
    if inv.context.requestedFormat == .json {
      inv.context.console.writeOut(JSONValue.object(["path": .string(inv.context.databaseDisplayName)]).pretty + "\n")
      return
    }
    inv.context.console.writeOut(inv.context.databaseDisplayName + "\n")
  }

  static let dbMigrate: CommandSpec = CommandSpec(
    "migrate", abstract: "Create the store or bring its schema up to date",
    discussion: """
      Every command migrates on open; this one reports what it did. With --dry-run it lists the \
      migrations it would apply, applies them in a transaction and rolls it back, so a migration \
      that would fail fails here first. With --db postgresql://… it works on PostgreSQL \
      (the same numbered migrations in PostgreSQL's dialect), creating evctl's tables in an empty \
      database; who may migrate is then up to the database's roles.
      """,
    examples: [.init("See what an upgrade would change", "evctl db migrate --dry-run"),
               .init("Create the schema on PostgreSQL", "evctl --db postgresql://evctl@db.example/evctl db migrate")]
  ) { inv in
    if inv.context.databaseLocation.isPostgreSQL { return try migratePostgres(inv) }
    let exists = FileManager.default.fileExists(atPath: inv.context.databasePath)
    let store = try inv.context.openStore(migrate: false)
    try store.requireStoreAdministrator(to: "migrate the store")
    // A dry run on a missing file runs on an empty store in memory, migrated already.
    let before = exists ? try store.schemaVersion() : 0
    if inv.context.isDryRun {
      let pending = before < Schema.migrator.latestVersion ? Array((before + 1)...Schema.migrator.latestVersion) : []
      // openStore began a transaction for the dry run; finish() rolls it back.
      _ = try store.migrate()
      printMigrationPlan(inv, from: before, pending: pending, migrations: Schema.migrations)
      return
    }
    let applied = try store.migrate()
    if !inv.context.isQuiet {
      inv.context.console.writeOut(
        applied == 0
          ? "schema is up to date (version \(before))\n"
          : "migrated schema from version \(before) to \(before + applied)\n")
    }
  }

  /// `db migrate` on PostgreSQL: in one transaction under an advisory lock; rolled back for --dry-run.
  static func migratePostgres(_ inv: Invocation) throws {
    let outcome = try PostgresSchema.migrator.apply(to: inv.context.openPostgres(), dryRun: inv.context.isDryRun)
    if inv.context.isDryRun {
      printMigrationPlan(inv, from: outcome.before, pending: outcome.pending, migrations: PostgresSchema.migrations)
      return
    }
    if !inv.context.isQuiet {
      inv.context.console.writeOut(
        outcome.applied == 0
          ? "schema is up to date (version \(outcome.before))\n"
          : "migrated schema from version \(outcome.before) to \(outcome.before + outcome.applied)\n")
    }
  }

  /// What `db migrate --dry-run` found: each pending migration and its statements.
  static func printMigrationPlan(_ inv: Invocation, from before: Int, pending: [Int], migrations: [String]) {
    guard !inv.context.isQuiet else { return }
    let console = inv.context.console
    if inv.context.requestedFormat == .json {
      let plan: JSONValue = [
        "from": .int(Int64(before)), "to": .int(Int64(pending.last ?? before)),
        "migrations": .array(pending.map { version in
          ["version": .int(Int64(version)),
           "statements": .array(MigrationSummary.statements(migrations[version - 1]).map(JSONValue.string))]
        }),
      ]
      console.writeOut(plan.pretty + "\n")
      return
    }
    guard let last = pending.last else {
      console.writeOut("schema is up to date (version \(before)); nothing to migrate\n")
      return
    }
    console.writeOut("would migrate schema from version \(before) to \(last):\n")
    for version in pending {
      console.writeOut("  \(version): " + MigrationSummary.statements(migrations[version - 1]).joined(separator: "; ") + "\n")
    }
    console.writeOut("applied in a transaction and rolled back: every migration ran without error\n")
  }

  static let dbCheck: CommandSpec = CommandSpec(
    "check", abstract: "Check the store's integrity and foreign keys",
    discussion: """
      Also warns (without failing) about file modes looser than 0600 and about stations that let
      in anyone who knows their identity (security profile 0) or that can never connect
      (profile 1 or 2 without an AuthorizationKey).
      """
  ) { inv in
    let problems: [String]
    if inv.context.databaseLocation.isPostgreSQL {
      problems = try PostgresSchema.check(inv.context.openPostgres())
    } else {
      problems = try inv.context.openStore().check()
      for warning in StoreFiles.looseModes(inv.context.databasePath) {
        inv.context.console.diagnose("warning: \(warning)")
      }
    }
    // The stations' own weaknesses, on either backend (once the schema checks out).
    if problems.isEmpty {
      for weak in try inv.context.openStore().weakStations() {
        inv.context.console.diagnose("warning: station \(PrintableText.escaped(weak.identity)): \(weak.problem)")
      }
    }
    guard problems.isEmpty else {
      for problem in problems { inv.context.console.diagnose("error: \(problem)") }
      throw ExitCode.failure
    }
    if !inv.context.isQuiet { inv.context.console.writeOut("ok\n") }
  }

  static let dbBackup: CommandSpec = CommandSpec(
    "backup", abstract: "Copy the store to a file, safely while serve runs",
    arguments: [.positional("file", help: "The backup file to write", completion: .file)],
    examples: [.init("Nightly backup", "evctl db backup /var/backups/evctl-$(date +%F).db")]
  ) { inv in
    let target = inv.required("file")
    if FileManager.default.fileExists(atPath: target) {
      throw CLIError.io("'\(target)' already exists; choose a new file name")
    }
    let store = try inv.context.openStore()
    try store.requireStoreAdministrator(to: "copy the whole store")
    // The copy holds everything the store does: private from the start.
    let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw CLIError.io("cannot create '\(target)': \(String(cString: strerror(errno)))") }
    close(fd)
    do {
      try store.backup(to: target)
    } catch {
      try? FileManager.default.removeItem(atPath: target)
      throw error
    }
    if !inv.context.isQuiet { inv.context.console.writeOut("backup written to \(target)\n") }
  }
}
