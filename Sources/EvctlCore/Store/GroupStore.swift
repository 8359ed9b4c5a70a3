extension Store {
  /// Every group, as a tree.
  public func groupTree() throws -> GroupTree {
    GroupTree(rows: try db.query("SELECT * FROM groups"))
  }

  /// Finds a group by id, full path (`Site/Floor 1`) or unique name, case-insensitively.
  ///
  /// - Throws: ``StoreError/notFound(kind:name:)``, or ``StoreError/conflict(_:)`` when a bare
  ///   name matches several groups.
  public func resolveGroup(_ reference: String, in tree: GroupTree? = nil) throws -> Group {
    let tree = try tree ?? groupTree()
    if let id = Int(reference), let group = tree.byID[id] { return group }
    let wanted = reference.lowercased()
    if let group = tree.byID.values.first(where: { $0.path.lowercased() == wanted }) {
      return group
    }
    let byName = tree.byID.values.filter { $0.name.lowercased() == wanted }
    if byName.count == 1 { return byName[0] }
    if byName.count > 1 {
      let paths = byName.map(\.path).sorted().joined(separator: "', '")
      throw StoreError.conflict(
        "group name '\(reference)' is ambiguous: use the full path ('\(paths)')")
    }
    throw StoreError.notFound(kind: "group", name: reference)
  }

  /// The groups the actor may see, in depth-first order.
  public func groups() throws -> [Group] {
    let tree = try groupTree()
    return tree.depthFirst(from: nil).map(\.group).filter {
      tree.contains($0.id, under: actor.baseGroupID)
    }
  }

  /// Creates a group under `parent`; without one, under the actor's base group (Ensto: "placed
  /// right under your base group"), or at the top for operators of the whole network.
  @discardableResult
  public func createGroup(
    name: String, parent: String?, kind: GroupKind = .other, address: String? = nil,
    latitude: Double? = nil, longitude: Double? = nil
  ) throws -> Group {
    try require(.manageGroups)
    try validateGroupName(name)
    if (latitude == nil) != (longitude == nil) {
      throw StoreError.invalid("give both --lat and --lon, or neither")
    }
    if let latitude, !(-90...90).contains(latitude) {
      throw StoreError.invalid("latitude \(latitude) is outside -90…90")
    }
    if let longitude, !(-180...180).contains(longitude) {
      throw StoreError.invalid("longitude \(longitude) is outside -180…180")
    }
    return try db.transaction {
      let parentGroup = try parent.map { try resolveGroup($0) }
        ?? actor.baseGroupID.flatMap { try groupTree().byID[$0] }
      if let parentGroup {
        try requireDomain(parentGroup.id, what: "group '\(parentGroup.path)'")
      }
      let newID: Int
      do {
        newID = try db.insertReturningID(
          "INSERT INTO groups (name, parent_id, kind, address, latitude, longitude, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          [name, parentGroup?.id, kind.rawValue, address, latitude, longitude, now().iso8601, now().iso8601])
      } catch let error as any DatabaseFailure where error.isUniqueViolation {
        let path = parentGroup.map { "\($0.path)/\(name)" } ?? name
        throw StoreError.alreadyExists(kind: "group", name: path)
      }
      return try groupTree().byID[newID]!
    }
  }

  /// Changes a group's name, kind, address or coordinates.
  @discardableResult
  public func updateGroup(
    _ reference: String, name: String? = nil, kind: GroupKind? = nil, address: String? = nil,
    latitude: Double? = nil, longitude: Double? = nil
  ) throws -> Group {
    try require(.manageGroups)
    return try db.transaction {
      let group = try resolveGroup(reference)
      try requireDomain(group.id, what: "group '\(group.path)'")
      if let name { try validateGroupName(name) }
      do {
        try db.run(
          """
          UPDATE groups SET name = coalesce(?, name), kind = coalesce(?, kind),
            address = coalesce(?, address), latitude = coalesce(?, latitude),
            longitude = coalesce(?, longitude), updated_at = ? WHERE id = ?
          """, [name, kind?.rawValue, address, latitude, longitude, now().iso8601, group.id])
      } catch let error as any DatabaseFailure where error.isUniqueViolation {
        throw StoreError.alreadyExists(kind: "group", name: name ?? group.name)
      }
      return try groupTree().byID[group.id]!
    }
  }

  /// Moves a group under a new parent (`nil`: to the top level), refusing cycles.
  @discardableResult
  public func moveGroup(_ reference: String, to parent: String?) throws -> Group {
    try require(.manageGroups)
    return try db.transaction {
      let tree = try groupTree()
      let group = try resolveGroup(reference, in: tree)
      try requireDomain(group.id, what: "group '\(group.path)'")
      let newParent = try parent.map { try resolveGroup($0, in: tree) }
      if let newParent {
        try requireDomain(newParent.id, what: "group '\(newParent.path)'")
        if tree.subtree(of: group.id).contains(newParent.id) {
          throw StoreError.conflict(
            "cannot move group '\(group.path)' under '\(newParent.path)': that would make a cycle")
        }
      } else if actor.baseGroupID != nil {
        throw StoreError.forbidden(
          "operator access forbidden: only operators of the whole network may create top-level groups")
      }
      do {
        try db.run(
          "UPDATE groups SET parent_id = ?, updated_at = ? WHERE id = ?", [newParent?.id, now().iso8601, group.id])
        try noteAllocationChange()  // the capacities above its stations change
      } catch let error as any DatabaseFailure where error.isUniqueViolation {
        throw StoreError.alreadyExists(
          kind: "group", name: (newParent.map { $0.path + "/" } ?? "") + group.name)
      }
      return try groupTree().byID[group.id]!
    }
  }

  /// Deletes an empty group: no subgroups, stations, operators or users inside.
  public func deleteGroup(_ reference: String) throws {
    try require(.manageGroups)
    try db.transaction {
      let tree = try groupTree()
      let group = try resolveGroup(reference, in: tree)
      try requireDomain(group.id, what: "group '\(group.path)'")
      var inside: [String] = []
      let subgroups = tree.children[group.id] ?? []
      if !subgroups.isEmpty {
        let names = subgroups.compactMap { tree.byID[$0]?.name }.joined(separator: ", ")
        inside.append("\(subgroups.count) subgroup(s) (\(names))")
      }
      let counts: [(String, String)] = [
        ("station(s)", "SELECT count(*) FROM stations WHERE group_id = ?"),
        ("operator(s) based there", "SELECT count(*) FROM operators WHERE base_group_id = ?"),
        ("charging user(s)", "SELECT count(*) FROM charging_users WHERE group_id = ?"),
      ]
      for (label, sql) in counts {
        let count = try db.queryOne(sql, [group.id])?.values.first?.int ?? 0
        if count > 0 { inside.append("\(count) \(label)") }
      }
      guard inside.isEmpty else {
        throw StoreError.conflict(
          "group '\(group.path)' is not empty: it holds \(inside.joined(separator: ", "))")
      }
      try db.run("DELETE FROM access_rights WHERE group_id = ?", [group.id])
      try db.run("DELETE FROM groups WHERE id = ?", [group.id])
    }
  }

  private func validateGroupName(_ name: String) throws {
    guard !name.trimmingSpaces.isEmpty, name.count <= 100 else {
      throw StoreError.invalid("group name must be 1 to 100 characters")
    }
    guard !name.contains("/") else {
      throw StoreError.invalid("group name '\(name)' must not contain '/' (it separates paths)")
    }
    guard Int(name) == nil else {
      throw StoreError.invalid("group name '\(name)' must not be a number (numbers are group ids)")
    }
  }
}
