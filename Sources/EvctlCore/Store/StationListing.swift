/// Listing many stations (issue 15 item 7: `station list` at 20,000 stations): one query with the
/// connector and session counts joined as aggregates instead of three counting subqueries per
/// station, and the rows handed on one by one instead of collected.
extension Store {
  /// The station columns ``makeStation(_:tree:serveDown:columns:)`` reads (the password hash only
  /// as present or not: '' or NULL) plus `connector_count`, `faulted_count` and `active_count`,
  /// each counted once for the whole table (a grouped pass over connectors, one over the
  /// running sessions) and joined, ordered by identity.
  func stationListingSelect() -> String {
    """
    SELECT s.id, s.identity, s.name, s.description, s.group_id,
      CASE WHEN s.password_hash IS NOT NULL THEN '' END AS password_hash,
      s.heartbeat_interval, s.public, s.registration_policy, s.registration_status, s.vendor, s.model,
      s.serial_number, s.charge_box_serial_number, s.firmware_version, s.iccid, s.imsi, s.meter_type,
      s.meter_serial_number, s.last_boot_at, s.last_seen_at, s.connected, s.created_at, s.updated_at,
      s.address, s.latitude, s.longitude, s.external_id, s.uuid, s.max_current, s.security_profile,
      coalesce(c.connector_count, 0) AS connector_count,
      coalesce(c.faulted_count, 0) AS faulted_count, coalesce(a.active_count, 0) AS active_count
    FROM stations s
    LEFT JOIN (
      SELECT station_id, sum(CASE WHEN connector_id > 0 THEN 1 ELSE 0 END) AS connector_count,
        sum(CASE WHEN status = 'Faulted' THEN 1 ELSE 0 END) AS faulted_count
      FROM connectors GROUP BY station_id
    ) c ON c.station_id = s.id
    LEFT JOIN (
      SELECT station_id, count(*) AS active_count FROM transactions WHERE state = 'active'
      GROUP BY station_id
    ) a ON a.station_id = s.id
    ORDER BY s.identity\(db.dialect == .sqlite ? " COLLATE NOCASE" : "")
    """
  }

  /// Calls `body` for each station the actor may see that matches `filter`, ordered by identity
  /// (case-insensitive), one row at a time: memory stays flat however many stations there are.
  public func forEachStation(_ filter: StationFilter = StationFilter(), _ body: (Station) throws -> Void) throws {
    let tree = try groupTree()
    let subtrees = try filter.groups.map { tree.subtree(of: try resolveGroup($0, in: tree).id) }
    let search = filter.search?.lowercased()
    let serveDown = try serveDownSince()
    let base = actor.baseGroupID
    func matches(_ value: String?, _ wanted: [String]) -> Bool {
      wanted.isEmpty || wanted.contains { $0.lowercased() == value?.lowercased() }
    }
    var columns: StationColumns?
    try db.forEachRow(stationListingSelect(), []) { row in
      if columns == nil { columns = StationColumns(row) }
      let station = makeStation(row, tree: tree, serveDown: serveDown, columns: columns)
      guard tree.contains(station.groupID, under: base) else { return }
      if filter.orphansOnly, station.groupID != nil { return }
      if !subtrees.isEmpty, !subtrees.contains(where: { $0.contains(station.groupID ?? -1) }) { return }
      if let search {
        let fields = [station.identity, station.name, station.serialNumber, station.chargeBoxSerialNumber,
                      station.externalID, station.uuid]
        if !fields.contains(where: { $0?.lowercased().contains(search) == true }) { return }
      }
      if !matches(station.vendor, filter.vendors) { return }
      if !matches(station.model, filter.models) { return }
      if !filter.states.isEmpty, !filter.states.contains(station.state) { return }
      if !filter.serials.isEmpty,
        !(matches(station.serialNumber, filter.serials) || matches(station.chargeBoxSerialNumber, filter.serials))
      {
        return
      }
      if !matches(station.firmwareVersion, filter.firmwareVersions) { return }
      if !filter.securityProfiles.isEmpty,
        !filter.securityProfiles.contains(where: { $0.rawValue == station.securityProfile })
      {
        return
      }
      try body(station)
    }
  }
}
