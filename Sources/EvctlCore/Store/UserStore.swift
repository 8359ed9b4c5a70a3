extension Store {
  func makeUser(_ row: Row, tree: GroupTree) throws -> ChargingUser {
    let id = row.int("id")!
    let groupID = row.int("group_id")
    let access = try db.query(
      """
      SELECT a.group_id, s.identity FROM access_rights a LEFT JOIN stations s ON s.id = a.station_id
      WHERE a.user_id = ? ORDER BY a.id
      """, [id]
    ).map { r in
      AccessRight(groupPath: r.int("group_id").flatMap { tree.byID[$0]?.path },
                  stationIdentity: r.string("identity"))
    }
    return ChargingUser(
      id: id, email: row.string("email")!, firstName: row.string("first_name") ?? "",
      lastName: row.string("last_name") ?? "", phone: row.string("phone"), groupID: groupID,
      groupPath: groupID.flatMap { tree.byID[$0]?.path }, tokenCount: row.int("token_count") ?? 0,
      access: access, createdAt: row.date("created_at") ?? Timestamp(milliseconds: 0))
  }

  static let userSelect = """
    SELECT u.*, (SELECT count(*) FROM tokens t WHERE t.user_id = u.id) AS token_count
    FROM charging_users u
    """

  /// The charging users the actor may see, optionally those matching `search`.
  public func users(search: String? = nil) throws -> [ChargingUser] {
    let tree = try groupTree()
    let needle = search?.lowercased()
    return try db.query(Store.userSelect + " ORDER BY u.email \(dialect.nocase)")
      .filter { tree.contains($0.int("group_id"), under: actor.baseGroupID) }
      .map { try makeUser($0, tree: tree) }
      .filter { user in
        guard let needle else { return true }
        return "\(user.email) \(user.firstName) \(user.lastName)".lowercased().contains(needle)
      }
  }

  /// One charging user by email, within the actor's domain.
  public func user(_ email: String) throws -> ChargingUser {
    let tree = try groupTree()
    guard let row = try db.queryOne(Store.userSelect + " WHERE u.email = ?", [email]),
      tree.contains(row.int("group_id"), under: actor.baseGroupID)
    else { throw StoreError.notFound(kind: "user", name: email) }
    return try makeUser(row, tree: tree)
  }

  /// Creates a charging user, owned by `group` (default: the actor's base group).
  @discardableResult
  public func createUser(
    email: String, firstName: String, lastName: String, phone: String? = nil, group: String? = nil
  ) throws -> ChargingUser {
    try require(.createUser)
    try ChargingUser.validate(email: email)
    guard !firstName.isEmpty, !lastName.isEmpty else {
      throw StoreError.invalid("first and last name must not be empty")
    }
    return try db.transaction {
      let groupID = try group.map { try resolveGroup($0).id } ?? actor.baseGroupID
      try requireDomain(groupID, what: group.map { "group '\($0)'" } ?? "the whole network")
      let stamp = now().iso8601
      do {
        try db.run(
          """
          INSERT INTO charging_users (email, first_name, last_name, phone, group_id, created_at,
            updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
          """, [email, firstName, lastName, phone, groupID, stamp, stamp])
      } catch let error as any DatabaseFailure where error.isUniqueViolation {
        throw StoreError.alreadyExists(kind: "user", name: email, hint: "username already exists")
      }
      return try user(email)
    }
  }

  /// Changes a charging user's names, phone or owning group; the email never changes.
  @discardableResult
  public func updateUser(
    _ email: String, firstName: String? = nil, lastName: String? = nil, phone: String? = nil,
    group: String? = nil
  ) throws -> ChargingUser {
    try require(.manageUsers)
    return try db.transaction {
      let current = try user(email)
      let groupID = try group.map { try resolveGroup($0).id }
      if let group { try requireDomain(groupID, what: "group '\(group)'") }
      try db.run(
        """
        UPDATE charging_users SET first_name = coalesce(?, first_name),
          last_name = coalesce(?, last_name), phone = coalesce(?, phone),
          group_id = coalesce(?, group_id), updated_at = ? WHERE id = ?
        """, [firstName, lastName, phone, groupID, now().iso8601, current.id])
      return try user(email)
    }
  }

  /// Deletes a charging user and their tokens and access rights.
  public func deleteUser(_ email: String) throws {
    try require(.removeUser)
    try db.transaction {
      let current = try user(email)
      try db.run("DELETE FROM tokens WHERE user_id = ?", [current.id])
      try db.run("DELETE FROM charging_users WHERE id = ?", [current.id])
    }
  }

  /// Grants a user the right to charge at a group's stations or at one station.
  @discardableResult
  public func grantAccess(_ email: String, group: String? = nil, station: String? = nil) throws
    -> ChargingUser
  {
    try require(.manageUsers)
    return try db.transaction {
      let current = try user(email)
      let (groupID, stationID) = try accessTarget(group: group, station: station)
      do {
        try db.run(
          "INSERT INTO access_rights (user_id, group_id, station_id, created_at) VALUES (?, ?, ?, ?)",
          [current.id, groupID, stationID, now().iso8601])
      } catch let error as any DatabaseFailure where error.isUniqueViolation {
        throw StoreError.alreadyExists(
          kind: "access right", name: "\(email) → \(group ?? station ?? "")")
      }
      return try user(email)
    }
  }

  /// Takes back an access right.
  @discardableResult
  public func revokeAccess(_ email: String, group: String? = nil, station: String? = nil) throws
    -> ChargingUser
  {
    try require(.manageUsers)
    return try db.transaction {
      let current = try user(email)
      let (groupID, stationID) = try accessTarget(group: group, station: station)
      let removed = try db.run(
        """
        DELETE FROM access_rights WHERE user_id = ? AND coalesce(group_id, 0) = ?
          AND coalesce(station_id, 0) = ?
        """, [current.id, groupID ?? 0, stationID ?? 0])
      guard removed > 0 else {
        throw StoreError.notFound(kind: "access right", name: "\(email) → \(group ?? station ?? "")")
      }
      return try user(email)
    }
  }

  private func accessTarget(group: String?, station: String?) throws -> (Int?, Int?) {
    switch (group, station) {
    case (let group?, nil):
      let resolved = try resolveGroup(group)
      try requireDomain(resolved.id, what: "group '\(resolved.path)'")
      return (resolved.id, nil)
    case (nil, let station?):
      return (nil, try self.station(station).id)
    default:
      throw StoreError.invalid("give exactly one of --group or --station")
    }
  }
}
