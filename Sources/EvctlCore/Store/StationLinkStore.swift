/// What `serve` records about its stations' connections: admission, connected state, last-seen
/// times, leniency counters and boots.
extension Store {
  /// What the handshake needs to admit a station.
  public struct AdmissionRecord: Sendable {
    /// The station's row id.
    public let stationID: Int
    /// The identity as registered (the request may differ in case).
    public let identity: String
    /// The station's password hash, `nil` when it has none.
    public let passwordHash: String?
  }

  /// The station registered as `identity`, for the handshake; `nil` when none is.
  public func admissionRecord(identity: String) throws -> AdmissionRecord? {
    guard let row = try db.queryOne(
      "SELECT id, identity, password_hash FROM stations WHERE identity = ?", [identity]),
      let id = row.int("id"), let registered = row.string("identity")
    else { return nil }
    return AdmissionRecord(stationID: id, identity: registered, passwordHash: row.string("password_hash"))
  }

  /// The station registered as `identity` (id and identity as registered), or `nil`.
  public func stationReference(identity: String) throws -> (id: Int, identity: String)? {
    guard let row = try db.queryOne("SELECT id, identity FROM stations WHERE identity = ?", [identity]),
      let id = row.int("id"), let registered = row.string("identity")
    else { return nil }
    return (id, registered)
  }

  /// Marks every station disconnected (at `serve` start-up nothing is connected).
  public func markAllStationsDisconnected() throws {
    try db.run("UPDATE stations SET connected = FALSE WHERE connected = TRUE")
  }

  /// Marks a station connected, seen at `now`.
  public func markStationConnected(_ stationID: Int, at now: Timestamp) throws {
    try db.run(
      "UPDATE stations SET connected = TRUE, last_seen_at = ? WHERE id = ?", [now.iso8601, stationID])
  }

  /// Marks a station disconnected; `lastSeen`, when given, becomes its last-seen time.
  public func markStationDisconnected(_ stationID: Int, lastSeen: Timestamp?) throws {
    try db.run(
      "UPDATE stations SET connected = FALSE, last_seen_at = coalesce(?, last_seen_at) WHERE id = ?",
      [lastSeen?.iso8601, stationID])
  }

  /// Writes a station's last-seen time.
  public func writeLastSeen(_ stationID: Int, at time: Timestamp) throws {
    try db.run("UPDATE stations SET last_seen_at = ? WHERE id = ?", [time.iso8601, stationID])
  }

  /// Adds `count` to a station's counter of leniently read values.
  public func addLeniencies(_ count: Int, stationID: Int) throws {
    try db.run("UPDATE stations SET lenient_count = lenient_count + ? WHERE id = ?", [count, stationID])
  }

  /// What a BootNotification answer depends on.
  public struct BootFacts: Sendable {
    /// The registration policy as stored (`nil` when unset or unknown text).
    public let registrationPolicy: String?
    /// The heartbeat interval to hand out, if one is set.
    public let heartbeatInterval: Int?
    /// The firmware version of the previous boot.
    public let firmwareVersion: String?
  }

  /// A station's registration policy, heartbeat interval and last firmware; `nil` when the
  /// station no longer exists.
  public func bootFacts(stationID: Int) throws -> BootFacts? {
    guard let row = try db.queryOne(
      "SELECT registration_policy, heartbeat_interval, firmware_version FROM stations WHERE id = ?",
      [stationID])
    else { return nil }
    return BootFacts(
      registrationPolicy: row.string("registration_policy"),
      heartbeatInterval: row.int("heartbeat_interval"), firmwareVersion: row.string("firmware_version"))
  }

  /// What a station says about itself in its BootNotification.
  public struct BootReport: Sendable {
    public var vendor: String?
    public var model: String?
    public var serialNumber: String?
    public var chargeBoxSerialNumber: String?
    public var firmwareVersion: String?
    public var iccid: String?
    public var imsi: String?
    public var meterType: String?
    public var meterSerialNumber: String?

    /// A report with every field given.
    public init(vendor: String?, model: String?, serialNumber: String?, chargeBoxSerialNumber: String?,
                firmwareVersion: String?, iccid: String?, imsi: String?, meterType: String?,
                meterSerialNumber: String?) {
      self.vendor = vendor
      self.model = model
      self.serialNumber = serialNumber
      self.chargeBoxSerialNumber = chargeBoxSerialNumber
      self.firmwareVersion = firmwareVersion
      self.iccid = iccid
      self.imsi = imsi
      self.meterType = meterType
      self.meterSerialNumber = meterSerialNumber
    }
  }

  /// Stores a boot: what the station reported, when, and the registration status it was given.
  public func recordBoot(stationID: Int, _ report: BootReport, registrationStatus: String,
                         at now: Timestamp) throws {
    try db.run(
      """
      UPDATE stations SET vendor = ?, model = ?, serial_number = ?, charge_box_serial_number = ?,
        firmware_version = ?, iccid = ?, imsi = ?, meter_type = ?, meter_serial_number = ?,
        last_boot_at = ?, registration_status = ?, updated_at = ? WHERE id = ?
      """,
      [report.vendor, report.model, report.serialNumber, report.chargeBoxSerialNumber,
       report.firmwareVersion, report.iccid, report.imsi, report.meterType, report.meterSerialNumber,
       now.iso8601, registrationStatus, now.iso8601, stationID])
  }
}
