/// What a session's length and whole-Wh energy are computed from: ``SessionRecord`` and
/// ``SessionRow`` compute them the same way.
public protocol SessionTimes {
  var startedAt: Timestamp { get }
  var stoppedAt: Timestamp? { get }
  var energyWh: Double? { get }
}

extension SessionTimes {
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

/// A charging session (an OCPP transaction) as reports show it.
public struct SessionRecord: SessionTimes, Sendable {
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
}

/// Filters for reports over sessions: several values of one field match any of them (OR), and
/// different fields must all match (AND). An empty list does not filter.
public struct SessionFilter: Sendable {
  public var from: Timestamp?
  public var to: Timestamp?
  /// Station identities.
  public var stations: [String] = []
  /// Group references; a session at a station in any of their subtrees matches.
  public var groups: [String] = []
  public var idTags: [String] = []
  public var userEmails: [String] = []
  /// Connector numbers.
  public var connectors: [Int] = []
  /// `rfid`, `remote` or `anonymous`, as in ``SessionRecord/authorization``.
  public var authorizations: [String] = []
  /// Only sessions with at least this much energy, in Wh.
  public var minimumEnergyWh: Double?
  /// Only sessions at least this long, in seconds (active ones up to now).
  public var minimumDurationSeconds: Int64?
  /// `true`: only active; `false`: only finished; `nil`: both.
  public var active: Bool?

  /// The one station filter, for callers that take a single station.
  public var station: String? {
    get { stations.first }
    set { stations = newValue.map { [$0] } ?? [] }
  }
  /// The one group filter, for callers that take a single group.
  public var group: String? {
    get { groups.first }
    set { groups = newValue.map { [$0] } ?? [] }
  }

  /// Creates a filter; every field is optional.
  public init(from: Timestamp? = nil, to: Timestamp? = nil, station: String? = nil, group: String? = nil,
              idTag: String? = nil, userEmail: String? = nil, active: Bool? = nil) {
    self.from = from
    self.to = to
    self.stations = station.map { [$0] } ?? []
    self.groups = group.map { [$0] } ?? []
    self.idTags = idTag.map { [$0] } ?? []
    self.userEmails = userEmail.map { [$0] } ?? []
    self.active = active
  }
}
