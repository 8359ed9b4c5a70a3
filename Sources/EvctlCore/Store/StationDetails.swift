/// A station's place and its ties to other systems, as an operator sets them: address,
/// coordinates, external id and station-level maximum current. `nil` leaves a field as it is;
/// a `clear…` flag removes it.
public struct StationDetails: Sendable {
  public var address: String?
  public var clearAddress = false
  /// Both or neither.
  public var latitude: Double?
  public var longitude: Double?
  public var clearCoordinates = false
  public var externalID: String?
  public var clearExternalID = false
  /// Amperes per phase for the whole station (Alfen `Station-MaxCurrent`), 0 < A ≤ 1000.
  public var maxCurrent: Double?
  public var clearMaxCurrent = false

  /// Creates an empty change set.
  public init() {}

  /// Whether anything is to change.
  var isEmpty: Bool {
    address == nil && !clearAddress && latitude == nil && longitude == nil && !clearCoordinates
      && externalID == nil && !clearExternalID && maxCurrent == nil && !clearMaxCurrent
  }

  /// Refuses values no station can have.
  func validate() throws {
    if (latitude == nil) != (longitude == nil) {
      throw StoreError.invalid("give both --lat and --lon, or neither")
    }
    if let latitude, !(latitude.isFinite && (-90...90).contains(latitude)) {
      throw StoreError.invalid("latitude \(latitude) is outside -90…90")
    }
    if let longitude, !(longitude.isFinite && (-180...180).contains(longitude)) {
      throw StoreError.invalid("longitude \(longitude) is outside -180…180")
    }
    if let maxCurrent, !(maxCurrent > 0 && maxCurrent <= 1000) {
      throw StoreError.invalid("station max current must be between 0 and 1000 A, not \(maxCurrent)")
    }
    if let externalID { try StationDetails.validate(externalID: externalID) }
    if let address, address.count > 500 {
      throw StoreError.invalid("address must be at most 500 characters, not \(address.count)")
    }
  }

  /// An external id: 1–255 printable characters.
  static func validate(externalID: String) throws {
    guard !externalID.isEmpty, externalID.count <= 255,
      !externalID.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
    else {
      throw StoreError.invalid(
        "external id must be 1 to 255 printable characters, not '\(PrintableText.escaped(externalID))'")
    }
  }
}

extension Store {
  /// Writes the detail fields of `details` for station `stationID` (inside the caller's
  /// transaction), refusing an external id another station has.
  func applyStationDetails(_ details: StationDetails, stationID: Int, identity: String) throws {
    try details.validate()
    guard !details.isEmpty else { return }
    do {
      try db.recoverable { try db.run(
        """
        UPDATE stations SET
          address = CASE WHEN ?1 THEN NULL ELSE coalesce(?2, address) END,
          latitude = CASE WHEN ?3 THEN NULL ELSE coalesce(?4, latitude) END,
          longitude = CASE WHEN ?3 THEN NULL ELSE coalesce(?5, longitude) END,
          external_id = CASE WHEN ?6 THEN NULL ELSE coalesce(?7, external_id) END,
          max_current = CASE WHEN ?8 THEN NULL ELSE coalesce(?9, max_current) END,
          updated_at = ?10
        WHERE id = ?11
        """,
        [details.clearAddress, details.address, details.clearCoordinates, details.latitude,
         details.longitude, details.clearExternalID, details.externalID, details.clearMaxCurrent,
         details.maxCurrent, now().iso8601, stationID]) }
    } catch let error as any DatabaseFailure where error.isUniqueViolation {
      let holder = try db.queryOne(
        "SELECT identity FROM stations WHERE external_id = ? AND id <> ?", [details.externalID, stationID])
      throw StoreError.conflict(
        "external id '\(PrintableText.escaped(details.externalID ?? ""))' already belongs to station '\(holder?.string("identity") ?? "?")'")
    }
    if details.maxCurrent != nil || details.clearMaxCurrent {
      try noteAllocationChange()  // serve replans the station's cars
    }
  }

  /// Sets or clears a connector's external id (unique among connectors).
  func setConnectorExternalID(_ externalID: String?, clear: Bool, stationID: Int, connector: Int) throws {
    guard externalID != nil || clear else { return }
    if let externalID { try StationDetails.validate(externalID: externalID) }
    do {
      try db.run(
        "UPDATE connectors SET external_id = ? WHERE station_id = ? AND connector_id = ?",
        [clear ? nil : externalID, stationID, connector])
    } catch let error as any DatabaseFailure where error.isUniqueViolation {
      throw StoreError.conflict(
        "external id '\(PrintableText.escaped(externalID ?? ""))' already belongs to another connector")
    }
  }

  /// The station-level maximum current of every station that has one, by station id, for the
  /// allocator.
  public func stationMaxCurrents() throws -> [Int: Double] {
    var result: [Int: Double] = [:]
    for row in try db.query("SELECT id, max_current FROM stations WHERE max_current IS NOT NULL") {
      if let id = row.int("id"), let amps = row.double("max_current") { result[id] = amps }
    }
    return result
  }

  /// The state of every group the actor may see, from the stations in its subtree.
  public func groupStates() throws -> [Int: GroupState] {
    let tree = try groupTree()
    var statesByGroup: [Int: [String]] = [:]
    for station in try stations() {
      guard let groupID = station.groupID else { continue }
      statesByGroup[groupID, default: []].append(station.state)
    }
    var result: [Int: GroupState] = [:]
    for group in try groups() {
      let states = tree.subtree(of: group.id).flatMap { statesByGroup[$0] ?? [] }
      result[group.id] = GroupState.of(states)
    }
    return result
  }
}
