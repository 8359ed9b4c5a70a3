/// A charging session (an OCPP transaction) as reports show it.
public struct SessionRecord: Sendable {
  public var id: Int
  public var startedAt: Timestamp
  public var stoppedAt: Timestamp?
  public var stationID: Int
  public var stationIdentity: String
  public var stationName: String
  public var connectorID: Int
  public var groupID: Int?
  public var groupPath: String?
  /// `rfid`, `remote` (started by RemoteStartTransaction) or `anonymous` (free charging or an
  /// unknown tag).
  public var authorization: String
  public var idTag: String
  public var userEmail: String?
  public var meterStart: Int
  public var meterStop: Int?
  /// Energy in Wh: meter stop minus meter start, or from meter values when the stop is missing;
  /// `nil` when unknown or ``implausible``, so sums leave it out.
  public var energyWh: Double?
  public var stopReason: String?
  public var state: String
  public var receivedAt: Timestamp
  public var closedBy: String?
  /// Why the station's readings cannot be true (``MeterPlausibility``), or `nil`; the raw
  /// readings stay stored and shown.
  public var implausible: String? = nil

  /// The session's length, to its stop or to `now` while active.
  public func durationSeconds(now: Timestamp) -> Int64 {
    let (difference, overflow) = (stoppedAt ?? now).milliseconds.subtractingReportingOverflow(startedAt.milliseconds)
    return overflow ? 0 : difference / 1000
  }

  /// The energy as whole Wh, exact (what machine formats carry beside `energy_kwh`).
  public var energyWhInteger: Int64? {
    guard let energyWh, energyWh.isFinite, abs(energyWh) < 9e15 else { return nil }
    return Int64(energyWh.rounded())
  }
}

/// Filters for reports over sessions.
public struct SessionFilter: Sendable {
  public var from: Timestamp?
  public var to: Timestamp?
  public var station: String?
  public var group: String?
  public var idTag: String?
  public var userEmail: String?
  /// `true`: only active; `false`: only finished; `nil`: both.
  public var active: Bool?

  /// Creates a filter; every field is optional.
  public init(from: Timestamp? = nil, to: Timestamp? = nil, station: String? = nil, group: String? = nil,
              idTag: String? = nil, userEmail: String? = nil, active: Bool? = nil) {
    self.from = from
    self.to = to
    self.station = station
    self.group = group
    self.idTag = idTag
    self.userEmail = userEmail
    self.active = active
  }
}

/// Range checks for the numbers stations report about energy.
///
/// Readings are stored as sent; these checks decide whether reports may use them. A session whose
/// readings fail is shown with its raw values, flagged, and left out of energy sums.
public enum MeterPlausibility {
  /// The largest meter register taken as real: 10^12 Wh (1 TWh), far above any charger's life.
  public static let maximumRegisterWh: Double = 1e12
  /// The most energy one session is taken to deliver: 10^7 Wh (10 MWh; 350 kW for over a day).
  public static let maximumSessionWh: Double = 1e7

  /// Why a register reading cannot be true, or `nil`.
  /// `text` is the number as sent, when it was an integer.
  public static func registerProblem(_ wh: Double, name: String, text: String? = nil) -> String? {
    guard wh.isFinite else { return "\(name) is not a finite number" }
    guard wh >= 0 else { return "\(name) \(text ?? format(wh)) Wh is negative" }
    guard wh <= maximumRegisterWh else { return "\(name) \(text ?? format(wh)) Wh is beyond any meter" }
    return nil
  }

  /// Checks a session's readings; returns the energy in Wh, or why it is implausible.
  public static func energy(meterStart: Int, meterStop: Int?, maxEnergyWh: Double?) -> Result<Double?, Implausible> {
    if let problem = registerProblem(Double(meterStart), name: "meterStart", text: String(meterStart)) { return .failure(Implausible(problem)) }
    let end: Double
    if let meterStop {
      if let problem = registerProblem(Double(meterStop), name: "meterStop", text: String(meterStop)) { return .failure(Implausible(problem)) }
      guard meterStop >= meterStart else {
        return .failure(Implausible("meterStop \(meterStop) Wh is below meterStart \(meterStart) Wh (meter replaced?)"))
      }
      end = Double(meterStop)
    } else if let maxEnergyWh {
      if let problem = registerProblem(maxEnergyWh, name: "energy reading") { return .failure(Implausible(problem)) }
      end = maxEnergyWh
    } else {
      return .success(nil)
    }
    let energy = end - Double(meterStart)
    if meterStop == nil, energy < 0 {
      return .failure(Implausible("energy reading \(format(end)) Wh is below meterStart \(meterStart) Wh"))
    }
    guard energy <= maximumSessionWh else {
      return .failure(Implausible("\(format(energy)) Wh in one session is beyond any charger"))
    }
    return .success(energy)
  }

  /// A reason a session's readings were refused for sums.
  public struct Implausible: Error, Equatable, Sendable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
  }

  static func format(_ value: Double) -> String {
    if value.isFinite, abs(value) < 9e15, value == value.rounded() { return String(Int64(value)) }
    return String(value)
  }
}
