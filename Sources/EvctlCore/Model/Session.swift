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
