import EvctlCore
import Foundation

extension Commands {
  static let db: CommandSpec = CommandSpec(
    "db", abstract: "Manage the store file",
    subcommands: [dbPath, dbMigrate, dbCheck, dbBackup])

  static let dbPath: CommandSpec = CommandSpec(
    "path", abstract: "Print the path of the store file"
  ) { inv in
    try inv.supportsOnly([.table, .wide, .tsv, .json])
    if inv.context.requestedFormat == .json {
      inv.context.console.writeOut(JSONValue.object(["path": .string(inv.context.databasePath)]).pretty + "\n")
      return
    }
    inv.context.console.writeOut(inv.context.databasePath + "\n")
  }

  static let dbMigrate: CommandSpec = CommandSpec(
    "migrate", abstract: "Create the store or bring its schema up to date",
    discussion: "Every command migrates on open; this one reports what it did."
  ) { inv in
    let store = try inv.context.openStore(migrate: false)
    try store.requireStoreAdministrator(to: "migrate the store")
    let before = try store.schemaVersion()
    let applied = try store.migrate()
    if !inv.context.isQuiet {
      inv.context.console.writeOut(
        applied == 0
          ? "schema is up to date (version \(before))\n"
          : "migrated schema from version \(before) to \(before + applied)\n")
    }
  }

  static let dbCheck: CommandSpec = CommandSpec(
    "check", abstract: "Check the store's integrity and foreign keys"
  ) { inv in
    let problems = try inv.context.openStore().check()
    for warning in StoreFiles.looseModes(inv.context.databasePath) {
      inv.context.console.diagnose("warning: \(warning)")
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
