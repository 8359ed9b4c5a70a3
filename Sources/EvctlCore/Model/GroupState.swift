/// What a group's stations, together, are doing (SMA's site state).
public enum GroupState: String, Sendable, CaseIterable {
  /// A station in the subtree is faulted.
  case fault
  /// Otherwise: a car charges at one of them.
  case inUse = "in_use"
  /// Otherwise: at least one is connected and idle.
  case available
  /// No station, or none is connected (offline, never connected, serve not running).
  case unknown

  /// The state of a set of stations: fault before in use before available.
  public static func of(_ states: [String]) -> GroupState {
    if states.contains("faulted") { return .fault }
    if states.contains("charging") { return .inUse }
    if states.contains("online") { return .available }
    return .unknown
  }
}
