/// An unguessable, expiring path of `serve --files-dir` for one station's request: an upload
/// (diagnostics, logs) or a firmware download.
public struct FileGrant: Equatable, Sendable {
  public enum Kind: String, Sendable { case upload, firmware }

  /// 32 hexadecimal digits (128 random bits): the path segment that opens it.
  public var token: String
  public var stationID: Int
  public var identity: String
  public var kind: Kind
  /// The published file a firmware grant opens.
  public var name: String?
  public var expiresAt: Timestamp
}

extension Store {
  /// How long an upload path stays open after its request, unless the station reports the
  /// upload finished (or failed) sooner.
  public static let uploadGrantSeconds: Int64 = 86_400
  /// How long a firmware path stays open after the station is asked to retrieve it.
  public static let firmwareGrantSeconds: Int64 = 2 * 86_400

  /// Opens a path for `identity`: an upload, or a firmware download of `name`, until `expiresAt`.
  public func createFileGrant(identity: String, kind: FileGrant.Kind, name: String? = nil,
                              expiresAt: Timestamp) throws -> FileGrant {
    let station = try station(identity)
    let token = Crypto.hex(Crypto.randomBytes(16))
    try db.run(
      "INSERT INTO file_grants (token, station_id, kind, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      [token, station.id, kind.rawValue, name, now().iso8601, expiresAt.iso8601])
    return FileGrant(token: token, stationID: station.id, identity: station.identity, kind: kind, name: name,
                     expiresAt: expiresAt)
  }

  /// The open grant a path segment names, if it has not expired at `now`.
  public func fileGrant(token: String, kind: FileGrant.Kind, at now: Timestamp) throws -> FileGrant? {
    guard token.utf8.count == 32, token.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
      let row = try db.queryOne(
        """
        SELECT g.*, s.identity FROM file_grants g JOIN stations s ON s.id = g.station_id
        WHERE g.token = ? AND g.kind = ? AND g.closed_at IS NULL AND g.expires_at > ?
        """, [token, kind.rawValue, now.iso8601])
    else { return nil }
    return FileGrant(
      token: token, stationID: row.int("station_id")!, identity: row.string("identity")!, kind: kind,
      name: row.string("name"), expiresAt: row.date("expires_at")!)
  }

  /// Closes one grant (an upload received), or every open upload grant of a station (it reported
  /// its upload finished or failed).
  public func closeFileGrants(token: String? = nil, stationID: Int? = nil, at now: Timestamp) throws {
    if let token {
      try db.run("UPDATE file_grants SET closed_at = ? WHERE token = ? AND closed_at IS NULL", [now.iso8601, token])
    } else if let stationID {
      try db.run(
        "UPDATE file_grants SET closed_at = ? WHERE station_id = ? AND kind = 'upload' AND closed_at IS NULL",
        [now.iso8601, stationID])
    }
  }

  /// Deletes grants that expired or closed before `before`, at most `limit`; returns how many.
  @discardableResult
  public func pruneFileGrants(before: Timestamp, limit: Int = 5_000) throws -> Int {
    try db.run(
      """
      DELETE FROM file_grants WHERE token IN (SELECT token FROM file_grants
        WHERE coalesce(closed_at, expires_at) < ? LIMIT ?)
      """, [before.iso8601, limit])
  }
}
