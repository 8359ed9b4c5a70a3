/// Filters for ``Store/stations(_:)``: several values of one field match any of them (OR), and
/// different fields must all match (AND). An empty list does not filter.
public struct StationFilter: Sendable {
  /// Group references; a station in any of their subtrees matches.
  public var groups: [String] = []
  /// Text in the identity, name, serial number or charge box serial number (case-insensitive).
  public var search: String?
  public var vendors: [String] = []
  public var models: [String] = []
  /// Station states such as `online` or `never_connected`.
  public var states: [String] = []
  /// Serial numbers or charge box serial numbers, exact but case-insensitive.
  public var serials: [String] = []
  /// Firmware versions, exact but case-insensitive.
  public var firmwareVersions: [String] = []
  /// Security profiles (0–3); `station list --security-profile 0` finds the password-less ones.
  public var securityProfiles: [SecurityProfile] = []
  public var orphansOnly = false

  /// The one group filter, for callers that take a single group.
  public var group: String? {
    get { groups.first }
    set { groups = newValue.map { [$0] } ?? [] }
  }

  /// Creates a filter; every field is optional.
  public init(
    group: String? = nil, search: String? = nil, vendor: String? = nil, model: String? = nil,
    orphansOnly: Bool = false
  ) {
    self.groups = group.map { [$0] } ?? []
    self.search = search
    self.vendors = vendor.map { [$0] } ?? []
    self.models = model.map { [$0] } ?? []
    self.orphansOnly = orphansOnly
  }

  /// Creates a filter with several values per field.
  public init(
    groups: [String], search: String? = nil, vendors: [String] = [], models: [String] = [],
    states: [String] = [], serials: [String] = [], firmwareVersions: [String] = [],
    orphansOnly: Bool = false
  ) {
    self.groups = groups
    self.search = search
    self.vendors = vendors
    self.models = models
    self.states = states
    self.serials = serials
    self.firmwareVersions = firmwareVersions
    self.orphansOnly = orphansOnly
  }
}

/// The fields of a station an operator may change; `nil` leaves one as it is.
public struct StationChanges: Sendable {
  public var name: String?
  public var description: String?
  public var group: String?
  public var clearGroup = false
  public var heartbeatInterval: Int?
  public var isPublic: Bool?
  public var registrationPolicy: RegistrationPolicy?
  /// A new security profile; lowering it needs ``allowDowngrade``.
  public var securityProfile: SecurityProfile?
  /// Whether ``securityProfile`` may be lower than the current one (`--allow-downgrade`).
  public var allowDowngrade = false
  /// Address, coordinates, external id, station maximum current.
  public var details = StationDetails()

  /// Creates an empty change set.
  public init() {}
}

extension Store {
  static let stationSelect = """
    SELECT s.*,
      (SELECT count(*) FROM connectors c WHERE c.station_id = s.id AND c.connector_id > 0)
        AS connector_count,
      (SELECT count(*) FROM connectors c WHERE c.station_id = s.id AND c.status = 'Faulted')
        AS faulted_count,
      (SELECT count(*) FROM transactions t WHERE t.station_id = s.id AND t.state = 'active')
        AS active_count
    FROM stations s
    """

  /// When the store has a `serve` that is not running: since when. Stations it had connected
  /// are then `unknown`.
  func serveDownSince() throws -> Timestamp? {
    guard let serve = try serveStatus(), !serve.running else { return nil }
    return serve.downSince
  }

  func makeStation(
    _ row: Row, tree: GroupTree, serveDown: Timestamp? = nil, columns known: StationColumns? = nil
  ) -> Station {
    let columns = known ?? StationColumns(row)
    func text(_ position: Int?) -> String? { row[position: position].string }
    func int(_ position: Int?) -> Int? { row[position: position].int }
    func double(_ position: Int?) -> Double? { row[position: position].double }
    func bool(_ position: Int?) -> Bool { row[position: position].bool }
    func date(_ position: Int?) -> Timestamp? { text(position).flatMap(Timestamp.init(parsing:)) }
    let groupID = int(columns.groupID)
    let lastSeen = date(columns.lastSeenAt)
    let interval = int(columns.heartbeatInterval) ?? 300
    var connected = bool(columns.connected)
    if connected, let lastSeen, lastSeen.adding(seconds: Int64(interval * 3)) < now() {
      connected = false
    }
    let state: String
    var detail: String?
    if connected, let serveDown {
      connected = false
      state = "unknown"
      detail = "serve not running since \(serveDown.iso8601)"
    } else if !connected {
      state = lastSeen == nil ? "never_connected" : "offline"
    } else if (int(columns.faultedCount) ?? 0) > 0 {
      state = "faulted"
    } else if (int(columns.activeCount) ?? 0) > 0 {
      state = "charging"
    } else {
      state = "online"
    }
    var station = Station(
      id: int(columns.id)!, identity: text(columns.identity)!, name: text(columns.name) ?? "",
      description: text(columns.description), groupID: groupID,
      groupPath: groupID.flatMap { tree.byID[$0]?.path },
      hasPassword: text(columns.passwordHash) != nil,
      securityProfile: int(columns.securityProfile) ?? SecurityProfile.basic.rawValue,
      heartbeatInterval: interval,
      isPublic: bool(columns.isPublic),
      registrationPolicy: RegistrationPolicy(rawValue: text(columns.registrationPolicy) ?? "")
        ?? .accept,
      registrationStatus: text(columns.registrationStatus), vendor: text(columns.vendor),
      model: text(columns.model), serialNumber: text(columns.serialNumber),
      chargeBoxSerialNumber: text(columns.chargeBoxSerialNumber),
      firmwareVersion: text(columns.firmwareVersion), iccid: text(columns.iccid),
      imsi: text(columns.imsi), meterType: text(columns.meterType),
      meterSerialNumber: text(columns.meterSerialNumber), lastBootAt: date(columns.lastBootAt),
      lastSeenAt: lastSeen, connected: connected, connectorCount: int(columns.connectorCount) ?? 0,
      state: state, stateDetail: detail, createdAt: date(columns.createdAt) ?? Timestamp(milliseconds: 0),
      updatedAt: date(columns.updatedAt) ?? Timestamp(milliseconds: 0))
    station.address = text(columns.address)
    station.latitude = double(columns.latitude)
    station.longitude = double(columns.longitude)
    station.externalID = text(columns.externalID)
    station.uuid = text(columns.uuid)
    station.maxCurrent = double(columns.maxCurrent)
    return station
  }

  /// The station with `identity` (case-insensitive), within the actor's domain.
  public func station(_ identity: String) throws -> Station {
    let tree = try groupTree()
    guard let row = try db.queryOne(Store.stationSelect + " WHERE s.identity = ?", [identity]) else {
      throw StoreError.notFound(kind: "station", name: identity)
    }
    let station = makeStation(row, tree: tree, serveDown: try serveDownSince())
    guard tree.contains(station.groupID, under: actor.baseGroupID) else {
      throw StoreError.notFound(kind: "station", name: identity)
    }
    return station
  }

  /// The stations the actor may see that match `filter`, ordered by identity
  /// (``forEachStation(_:_:)`` collected).
  public func stations(_ filter: StationFilter = StationFilter()) throws -> [Station] {
    var stations: [Station] = []
    try forEachStation(filter) { stations.append($0) }
    return stations
  }

  /// Registers a station with `connectors` connectors (numbered 1…N).
  ///
  /// - Parameter securityProfile: how it must authenticate; `nil` means profile 1 when a
  ///   password is given and profile 0 otherwise (the CLI always decides explicitly: it generates
  ///   an AuthorizationKey for a new station unless profile 0 is asked for).
  @discardableResult
  public func createStation(
    identity: String, name: String, group: String? = nil, description: String? = nil,
    connectors: Int = 1, password: [UInt8]? = nil, securityProfile: SecurityProfile? = nil,
    details: StationDetails = StationDetails()
  ) throws -> Station {
    try require(.addStation)
    try details.validate()
    try Station.validate(identity: identity)
    try validate(connectorCount: connectors)
    if let password { try validate(stationPassword: password) }
    let profile = securityProfile ?? (password == nil ? .none : .basic)
    if profile == .none, password != nil {
      throw StoreError.invalid("security profile 0 means no authentication: give no password with it")
    }
    let hash = password.map { PasswordHash.make($0, iterations: PasswordHash.stationIterations) }
    return try db.transaction {
      let groupID = try group.map { try resolveGroup($0).id }
      try requireDomain(groupID, what: group.map { "group '\($0)'" } ?? "an ungrouped station")
      let stamp = now().iso8601
      let id: Int
      do {
        id = try db.insertReturningID(
          """
          INSERT INTO stations (identity, name, description, group_id, password_hash, created_at,
            updated_at, security_profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
          """, [identity, name, description, groupID, hash, stamp, stamp, profile.rawValue])
      } catch let error as any DatabaseFailure where error.isUniqueViolation {
        throw StoreError.alreadyExists(
          kind: "station", name: identity,
          hint: "charging station already exists for that identifier")
      }
      for number in 1...max(connectors, 1) where connectors > 0 {
        try db.run("INSERT INTO connectors (station_id, connector_id) VALUES (?, ?)", [id, number])
      }
      try applyStationDetails(details, stationID: id, identity: identity)
      try clearNotRegistered(identity: identity, stationID: id, at: now())
      return try station(identity)
    }
  }

  /// Changes a station's settings; the identity itself never changes.
  @discardableResult
  public func updateStation(_ identity: String, _ changes: StationChanges) throws -> Station {
    try require(.updateStation)
    if let interval = changes.heartbeatInterval, !(10...86_400).contains(interval) {
      throw StoreError.invalid("heartbeat interval must be 10 to 86400 seconds, not \(interval)")
    }
    try changes.details.validate()
    return try db.transaction {
      let current = try station(identity)
      var groupID = current.groupID
      if changes.clearGroup {
        groupID = nil
      } else if let group = changes.group {
        groupID = try resolveGroup(group).id
      }
      if groupID != current.groupID {
        try requireDomain(groupID, what: changes.group.map { "group '\($0)'" } ?? "no group")
      }
      if let profile = changes.securityProfile {
        try checkProfileChange(current, to: profile, allowDowngrade: changes.allowDowngrade)
      }
      try db.run(
        """
        UPDATE stations SET name = coalesce(?, name), description = coalesce(?, description),
          group_id = ?, heartbeat_interval = coalesce(?, heartbeat_interval),
          public = coalesce(?, public), registration_policy = coalesce(?, registration_policy),
          security_profile = coalesce(?, security_profile), updated_at = ? WHERE id = ?
        """,
        [
          changes.name, changes.description, groupID, changes.heartbeatInterval, changes.isPublic,
          changes.registrationPolicy?.rawValue, changes.securityProfile?.rawValue, now().iso8601,
          current.id,
        ])
      if changes.securityProfile == SecurityProfile.none {
        try db.run("UPDATE stations SET password_hash = NULL WHERE id = ?", [current.id])
      }
      if groupID != current.groupID { try noteAllocationChange() }  // its cars change capacity group
      try applyStationDetails(changes.details, stationID: current.id, identity: current.identity)
      return try station(identity)
    }
  }

  /// Sets or clears the OCPP Basic-auth password (the AuthorizationKey) of a station.
  ///
  /// Setting one on a profile-0 station raises it to profile 1 (a station with a password is
  /// never let in without it). Clearing it is refused while the profile uses it (1 or 2): the
  /// station could no longer connect, and lowering a profile is explicit (`station update
  /// --security-profile 0 --allow-downgrade`).
  public func setStationPassword(_ identity: String, password: [UInt8]?) throws {
    try require(.updateStation)
    if let password { try validate(stationPassword: password) }
    let current = try station(identity)
    let profile = SecurityProfile(rawValue: current.securityProfile) ?? .basic
    if password == nil, profile.usesPassword {
      throw StoreError.conflict(
        "station '\(current.identity)' is on security profile \(profile.rawValue), which needs its password; "
          + "lower the profile first with 'evctl station update \(current.identity) --security-profile 0 --allow-downgrade'")
    }
    let hash = password.map { PasswordHash.make($0, iterations: PasswordHash.stationIterations) }
    try db.run(
      "UPDATE stations SET password_hash = ?, updated_at = ?, security_profile = \(dialect == .sqlite ? "max" : "greatest")(security_profile, ?) WHERE id = ?",
      [hash, now().iso8601, password == nil ? 0 : 1, current.id])
  }

  /// Removes a station; refused while it has an active transaction.
  public func deleteStation(_ identity: String) throws {
    try require(.removeStation)
    try db.transaction {
      let current = try station(identity)
      if current.state == "charging" {
        throw StoreError.conflict(
          "station '\(current.identity)' has an active transaction; stop it first")
      }
      try db.run("DELETE FROM transactions WHERE station_id = ?", [current.id])
      try db.run("DELETE FROM stations WHERE id = ?", [current.id])
    }
  }

  /// The connectors of a station (connectorId ≥ 1).
  public func connectors(_ identity: String) throws -> [Connector] {
    let current = try station(identity)
    return try db.query(
      "SELECT * FROM connectors WHERE station_id = ? AND connector_id > 0 ORDER BY connector_id",
      [current.id]
    ).map { row in
      var connector = Connector(
        stationIdentity: current.identity, connectorID: row.int("connector_id")!,
        type: row.string("type"), maxCurrent: row.double("max_current"),
        mode: row.string("mode") ?? "rfid", parkingSpace: row.string("parking_space"),
        status: row.string("status"), errorCode: row.string("error_code"),
        info: row.string("info"), statusAt: row.date("status_at"))
      connector.externalID = row.string("external_id")
      connector.uuid = row.string("uuid")
      return connector
    }
  }

  /// Changes a connector's type, maximum current, charging mode or parking space.
  @discardableResult
  public func updateConnector(
    _ identity: String, connector: Int, type: String? = nil, maxCurrent: Double? = nil,
    mode: String? = nil, parkingSpace: String? = nil, externalID: String? = nil,
    clearExternalID: Bool = false
  ) throws -> Connector {
    try require(.updateStation)
    if let mode, mode != "open", mode != "rfid" {
      throw StoreError.invalid("invalid mode '\(mode)': expected open or rfid")
    }
    if let maxCurrent, !(maxCurrent > 0 && maxCurrent <= 1000) {
      throw StoreError.invalid("max current must be between 0 and 1000 A, not \(maxCurrent)")
    }
    return try db.transaction {
      let current = try station(identity)
      let changed = try db.run(
        """
        UPDATE connectors SET type = coalesce(?, type), max_current = coalesce(?, max_current),
          mode = coalesce(?, mode), parking_space = coalesce(?, parking_space)
        WHERE station_id = ? AND connector_id = ?
        """, [type, maxCurrent, mode, parkingSpace, current.id, connector])
      guard changed > 0, connector > 0 else {
        throw StoreError.notFound(kind: "connector", name: "\(current.identity)/\(connector)")
      }
      try setConnectorExternalID(externalID, clear: clearExternalID, stationID: current.id, connector: connector)
      try db.run("UPDATE stations SET updated_at = ? WHERE id = ?", [now().iso8601, current.id])
      if maxCurrent != nil { try noteAllocationChange() }  // the connector's cap in the plan
      return try connectors(identity).first { $0.connectorID == connector }!
    }
  }

  func validate(connectorCount: Int) throws {
    guard (0...64).contains(connectorCount) else {
      throw StoreError.invalid("connector count must be 0 to 64, not \(connectorCount)")
    }
  }

  func validate(stationPassword: [UInt8]) throws {
    guard (16...40).contains(stationPassword.count) else {
      throw StoreError.invalid(
        "station password must be 16 to 40 characters (OCPP AuthorizationKey), not \(stationPassword.count)")
    }
  }
}

extension Store {
  /// Why a station may not send anything but BootNotification yet: its last BootNotification was
  /// answered Pending or Rejected and its registration policy still says so. `nil` when it may
  /// (accepted, never booted, or released by `station update --registration accept`).
  public func registrationHold(stationID: Int) throws -> String? {
    try registrationCheck(stationID: stationID).held
  }

  /// ``registrationHold(stationID:)``, and whether the answer is `settled`: the status is neither
  /// Pending nor Rejected, so no policy change can hold the station until its next
  /// BootNotification (the only writer of that status), and the answer may be kept until then.
  public func registrationCheck(stationID: Int) throws -> (held: String?, settled: Bool) {
    guard let row = try db.queryOne(
      "SELECT registration_policy, registration_status FROM stations WHERE id = ?", [stationID])
    else { return (nil, false) }
    let status = row.values[1].string
    guard status == "Pending" || status == "Rejected" else { return (nil, true) }
    guard row.values[0].string != RegistrationPolicy.accept.rawValue else { return (nil, false) }
    return (status, false)
  }
}

/// Where the station query's columns are, resolved once per query: 20,000 rows are then read by
/// position instead of hashing some 35 column names per row.
struct StationColumns {
  let groupID: Int?
  let lastSeenAt: Int?
  let heartbeatInterval: Int?
  let connected: Int?
  let faultedCount: Int?
  let activeCount: Int?
  let id: Int?
  let identity: Int?
  let name: Int?
  let description: Int?
  let passwordHash: Int?
  let securityProfile: Int?
  let isPublic: Int?
  let registrationPolicy: Int?
  let registrationStatus: Int?
  let vendor: Int?
  let model: Int?
  let serialNumber: Int?
  let chargeBoxSerialNumber: Int?
  let firmwareVersion: Int?
  let iccid: Int?
  let imsi: Int?
  let meterType: Int?
  let meterSerialNumber: Int?
  let lastBootAt: Int?
  let connectorCount: Int?
  let createdAt: Int?
  let updatedAt: Int?
  let address: Int?
  let latitude: Int?
  let longitude: Int?
  let externalID: Int?
  let uuid: Int?
  let maxCurrent: Int?

  init(_ row: Row) {
    groupID = row.index(of: "group_id")
    lastSeenAt = row.index(of: "last_seen_at")
    heartbeatInterval = row.index(of: "heartbeat_interval")
    connected = row.index(of: "connected")
    faultedCount = row.index(of: "faulted_count")
    activeCount = row.index(of: "active_count")
    id = row.index(of: "id")
    identity = row.index(of: "identity")
    name = row.index(of: "name")
    description = row.index(of: "description")
    passwordHash = row.index(of: "password_hash")
    securityProfile = row.index(of: "security_profile")
    isPublic = row.index(of: "public")
    registrationPolicy = row.index(of: "registration_policy")
    registrationStatus = row.index(of: "registration_status")
    vendor = row.index(of: "vendor")
    model = row.index(of: "model")
    serialNumber = row.index(of: "serial_number")
    chargeBoxSerialNumber = row.index(of: "charge_box_serial_number")
    firmwareVersion = row.index(of: "firmware_version")
    iccid = row.index(of: "iccid")
    imsi = row.index(of: "imsi")
    meterType = row.index(of: "meter_type")
    meterSerialNumber = row.index(of: "meter_serial_number")
    lastBootAt = row.index(of: "last_boot_at")
    connectorCount = row.index(of: "connector_count")
    createdAt = row.index(of: "created_at")
    updatedAt = row.index(of: "updated_at")
    address = row.index(of: "address")
    latitude = row.index(of: "latitude")
    longitude = row.index(of: "longitude")
    externalID = row.index(of: "external_id")
    uuid = row.index(of: "uuid")
    maxCurrent = row.index(of: "max_current")
  }
}
