/// An operator's role (DESIGN §5; Ensto's admin and basic operators).
public enum Role: String, CaseIterable, Sendable {
  /// Everything, within the base group.
  case admin
  /// Configuration and firmware; no management of operators, charging users or tokens.
  case support
  /// Day-to-day work; may not manage operators, add, edit or remove stations (Ensto: "only admin
  /// operators can edit charging stations"), set a site's grid capacity, create or remove
  /// charging users (CTEK: only administrators create users), delete tokens or update firmware.
  case basic
}

/// Operations whose permission depends on the role.
public enum Operation: String, CaseIterable, Sendable {
  case manageOperators = "manage operators"
  case manageGroups = "manage groups"
  case addStation = "add stations"
  case removeStation = "remove stations"
  /// A station's name, group, settings, password, connectors and configuration keys.
  case updateStation = "edit stations"
  /// A capacity group's (a site's) grid connection: `group capacity set|clear`.
  case setCapacity = "set a site's grid capacity"
  case createUser = "create charging users"
  /// A charging user's details and access rights.
  case manageUsers = "update charging users"
  case removeUser = "remove charging users"
  case manageTokens = "create, update or block tokens"
  case deleteToken = "delete tokens"
  case updateFirmware = "update firmware"
  case remoteCommand = "send remote commands"

  /// Whether `role` may perform this operation: the one permission matrix.
  public func isAllowed(for role: Role) -> Bool {
    switch role {
    case .admin: return true
    case .basic:
      switch self {
      case .manageOperators, .addStation, .removeStation, .updateStation, .setCapacity,
        .createUser, .removeUser, .deleteToken, .updateFirmware:
        return false
      default: return true
      }
    case .support:
      switch self {
      case .updateStation, .updateFirmware, .remoteCommand: return true
      default: return false
      }
    }
  }
}

/// Who is acting: a logged-in operator, or the local administrator who can write the file.
public enum Actor: Sendable, Equatable {
  /// Whoever can write the store file directly: an administrator of the whole network.
  case local
  /// An operator identified by a login session or API token.
  case `operator`(Operator)

  /// The base group whose subtree the actor may see; `nil` for the whole network.
  public var baseGroupID: Int? {
    if case .operator(let op) = self { return op.baseGroupID }
    return nil
  }

  /// The actor's role; the local actor is an admin.
  public var role: Role {
    if case .operator(let op) = self { return op.role }
    return .admin
  }

  /// A short name for audit trails and messages.
  public var displayName: String {
    if case .operator(let op) = self { return op.email }
    return "local"
  }
}
