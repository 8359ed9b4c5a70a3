/// An operator's role (DESIGN §5; Ensto's admin and basic operators).
public enum Role: String, CaseIterable, Sendable {
  /// Everything, within the base group.
  case admin
  /// Configuration and firmware; no management of operators, charging users or tokens.
  case support
  /// Day-to-day work; may not manage operators, add or remove stations, remove charging users,
  /// delete tokens or update firmware.
  case basic
}

/// Operations whose permission depends on the role.
public enum Operation: String, CaseIterable, Sendable {
  case manageOperators = "manage operators"
  case manageGroups = "manage groups"
  case addStation = "add stations"
  case removeStation = "remove stations"
  case updateStation = "update stations"
  case manageUsers = "create or update charging users"
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
      case .manageOperators, .addStation, .removeStation, .removeUser, .deleteToken,
        .updateFirmware:
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
