import EvctlCore
import Foundation
import Testing

@testable import EvctlCLI

/// Logging in again after a session expired; store-wide operations for whole-network admins.
@Suite struct SessionAdminTests {
  func seeded(sqlite: Bool = false) throws -> Sandbox {
    let box = try Sandbox(sqlite: sqlite)
    box.run("group create HQ")
    box.run("operator create ann@x.io --name Ann --role admin --password-stdin", stdin: "secret123")
    box.run("operator create bob@x.io --name Bob --role basic --base-group HQ --password-stdin", stdin: "secret456")
    box.run("operator create cid@x.io --name Cid --role admin --base-group HQ --password-stdin", stdin: "secret789")
    return box
  }

  @Test func anExpiredSessionNeverBlocksLoggingIn() throws {
    let box = try seeded()
    #expect(box.run("login bob@x.io --password-stdin", stdin: "secret456").code == .success)
    let store = try box.openStore()
    try store.db.run("UPDATE operator_credentials SET expires_at = '2000-01-01T00:00:00.000Z'")
    let expired = box.run("station list")
    #expect(expired.code == .noPermission)
    #expect(expired.err.contains("your login session has expired"))
    let again = box.run("login bob@x.io --password-stdin", stdin: "secret456")
    #expect(again.code == .success, "\(again.err)")
    #expect(box.run("whoami -o json").out.contains("bob@x.io"))
    // A stale API token in the environment does not block it either.
    let withToken = box.run("login ann@x.io --password-stdin", stdin: "secret123", env: ["EVCTL_TOKEN": "evctl_bogus"])
    #expect(withToken.code == .success, "\(withToken.err)")
  }

  /// SQLite only: `db backup` is SQLite's (PostgreSQL says so, `PostgresGuardTests`), and on
  /// PostgreSQL who may migrate is up to the database's roles.
  @Test func backupAndMigrateAreForWholeNetworkAdmins() throws {
    let box = try seeded(sqlite: true)
    for (email, password, allowed) in [("bob@x.io", "secret456", false), ("cid@x.io", "secret789", false),
                                       ("ann@x.io", "secret123", true)] {
      #expect(box.run("login \(email) --password-stdin", stdin: password).code == .success)
      let target = box.directory + "/backup-\(email).db"
      let backup = box.run("db backup \(target)")
      let migrate = box.run("db migrate")
      if allowed {
        #expect(backup.code == .success, "\(backup.err)")
        #expect(migrate.code == .success, "\(migrate.err)")
      } else {
        #expect(backup.code == .noPermission, "\(email): \(backup.err)")
        #expect(backup.err.hasPrefix("error: operator access forbidden: only an administrator of the whole network"))
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(migrate.code == .noPermission, "\(email): \(migrate.err)")
      }
    }
    box.run("logout")
    // Without a session or token, whoever can write the file is its administrator.
    #expect(box.run("db backup \(box.directory)/local.db").code == .success)
  }

  @Test func anOlderSchemaIsMigratedOnlyForAnAdmin() throws {
    let box = try seeded()
    #expect(box.run("login bob@x.io --password-stdin", stdin: "secret456").code == .success)
    let store = try box.openStore()
    let latest = try store.schemaVersion()
    if box.isPostgreSQL {
      try store.db.run("UPDATE evctl_schema_version SET version = ?", [latest - 1])
    } else {
      try store.db.execute("PRAGMA user_version = \(latest - 1)")
    }
    let basic = box.run("station list")
    #expect(basic.code == .noPermission, "\(basic.err)")
    #expect(basic.err.contains("an administrator must run 'evctl db migrate'"))
    #expect(try store.schemaVersion() == latest - 1)
  }
}
