/// Everything needed to compute local lists for many stations, loaded once.
public struct LocalListBuilder {
  let tokens: [Token]
  let tokensByTag: [String: Token]
  let access: [Int: [(groupID: Int?, stationID: Int?)]]
  let tree: GroupTree
  let now: Timestamp

  /// The entries a station should hold: every token the token function accepts there now.
  public func entries(for station: Station) -> [LocalListEntry] {
    tokens.compactMap { token in
      let parent = token.parentIDTag.flatMap { tokensByTag[$0] }
      var hasAccess = false
      if !station.isPublic {
        hasAccess = (access[token.userID] ?? []).contains { right in
          right.stationID == station.id
            || right.groupID.map { tree.contains(station.groupID, under: $0) } == true
        }
      }
      let facts = AuthorizationFacts(
        token: token, parent: parent, stationIsPublic: station.isPublic, userHasAccess: hasAccess)
      let decision = TokenAuthorizer.decide(facts, at: now, purpose: .localList)
      guard decision.status == .accepted else { return nil }
      var expiry = token.validTo
      if let parentEnd = parent?.validTo, expiry.map({ parentEnd < $0 }) ?? true { expiry = parentEnd }
      return LocalListEntry(idTag: token.idTag, expiryDate: expiry, parentIDTag: token.parentIDTag)
    }
  }
}

/// What we believe a station's local list is.
public struct LocalListState: Sendable {
  /// The version we sent last and the station acknowledged (0: none).
  public var version: Int
  /// The version the station reported last (GetLocalListVersion), if asked.
  public var reportedVersion: Int?
  /// The entries of that version.
  public var entries: [LocalListEntry]
  public var updatedAt: Timestamp?
}

extension Store {
  /// Loads tokens and access rights once, for computing many stations' lists.
  public func localListBuilder() throws -> LocalListBuilder {
    let tokens = try db.query(Store.tokenSelect + " ORDER BY t.id_tag").map(makeToken)
    var access: [Int: [(groupID: Int?, stationID: Int?)]] = [:]
    for row in try db.query("SELECT user_id, group_id, station_id FROM access_rights") {
      access[row.int("user_id")!, default: []].append((row.int("group_id"), row.int("station_id")))
    }
    return LocalListBuilder(
      tokens: tokens, tokensByTag: Dictionary(tokens.map { ($0.idTag, $0) }, uniquingKeysWith: { a, _ in a }),
      access: access, tree: try groupTree(), now: now())
  }

  /// What we believe a station holds.
  public func localListState(_ identity: String) throws -> LocalListState {
    let target = try station(identity)
    let row = try db.queryOne("SELECT * FROM local_lists WHERE station_id = ?", [target.id])
    let entries = try db.query(
      "SELECT * FROM local_list_entries WHERE station_id = ? ORDER BY id_tag", [target.id]
    ).map { r in
      LocalListEntry(
        idTag: r.string("id_tag")!, status: r.string("status") ?? "Accepted",
        expiryDate: r.date("expiry_date"), parentIDTag: r.string("parent_id_tag"))
    }
    return LocalListState(
      version: row?.int("version") ?? 0, reportedVersion: row?.int("reported_version"),
      entries: entries, updatedAt: row?.date("updated_at"))
  }

  /// A configuration value from the station's last GetConfiguration answer.
  public func configurationValue(_ identity: String, key: String) throws -> String? {
    let target = try station(identity)
    return try db.queryOne(
      "SELECT value FROM station_configuration WHERE station_id = ? AND key = ? AND known = 1",
      [target.id, key])?.string("value")
  }

  /// The station's configuration snapshot: key, value, read-only flag, known.
  public func configuration(_ identity: String) throws -> [Row] {
    let target = try station(identity)
    return try db.query(
      "SELECT key, value, readonly, known, fetched_at FROM station_configuration WHERE station_id = ? ORDER BY key",
      [target.id])
  }
}
