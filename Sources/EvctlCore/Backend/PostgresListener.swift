internal import CLibPQ
import Glibc

/// A PostgreSQL connection of its own that LISTENs on one channel, for a `serve` node to be
/// woken when the CLI (on any machine) queues a command, instead of polling. Its socket goes on
/// the caller's event loop; ``drain()`` reads what arrived without blocking.
public final class PostgresListener {
  private let connection: PostgresConnection
  /// The channel listened on.
  public let channel: String

  /// Connects to `url` and listens on `channel` (a plain identifier).
  public init(url: String, channel: String) throws {
    connection = try PostgresConnection(url: url)
    self.channel = channel
    try connection.execute("LISTEN \(channel)")
    guard PQsetnonblocking(connection.handle, 1) == 0 else {
      throw PostgresError(sqlState: nil, message: "cannot make the listening connection non-blocking",
                          sql: nil, isConnectionFailure: true)
    }
  }

  /// The connection's socket: readable when a notification (or anything) arrived.
  public var descriptor: Int32 { PQsocket(connection.handle) }

  /// Reads what arrived and returns how many notifications it held.
  ///
  /// - Throws: ``PostgresError`` with `isConnectionFailure` when the connection is lost (the
  ///   caller makes a new listener).
  public func drain() throws -> Int {
    guard PQconsumeInput(connection.handle) == 1, PQstatus(connection.handle) == CONNECTION_OK else {
      throw PostgresError(
        sqlState: nil, message: "listening connection lost: "
          + String(cString: PQerrorMessage(connection.handle)).trimmingTrailingNewlines,
        sql: nil, isConnectionFailure: true)
    }
    var count = 0
    while let notification = PQnotifies(connection.handle) {
      count += 1
      PQfreemem(notification)
    }
    return count
  }
}

extension String {
  fileprivate var trimmingTrailingNewlines: String {
    var text = self
    while text.last == "\n" || text.last == "\r" { text.removeLast() }
    return text
  }
}

extension Store {
  /// The channel on which the store announces queued commands (PostgreSQL only).
  public static let commandChannel = "evctl_commands"

  /// Tells the nodes listening on ``commandChannel`` that a command was queued (delivered at
  /// commit; SQLite nodes poll instead).
  func notifyCommandQueued() throws {
    guard dialect == .postgresql else { return }
    _ = try db.query("SELECT pg_notify('\(Store.commandChannel)', '')", [])
  }
}
