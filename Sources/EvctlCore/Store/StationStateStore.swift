/// What command answers teach `serve` about a station: its configuration snapshot, the local
/// list version it reports and the charging profiles it holds.
extension Store {
  /// A known configuration value of a station (by row id), or `nil`.
  public func knownConfigurationValue(stationID: Int, key: String) throws -> String? {
    try db.queryOne(
      "SELECT value FROM station_configuration WHERE station_id = ? AND key = ? AND known = TRUE",
      [stationID, key])?.string("value")
  }

  /// Records a value ChangeConfiguration set (writable, as the station accepted it).
  public func noteConfigurationChanged(stationID: Int, key: String, value: String?, at now: Timestamp) throws {
    try db.run(
      """
      INSERT INTO station_configuration (station_id, key, value, readonly, fetched_at)
      VALUES (?, ?, ?, FALSE, ?) ON CONFLICT (station_id, key) DO UPDATE SET value = excluded.value,
        fetched_at = excluded.fetched_at
      """,
      [stationID, key, value, now.iso8601])
  }

  /// Records a key from a GetConfiguration answer.
  public func storeConfigurationKey(
    stationID: Int, key: String, value: String?, readonly: Bool, at now: Timestamp
  ) throws {
    try db.run(
      """
      INSERT INTO station_configuration (station_id, key, value, readonly, known, fetched_at)
      VALUES (?, ?, ?, ?, TRUE, ?) ON CONFLICT (station_id, key) DO UPDATE SET value = excluded.value,
        readonly = excluded.readonly, known = TRUE, fetched_at = excluded.fetched_at
      """, [stationID, key, value, readonly, now.iso8601])
  }

  /// Records a key a GetConfiguration answer listed as unknown.
  public func storeUnknownConfigurationKey(stationID: Int, key: String, at now: Timestamp) throws {
    try db.run(
      """
      INSERT INTO station_configuration (station_id, key, value, readonly, known, fetched_at)
      VALUES (?, ?, NULL, NULL, FALSE, ?) ON CONFLICT (station_id, key) DO UPDATE SET known = FALSE,
        value = NULL, fetched_at = excluded.fetched_at
      """, [stationID, key, now.iso8601])
  }

  /// Records the local list version a station reported (GetLocalListVersion).
  public func noteReportedLocalListVersion(stationID: Int, version: Int, at now: Timestamp) throws {
    try db.run(
      """
      INSERT INTO local_lists (station_id, version, reported_version, updated_at) VALUES (?, 0, ?, ?)
      ON CONFLICT (station_id) DO UPDATE SET reported_version = excluded.reported_version,
        updated_at = excluded.updated_at
      """, [stationID, version, now.iso8601])
  }

  /// A charging profile a station accepted (SetChargingProfile).
  public struct InstalledProfile: Sendable {
    public var stationID: Int
    public var connectorID: Int
    public var chargingProfileID: Int
    public var purpose: String
    public var stackLevel: Int
    public var transactionID: Int?
    /// The profile as sent, compact JSON.
    public var profile: String

    public init(stationID: Int, connectorID: Int, chargingProfileID: Int, purpose: String,
                stackLevel: Int, transactionID: Int?, profile: String) {
      self.stationID = stationID
      self.connectorID = connectorID
      self.chargingProfileID = chargingProfileID
      self.purpose = purpose
      self.stackLevel = stackLevel
      self.transactionID = transactionID
      self.profile = profile
    }
  }

  /// Records an installed profile; like the station, it replaces one with the same id, or with
  /// the same connector, purpose and stack level.
  public func installProfile(_ installed: InstalledProfile, at now: Timestamp) throws {
    try db.run(
      """
      DELETE FROM installed_profiles WHERE station_id = ? AND (charging_profile_id = ?
        OR (connector_id = ? AND purpose = ? AND stack_level = ?))
      """,
      [installed.stationID, installed.chargingProfileID, installed.connectorID, installed.purpose,
       installed.stackLevel])
    try db.run(
      """
      INSERT INTO installed_profiles (station_id, connector_id, charging_profile_id, purpose,
        stack_level, transaction_id, profile, installed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [installed.stationID, installed.connectorID, installed.chargingProfileID, installed.purpose,
       installed.stackLevel, installed.transactionID, installed.profile, now.iso8601])
  }

  /// Forgets the installed profile with this id (ClearChargingProfile by id).
  public func removeInstalledProfile(stationID: Int, chargingProfileID: Int) throws {
    try db.run(
      "DELETE FROM installed_profiles WHERE station_id = ? AND charging_profile_id = ?",
      [stationID, chargingProfileID])
  }

  /// Forgets the installed profiles matching every criterion given (ClearChargingProfile by
  /// connector, purpose and stack level; none given: all of the station's).
  public func removeInstalledProfiles(
    stationID: Int, connectorID: Int?, purpose: String?, stackLevel: Int?
  ) throws {
    try db.run(
      """
      DELETE FROM installed_profiles WHERE station_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR connector_id = ?2)
        AND (CAST(?3 AS TEXT) IS NULL OR purpose = ?3) AND (CAST(?4 AS BIGINT) IS NULL OR stack_level = ?4)
      """,
      [stationID, connectorID, purpose, stackLevel])
  }

  /// Forgets a transaction's TxProfiles: they end with it [S16 §3.13.1].
  public func removeTransactionProfiles(stationID: Int, transactionID: Int) throws {
    try db.run(
      "DELETE FROM installed_profiles WHERE station_id = ? AND transaction_id = ? AND purpose = 'TxProfile'",
      [stationID, transactionID])
  }

  /// The operator-set profiles (not the allocator's own) a station holds for a connector or
  /// the whole station, by profile id. Columns: profile (JSON), installed_at.
  public func operatorProfileRows(stationID: Int, connectorID: Int) throws -> [Row] {
    try db.query(
      """
      SELECT profile, installed_at FROM installed_profiles WHERE station_id = ? AND connector_id IN (0, ?)
        AND charging_profile_id < 2000000000 ORDER BY charging_profile_id
      """, [stationID, connectorID])
  }
}
