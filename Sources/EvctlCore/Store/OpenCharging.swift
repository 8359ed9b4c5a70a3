extension Store {
  /// Whether a session needs no token: the connector is `open` (free charging, CTEK's OPEN
  /// mode). With `connectorID` nil (Authorize, which names no connector) it answers for the
  /// station: every connector open, or `idTag` is the station's `FreeVendIdTag` and at least one
  /// connector is open.
  public func isFreeCharging(stationID: Int, connectorID: Int?, idTag: String) throws -> Bool {
    if let connectorID {
      return try db.queryOne(
        "SELECT mode FROM connectors WHERE station_id = ? AND connector_id = ?",
        [stationID, connectorID])?.string("mode") == "open"
    }
    guard let row = try db.queryOne(
      """
      SELECT sum(CASE WHEN mode = 'open' THEN 1 ELSE 0 END) AS open, count(*) AS total FROM connectors
      WHERE station_id = ? AND connector_id > 0
      """, [stationID]), let open = row.int("open"), open > 0
    else { return false }
    if open == row.int("total") { return true }
    let freeVend = try db.queryOne(
      """
      SELECT value FROM station_configuration WHERE station_id = ? AND key = 'FreeVendIdTag'
        AND known = TRUE
      """, [stationID])?.string("value")
    return freeVend.map { !$0.isEmpty && $0.lowercased() == idTag.lowercased() } ?? false
  }

  /// Notes that a station was told about a token (Authorize, StartTransaction): it may cache it,
  /// so `token block --clear-cache` sends it ClearCache.
  public func noteTokenSeen(idTag: String, stationID: Int, at time: Timestamp) throws {
    try db.run(
      """
      INSERT INTO token_sightings (station_id, id_tag, last_seen_at) VALUES (?, ?, ?)
      ON CONFLICT (station_id, id_tag) DO UPDATE SET last_seen_at = excluded.last_seen_at
      """, [stationID, (try? IdTagCanonicalizer.canonical(idTag)) ?? idTag, time.iso8601])
  }

  /// The identities of the stations that were told about `idTag`, by name.
  public func stationsThatSaw(idTag: String) throws -> [String] {
    let nocase = " " + dialect.nocase
    return try db.query(
      """
      SELECT DISTINCT s.identity FROM stations s WHERE s.id IN (
        SELECT station_id FROM token_sightings WHERE id_tag = ?1\(nocase)
        UNION SELECT station_id FROM transactions WHERE id_tag = ?1\(nocase))
      ORDER BY s.identity
      """, [(try? IdTagCanonicalizer.canonical(idTag)) ?? idTag]).compactMap { $0.string("identity") }
  }
}
