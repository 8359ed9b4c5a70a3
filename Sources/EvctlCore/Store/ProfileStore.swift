extension Store {
  /// Stores a validated profile under a unique name.
  @discardableResult
  public func createChargingProfile(_ draft: ChargingProfile) throws -> ChargingProfile {
    try require(.remoteCommand)
    try draft.validate()
    guard !draft.name.isEmpty else { throw StoreError.invalid("profile name must not be empty") }
    let definition = draft.wireJSON(transactionID: nil, now: Timestamp(milliseconds: 0))
    var stored = definition.objectValue ?? [:]
    if draft.startSchedule == nil, var schedule = stored["chargingSchedule"]?.objectValue {
      schedule["startSchedule"] = nil
      stored["chargingSchedule"] = .object(schedule)
    }
    do {
      try db.run(
        "INSERT INTO charging_profiles (name, purpose, stack_level, definition, created_at) VALUES (?, ?, ?, ?, ?)",
        [draft.name, draft.purpose.rawValue, draft.stackLevel, JSONValue.object(stored).compact,
         now().iso8601])
    } catch let error as any DatabaseFailure where error.isUniqueViolation {
      throw StoreError.alreadyExists(kind: "profile", name: draft.name)
    }
    return try chargingProfile(draft.name)
  }

  /// A stored profile by name or id.
  public func chargingProfile(_ reference: String) throws -> ChargingProfile {
    guard
      let row = try db.queryOne(
        "SELECT * FROM charging_profiles WHERE name = ? OR id = ?", [reference, Int(reference) ?? -1]),
      let definition = try? JSONValue.parse(row.string("definition") ?? ""),
      let profile = ChargingProfile(id: row.int("id")!, name: row.string("name")!, definition: definition)
    else { throw StoreError.notFound(kind: "profile", name: reference) }
    return profile
  }

  /// Every stored profile.
  public func chargingProfiles() throws -> [ChargingProfile] {
    try db.query("SELECT name FROM charging_profiles ORDER BY name").map {
      try chargingProfile($0.string("name")!)
    }
  }

  /// Deletes a stored profile (stations keep what they were sent).
  public func deleteChargingProfile(_ reference: String) throws {
    try require(.remoteCommand)
    let profile = try chargingProfile(reference)
    try db.run("DELETE FROM charging_profiles WHERE id = ?", [profile.id])
  }

  /// The SetChargingProfile payload for `profile` on a station, after every check of the brief
  /// §3.3 checklist that the store can make: purpose and connector, the active transaction, and
  /// the station's own limits where its configuration snapshot knows them.
  public func setChargingProfilePayload(
    station identity: String, profile: ChargingProfile, connector: Int, transaction: Int?
  ) throws -> JSONValue {
    let target = try station(identity)
    var transactionID = transaction
    switch profile.purpose {
    case .chargePointMax:
      guard connector == 0 else {
        throw StoreError.invalid("a ChargePointMaxProfile goes on connector 0 only")
      }
      guard transaction == nil else { throw StoreError.invalid("only a TxProfile names a transaction") }
    case .txDefault:
      guard transaction == nil else { throw StoreError.invalid("only a TxProfile names a transaction") }
    case .txProfile:
      guard connector > 0 else { throw StoreError.invalid("a TxProfile goes on a connector from 1") }
      let active = try db.queryOne(
        """
        SELECT id FROM transactions WHERE station_id = ? AND connector_id = ? AND state = 'active'
        ORDER BY id DESC
        """, [target.id, connector])?.int("id")
      guard let active else {
        throw StoreError.invalid(
          "a TxProfile needs an active transaction on \(target.identity) connector \(connector); there is none")
      }
      if let transaction, transaction != active {
        throw StoreError.invalid("transaction \(transaction) is not the active one on connector \(connector) (\(active))")
      }
      transactionID = active
    }
    guard connector >= 0, connector <= max(target.connectorCount, 0) else {
      throw StoreError.invalid("station \(target.identity) has no connector \(connector)")
    }
    func config(_ key: String) throws -> String? { try configurationValue(target.identity, key: key) }
    if let features = try config("SupportedFeatureProfiles"), !features.contains("SmartCharging") {
      throw StoreError.invalid("station \(target.identity) does not support SmartCharging (\(features))")
    }
    if let max = try config("ChargeProfileMaxStackLevel").flatMap(Int.init), profile.stackLevel > max {
      throw StoreError.invalid("stack level \(profile.stackLevel) is above the station's ChargeProfileMaxStackLevel \(max)")
    }
    if let max = try config("ChargingScheduleMaxPeriods").flatMap(Int.init), profile.periods.count > max {
      throw StoreError.invalid("\(profile.periods.count) periods are more than the station's ChargingScheduleMaxPeriods \(max)")
    }
    if let units = try config("ChargingScheduleAllowedChargingRateUnit") {
      let word = profile.unit == "A" ? "Current" : "Power"
      guard units.contains(word) else {
        throw StoreError.invalid("the station accepts \(units) schedules, not \(word)")
      }
    }
    if let max = try config("MaxChargingProfilesInstalled").flatMap(Int.init) {
      let installed = try db.queryOne(
        "SELECT count(*) AS n FROM installed_profiles WHERE station_id = ? AND charging_profile_id <> ?",
        [target.id, profile.id])?.int("n") ?? 0
      if installed >= max {
        throw StoreError.invalid("the station already holds \(installed) profiles (MaxChargingProfilesInstalled \(max))")
      }
    }
    return [
      "connectorId": .int(Int64(connector)),
      "csChargingProfiles": profile.wireJSON(transactionID: transactionID, now: now()),
    ]
  }

  /// The profiles we believe a station holds.
  public func installedProfiles(_ identity: String) throws -> [Row] {
    let target = try station(identity)
    return try db.query(
      "SELECT * FROM installed_profiles WHERE station_id = ? ORDER BY connector_id, purpose, stack_level",
      [target.id])
  }
}
