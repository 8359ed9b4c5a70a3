/// Reservations (ReserveNow / CancelReservation): the rows the CLI creates and lists, and the
/// state changes the answers and `serve` make.
extension Store {
  /// Reservations with their station's identity, newest first; `stationID` narrows to one
  /// station, `activeOnly` to requested or active ones. Columns: those of `reservations` plus
  /// `identity`.
  public func reservationRows(stationID: Int?, activeOnly: Bool) throws -> [Row] {
    try db.query(
      """
      SELECT r.*, s.identity FROM reservations r JOIN stations s ON s.id = r.station_id
      WHERE (CAST(?1 AS BIGINT) IS NULL OR r.station_id = ?1) AND (?2 = 0 OR r.state IN ('requested', 'active'))
      ORDER BY r.id DESC
      """, [stationID, activeOnly])
  }

  /// One reservation with its station's identity, or `nil`.
  public func reservationRow(_ id: Int) throws -> Row? {
    try db.queryOne(
      "SELECT r.*, s.identity FROM reservations r JOIN stations s ON s.id = r.station_id WHERE r.id = ?", [id])
  }

  /// Records a requested reservation and returns its id, from a sequence that never goes back
  /// (an id is never given twice, whatever was deleted).
  public func createReservation(
    stationID: Int, connectorID: Int, idTag: String, parentIDTag: String?, expires: Timestamp
  ) throws -> Int {
    try db.transaction { () -> Int in
      guard let next = try nextReservationID() else {
        throw StoreError.conflict("reservation id space exhausted")
      }
      try db.run(
        """
        INSERT INTO reservations (id, station_id, connector_id, id_tag, parent_id_tag, expires_at,
          requested_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [next, stationID, connectorID, idTag, parentIDTag, expires.iso8601, actor.displayName,
         now().iso8601])
      return next
    }
  }

  /// The next reservation id: the larger of the sequence and the highest id in use, plus one.
  /// Must run inside the write transaction that inserts the row.
  ///
  /// - Returns: `nil` when the positive 32-bit id space is used up.
  func nextReservationID() throws -> Int? {
    if let next = try ServeSQL.nextSequenceValue(db, name: "reservations", table: "reservations") {
      return next <= Int(Int32.max) ? next : nil
    }
    let row = try db.queryOne(
      """
      SELECT max(coalesce((SELECT value FROM id_sequences WHERE name = 'reservations'), 0),
        coalesce((SELECT max(id) FROM reservations), 0)) + 1 AS next
      """)
    let next = row?.int("next") ?? 1
    guard next <= Int(Int32.max) else { return nil }
    try db.run(
      "INSERT OR REPLACE INTO id_sequences (name, value) VALUES ('reservations', ?)", [next])
    return next
  }

  /// Marks a reservation rejected with `status` (why); `onlyRequested` leaves it alone once an
  /// answer moved it on.
  public func rejectReservation(_ id: Int, status: String, onlyRequested: Bool) throws {
    if onlyRequested {
      try db.run(
        "UPDATE reservations SET state = 'rejected', status = ? WHERE id = ? AND state = 'requested'",
        [status, id])
    } else {
      try db.run("UPDATE reservations SET state = 'rejected', status = ? WHERE id = ?", [status, id])
    }
  }

  /// Applies a ReserveNow answer to a reservation still requested: active when accepted, else
  /// rejected with `status`.
  public func settleReservation(_ id: Int, accepted: Bool, status: String?) throws {
    try db.run(
      "UPDATE reservations SET state = ?, status = ? WHERE id = ? AND state = 'requested'",
      [accepted ? "active" : "rejected", status, id])
  }

  /// Marks a requested or active reservation cancelled (CancelReservation accepted).
  public func cancelReservation(_ id: Int) throws {
    try db.run(
      "UPDATE reservations SET state = 'cancelled' WHERE id = ? AND state IN ('requested', 'active')",
      [id])
  }

  /// Marks a station's requested or active reservation used by `transactionID`.
  public func useReservation(_ id: Int, stationID: Int, transactionID: Int) throws {
    try db.run(
      """
      UPDATE reservations SET state = 'used', transaction_id = ? WHERE id = ? AND station_id = ?
        AND state IN ('requested', 'active')
      """, [transactionID, id, stationID])
  }

  /// Ends reservations whose time has passed.
  public func expireReservations(at now: Timestamp) throws {
    try db.run(
      "UPDATE reservations SET state = 'expired' WHERE state IN ('requested', 'active') AND expires_at <= ?",
      [now.iso8601])
  }
}
