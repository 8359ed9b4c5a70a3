import EvctlCore
import Foundation
import Glibc

/// The backend the store, server and CLI tests run on (issue 14 item 3): SQLite, unless
/// `EVCTL_TEST_BACKEND=postgresql`, which runs them on a fresh PostgreSQL database per store
/// (`CREATE DATABASE` under a unique name on the server of `EVCTL_TEST_POSTGRES_URL`, dropped when
/// the process ends). `Tests/run.sh` runs the suites once for each.
///
/// One copy for every test target (the `EvctlTestSupport` target of Package.swift).
public enum TestBackend {
  static let environment = ProcessInfo.processInfo.environment

  /// Whether the tests run on PostgreSQL.
  public static let isPostgreSQL: Bool = {
    guard environment["EVCTL_TEST_BACKEND"] == "postgresql" else { return false }
    guard let url = environment["EVCTL_TEST_POSTGRES_URL"], !url.isEmpty else {
      fatalError("EVCTL_TEST_BACKEND=postgresql needs EVCTL_TEST_POSTGRES_URL (Tests/run.sh starts a cluster)")
    }
    return true
  }()

  private static let lock = NSLock()
  nonisolated(unsafe) private static var created: [String] = []
  nonisolated(unsafe) private static var serial = 0
  private static let prefix = "evt_\(getpid())_"

  /// Creates an empty database and returns its URL.
  public static func createDatabase() throws -> String {
    let admin = try PostgresConnection(url: environment["EVCTL_TEST_POSTGRES_URL"]!)
    let name: String = lock.withLock {
      if created.isEmpty { atexit { TestBackend.dropAll() } }
      serial += 1
      let name = prefix + String(serial) + "_" + Crypto.hex(Crypto.randomBytes(3))
      created.append(name)
      return name
    }
    try admin.execute("CREATE DATABASE \(name)")
    return url(of: name)
  }

  /// Drops the database `url` names (closing the connections still open to it).
  public static func dropDatabase(_ url: String) {
    guard let name = name(in: url), let admin = try? PostgresConnection(url: environment["EVCTL_TEST_POSTGRES_URL"]!)
    else { return }
    try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    lock.withLock { created.removeAll { $0 == name } }
  }

  /// A fresh store on the test backend: in memory on SQLite, a database of its own on PostgreSQL.
  /// `sqlite: true` keeps a test on SQLite whatever the backend (the test says why).
  public static func makeStore(sqlite: Bool = false) throws -> Store {
    isPostgreSQL && !sqlite ? try Store(postgresURL: try createDatabase()) : try Store(.memory)
  }

  /// Drops every database this process made and did not drop yet.
  static func dropAll() {
    let names = lock.withLock { created }
    guard !names.isEmpty, let admin = try? PostgresConnection(url: environment["EVCTL_TEST_POSTGRES_URL"]!)
    else { return }
    for name in names { try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
  }

  /// The server's URL with its database replaced by `name`.
  public static func url(of name: String) -> String {
    let base = environment["EVCTL_TEST_POSTGRES_URL"]!
    guard let scheme = base.range(of: "://") else { return base }
    let rest = base[scheme.upperBound...]
    guard let slash = rest.firstIndex(of: "/") else { return base + "/" + name }
    let end = rest[slash...].firstIndex(of: "?") ?? rest.endIndex
    return String(base[..<slash]) + "/" + name + String(rest[end...])
  }

  private static func name(in url: String) -> String? {
    guard let scheme = url.range(of: "://") else { return nil }
    let rest = url[scheme.upperBound...]
    guard let slash = rest.firstIndex(of: "/") else { return nil }
    let name = rest[rest.index(after: slash)...].prefix { $0 != "?" }
    return name.hasPrefix(prefix) ? String(name) : nil
  }
}
