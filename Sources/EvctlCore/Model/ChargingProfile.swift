/// `ChargingProfilePurposeType` [S16 §7.10].
public enum ProfilePurpose: String, CaseIterable, Sendable {
  case chargePointMax = "ChargePointMaxProfile"
  case txDefault = "TxDefaultProfile"
  case txProfile = "TxProfile"
}

/// `ChargingProfileKindType` [S16 §7.9].
public enum ProfileKind: String, CaseIterable, Sendable {
  case absolute = "Absolute"
  case recurring = "Recurring"
  case relative = "Relative"
}

/// One `ChargingSchedulePeriod`: from `startPeriod` seconds on, at most `limit`.
public struct SchedulePeriod: Equatable, Sendable {
  public var startPeriod: Int
  public var limit: Double
  public var numberPhases: Int?

  /// Creates a period.
  public init(startPeriod: Int, limit: Double, numberPhases: Int? = nil) {
    self.startPeriod = startPeriod
    self.limit = limit
    self.numberPhases = numberPhases
  }

  /// Parses `START:LIMIT` or `START:LIMIT:PHASES`, as on the command line.
  public init(parsing text: String) throws {
    let parts = text.split(separator: ":").map(String.init)
    guard (2...3).contains(parts.count), let start = Int(parts[0]), let limit = Double(parts[1]) else {
      throw StoreError.invalid("invalid period '\(text)': expected START:LIMIT or START:LIMIT:PHASES, e.g. 0:16 or 3600:10:1")
    }
    var phases: Int?
    if parts.count == 3 {
      guard let value = Int(parts[2]) else { throw StoreError.invalid("invalid phases in period '\(text)'") }
      phases = value
    }
    self.init(startPeriod: start, limit: limit, numberPhases: phases)
  }
}

/// A stored, validated charging profile; its id is the OCPP `chargingProfileId`.
public struct ChargingProfile: Equatable, Sendable {
  public var id: Int
  public var name: String
  public var purpose: ProfilePurpose
  public var kind: ProfileKind
  public var recurrency: String?
  public var stackLevel: Int
  public var unit: String
  public var periods: [SchedulePeriod]
  public var duration: Int?
  public var startSchedule: Timestamp?
  public var validFrom: Timestamp?
  public var validTo: Timestamp?
  public var minChargingRate: Double?

  /// Checks the rules of the brief §3.3 that do not depend on the station.
  public func validate() throws {
    guard stackLevel >= 0 else { throw StoreError.invalid("stack level must be 0 or more") }
    guard unit == "A" || unit == "W" else { throw StoreError.invalid("rate unit must be A or W") }
    guard let first = periods.first else { throw StoreError.invalid("a profile needs at least one --period") }
    guard first.startPeriod == 0 else {
      throw StoreError.invalid("the first period must start at 0, not \(first.startPeriod)")
    }
    for (previous, next) in zip(periods, periods.dropFirst()) where next.startPeriod <= previous.startPeriod {
      throw StoreError.invalid("periods must start in increasing order (\(previous.startPeriod) then \(next.startPeriod))")
    }
    for period in periods {
      guard period.limit >= 0, ChargingProfile.hasAtMostOneDecimal(period.limit) else {
        throw StoreError.invalid("limit \(period.limit) must be 0 or more with at most one decimal")
      }
      if let phases = period.numberPhases, !(1...3).contains(phases) {
        throw StoreError.invalid("number of phases must be 1, 2 or 3, not \(phases)")
      }
    }
    if let rate = minChargingRate, !(rate >= 0 && ChargingProfile.hasAtMostOneDecimal(rate)) {
      throw StoreError.invalid("minimum charging rate \(rate) must be 0 or more with at most one decimal")
    }
    switch kind {
    case .recurring:
      guard let recurrency, recurrency == "Daily" || recurrency == "Weekly" else {
        throw StoreError.invalid("a Recurring profile needs --recurrency Daily or Weekly")
      }
      guard startSchedule != nil else {
        throw StoreError.invalid("a Recurring profile needs --start-schedule (the time it recurs from)")
      }
      let period = recurrency == "Daily" ? 86_400 : 604_800
      if let last = periods.last, last.startPeriod >= period {
        throw StoreError.invalid("a \(recurrency) profile's periods must start within \(period) s")
      }
    case .absolute, .relative:
      if recurrency != nil { throw StoreError.invalid("--recurrency only goes with --kind Recurring") }
      if kind == .relative, startSchedule != nil {
        throw StoreError.invalid("a Relative profile has no start schedule")
      }
    }
    if let duration, duration <= 0 { throw StoreError.invalid("duration must be positive") }
    if let validFrom, let validTo, validTo <= validFrom {
      throw StoreError.invalid("valid-to must be later than valid-from")
    }
  }

  static func hasAtMostOneDecimal(_ value: Double) -> Bool {
    abs(value * 10 - (value * 10).rounded()) < 1e-9
  }

  /// The `csChargingProfiles` JSON sent to a station.
  ///
  /// An Absolute profile without a start schedule starts `now`.
  public func wireJSON(transactionID: Int?, now: Timestamp) -> JSONValue {
    var schedule: [String: JSONValue] = [
      "chargingRateUnit": .string(unit),
      "chargingSchedulePeriod": .array(periods.map { period in
        var object: [String: JSONValue] = [
          "startPeriod": .int(Int64(period.startPeriod)), "limit": .double(period.limit),
        ]
        if let phases = period.numberPhases { object["numberPhases"] = .int(Int64(phases)) }
        return .object(object)
      }),
    ]
    if let duration { schedule["duration"] = .int(Int64(duration)) }
    if let start = startSchedule ?? (kind == .absolute ? now : nil) {
      schedule["startSchedule"] = .string(start.iso8601)
    }
    if let minChargingRate { schedule["minChargingRate"] = .double(minChargingRate) }
    var profile: [String: JSONValue] = [
      "chargingProfileId": .int(Int64(id)), "stackLevel": .int(Int64(stackLevel)),
      "chargingProfilePurpose": .string(purpose.rawValue),
      "chargingProfileKind": .string(kind.rawValue), "chargingSchedule": .object(schedule),
    ]
    if let recurrency { profile["recurrencyKind"] = .string(recurrency) }
    if let transactionID { profile["transactionId"] = .int(Int64(transactionID)) }
    if let validFrom { profile["validFrom"] = .string(validFrom.iso8601) }
    if let validTo { profile["validTo"] = .string(validTo.iso8601) }
    return .object(profile)
  }

  /// The stable JSON form for listings.
  public var json: JSONValue {
    var object = wireJSON(transactionID: nil, now: Timestamp(milliseconds: 0)).objectValue ?? [:]
    if startSchedule == nil, var schedule = object["chargingSchedule"]?.objectValue {
      schedule["startSchedule"] = nil
      object["chargingSchedule"] = .object(schedule)
    }
    return ["id": .int(Int64(id)), "name": .string(name), "profile": .object(object)]
  }

  /// Rebuilds a profile from its stored definition.
  init?(id: Int, name: String, definition: JSONValue) {
    guard let purpose = definition["chargingProfilePurpose"]?.stringValue.flatMap(ProfilePurpose.init(rawValue:)),
      let kind = definition["chargingProfileKind"]?.stringValue.flatMap(ProfileKind.init(rawValue:)),
      let stack = definition["stackLevel"]?.intValue,
      let schedule = definition["chargingSchedule"], let unit = schedule["chargingRateUnit"]?.stringValue
    else { return nil }
    let periods: [SchedulePeriod] = (schedule["chargingSchedulePeriod"]?.arrayValue ?? []).compactMap { p in
      guard let start = p["startPeriod"]?.intValue, let limit = p["limit"]?.doubleValue else { return nil }
      return SchedulePeriod(startPeriod: start, limit: limit, numberPhases: p["numberPhases"]?.intValue)
    }
    let duration = schedule["duration"]?.intValue
    let minRate = schedule["minChargingRate"]?.doubleValue
    self.init(
      id: id, name: name, purpose: purpose, kind: kind,
      recurrency: definition["recurrencyKind"]?.stringValue, stackLevel: stack, unit: unit,
      periods: periods, duration: duration,
      startSchedule: schedule["startSchedule"]?.stringValue.flatMap(Timestamp.init(parsing:)),
      validFrom: definition["validFrom"]?.stringValue.flatMap(Timestamp.init(parsing:)),
      validTo: definition["validTo"]?.stringValue.flatMap(Timestamp.init(parsing:)),
      minChargingRate: minRate)
  }

  /// Creates a profile.
  public init(
    id: Int, name: String, purpose: ProfilePurpose, kind: ProfileKind, recurrency: String? = nil,
    stackLevel: Int, unit: String, periods: [SchedulePeriod], duration: Int? = nil,
    startSchedule: Timestamp? = nil, validFrom: Timestamp? = nil, validTo: Timestamp? = nil,
    minChargingRate: Double? = nil
  ) {
    self.id = id
    self.name = name
    self.purpose = purpose
    self.kind = kind
    self.recurrency = recurrency
    self.stackLevel = stackLevel
    self.unit = unit
    self.periods = periods
    self.duration = duration
    self.startSchedule = startSchedule
    self.validFrom = validFrom
    self.validTo = validTo
    self.minChargingRate = minChargingRate
  }
}
