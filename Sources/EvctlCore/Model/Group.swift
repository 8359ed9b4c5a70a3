/// What a group stands for in the site navigator (CTEK: System → Site → Floor).
public enum GroupKind: String, CaseIterable, Sendable {
  case site, floor, area, other
}

/// A node of the group tree: a site, a floor, an area.
public struct Group: Equatable, Sendable {
  public var id: Int
  public var name: String
  public var parentID: Int?
  public var kind: GroupKind
  public var address: String?
  public var latitude: Double?
  public var longitude: Double?
  public var createdAt: Timestamp
  /// The names from the root down to this group, joined by `/`.
  public var path: String
  /// When an operator last changed it (name, kind, address, coordinates, parent).
  public var updatedAt: Timestamp? = nil
  /// What its stations are doing, when asked for (``Store/groupStates()``).
  public var state: GroupState? = nil

  /// The stable JSON form.
  public var json: JSONValue {
    var object: [String: JSONValue] = [
      "id": .int(Int64(id)), "name": .string(name), "parent_id": .from(parentID),
      "kind": .string(kind.rawValue), "address": .from(address), "latitude": .from(latitude),
      "longitude": .from(longitude), "created_at": .from(createdAt), "path": .string(path),
      "updated_at": .from(updatedAt),
    ]
    if let state { object["state"] = .string(state.rawValue) }
    return .object(object)
  }
}

/// All groups at once, for paths, subtrees and cycle checks (group counts stay small).
public struct GroupTree: Sendable {
  /// Every group by id.
  public let byID: [Int: Group]
  /// Child ids by parent id (`0` for top-level groups).
  public let children: [Int: [Int]]

  /// Builds the tree from every row of the `groups` table.
  init(rows: [Row]) {
    var names: [Int: (String, Int?)] = [:]
    for row in rows { names[row.int("id")!] = (row.string("name") ?? "", row.int("parent_id")) }
    func path(_ id: Int) -> String {
      var parts: [String] = []
      var current: Int? = id
      var guardCount = 0
      while let node = current, let entry = names[node], guardCount < 1000 {
        parts.append(entry.0)
        current = entry.1
        guardCount += 1
      }
      return parts.reversed().joined(separator: "/")
    }
    var byID: [Int: Group] = [:]
    var children: [Int: [Int]] = [:]
    for r in rows {
      let id = r.int("id")!
      let parentID = r.int("parent_id")
      byID[id] = Group(
        id: id, name: r.string("name") ?? "", parentID: parentID,
        kind: GroupKind(rawValue: r.string("kind") ?? "") ?? .other, address: r.string("address"),
        latitude: r.double("latitude"), longitude: r.double("longitude"),
        createdAt: r.date("created_at") ?? Timestamp(milliseconds: 0), path: path(id),
        updatedAt: r.date("updated_at") ?? r.date("created_at"))
      children[parentID ?? 0, default: []].append(id)
    }
    for key in children.keys {
      children[key]!.sort { byID[$0]!.name.lowercased() < byID[$1]!.name.lowercased() }
    }
    self.byID = byID
    self.children = children
  }

  /// The ids of `id` and every group below it.
  public func subtree(of id: Int) -> Set<Int> {
    var result: Set<Int> = [id]
    var stack = [id]
    while let next = stack.popLast() {
      for child in children[next] ?? [] where !result.contains(child) {
        result.insert(child)
        stack.append(child)
      }
    }
    return result
  }

  /// Whether `id` lies in the subtree rooted at `root` (`nil` root: the whole network).
  public func contains(_ id: Int?, under root: Int?) -> Bool {
    guard let root else { return true }
    guard let id else { return false }
    var current: Int? = id
    var steps = 0
    while let node = current, steps < 1000 {
      if node == root { return true }
      current = byID[node]?.parentID
      steps += 1
    }
    return false
  }

  /// Groups in depth-first order with their depth, for the navigator.
  public func depthFirst(from root: Int?) -> [(group: Group, depth: Int)] {
    var result: [(Group, Int)] = []
    func visit(_ id: Int, _ depth: Int) {
      guard let group = byID[id] else { return }
      result.append((group, depth))
      for child in children[id] ?? [] { visit(child, depth + 1) }
    }
    if let root {
      visit(root, 0)
    } else {
      for top in children[0] ?? [] { visit(top, 0) }
    }
    return result
  }
}
