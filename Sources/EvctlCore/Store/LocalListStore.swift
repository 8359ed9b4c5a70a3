/// Everything needed to compute local lists for many stations, loaded once.
///
/// Public stations all get the same list, so it is computed once; private stations depend on
/// their own access rights.
public final class LocalListBuilder {
  let tokens: [Token]
  let tokensByTag: [String: Token]
  let access: [Int: [(groupID: Int?, stationID: Int?)]]
  let tree: GroupTree
  let now: Timestamp
  private var publicList: [LocalListEntry]?

  init(tokens: [Token], tokensByTag: [String: Token], access: [Int: [(groupID: Int?, stationID: Int?)]],
       tree: GroupTree, now: Timestamp) {
    self.tokens = tokens
    self.tokensByTag = tokensByTag
    self.access = access
    self.tree = tree
    self.now = now
  }

  /// The entries a station should hold: every token the token function accepts there now.
  public func entries(for station: Station) -> [LocalListEntry] {
    if station.isPublic, let publicList { return publicList }
    let list = compute(for: station)
    if station.isPublic { publicList = list }
    return list
  }

  /// The tags among `held` whose token was blocked (itself or its parent) or deleted: a
  /// differential update sends them as `Blocked`.
  public func revoked(among held: [LocalListEntry]) -> Set<String> {
    Set(held.map(\.idTag).filter { tag in
      guard let token = tokensByTag[tag] else { return true }
      return token.blocked || token.parentIDTag.flatMap { tokensByTag[$0] }?.blocked == true
    })
  }

  private func compute(for station: Station) -> [LocalListEntry] {
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
  /// The content the entries come from; stations holding the same list share it.
  public var contentHash: String?
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

  /// What we believe a station holds; `withEntries: false` skips decoding the list itself.
  public func localListState(_ identity: String, withEntries: Bool = true) throws -> LocalListState {
    let target = try station(identity)
    let row = try db.queryOne("SELECT * FROM local_lists WHERE station_id = ?", [target.id])
    var entries: [LocalListEntry] = []
    if withEntries, let hash = row?.string("content_hash") {
      entries = try localListEntries(hash: hash)
    }
    return LocalListState(
      version: row?.int("version") ?? 0, reportedVersion: row?.int("reported_version"),
      entries: entries, contentHash: row?.string("content_hash"), updatedAt: row?.date("updated_at"))
  }

  func localListEntries(hash: String) throws -> [LocalListEntry] {
    guard let text = try db.queryOne("SELECT entries FROM local_list_contents WHERE hash = ?", [hash])?
      .string("entries"), let list = try? JSONValue.parse(text).arrayValue
    else { return [] }
    return list.compactMap(LocalListEntry.init(json:))
  }

  /// Applies an accepted SendLocalList to our mirror of the station's list.
  ///
  /// Lists are kept once per distinct content (1,000 stations holding the same 10,000 tokens
  /// share one copy), and `transitions` remembers (old content, update) → new content, so the
  /// same update applied to many stations is computed once.
  public func applyLocalListUpdate(
    stationID: Int, update: RemoteCommand, transitions: inout [String: String], at now: Timestamp
  ) throws {
    let current = try db.queryOne(
      "SELECT content_hash FROM local_lists WHERE station_id = ?", [stationID])?.string("content_hash")
    let key = (current ?? "empty") + ":" + PasswordHash.secretDigest(update.payloadText)
    var hash = transitions[key]
    let payload = update.payload
    if hash == nil {
      var entries: [String: LocalListEntry] = [:]
      if payload["updateType"]?.stringValue != "Full", let current {
        for entry in try localListEntries(hash: current) { entries[entry.idTag] = entry }
      }
      for item in payload["localAuthorizationList"]?.arrayValue ?? [] {
        guard let tag = item["idTag"]?.stringValue else { continue }
        if let entry = LocalListEntry(json: item) {
          entries[tag] = entry
        } else {
          entries[tag] = nil
        }
      }
      let text = JSONValue.array(entries.keys.sorted().map { entries[$0]!.json() }).compact
      let digest = PasswordHash.secretDigest(text)
      try db.run(
        "\(dialect.insertOrIgnore) local_list_contents (hash, entries, entry_count) VALUES (?, ?, ?)\(dialect.insertOrIgnoreEnd)",
        [digest, text, entries.count])
      transitions[key] = digest
      hash = digest
    }
    let version = payload["listVersion"]?.intValue ?? 0
    try db.run(
      """
      INSERT INTO local_lists (station_id, version, reported_version, content_hash, updated_at)
      VALUES (?, ?, ?, ?, ?) ON CONFLICT (station_id) DO UPDATE SET version = excluded.version,
        reported_version = excluded.reported_version, content_hash = excluded.content_hash,
        updated_at = excluded.updated_at
      """, [stationID, version, version, hash, now.iso8601])
  }

  /// Drops list contents no station points at any more.
  public func pruneLocalListContents() throws {
    try db.run(
      """
      DELETE FROM local_list_contents WHERE hash NOT IN
        (SELECT content_hash FROM local_lists WHERE content_hash IS NOT NULL)
      """)
  }

  /// A configuration value from the station's last GetConfiguration answer.
  public func configurationValue(_ identity: String, key: String) throws -> String? {
    let target = try station(identity)
    return try db.queryOne(
      "SELECT value FROM station_configuration WHERE station_id = ? AND key = ? AND known",
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

extension Store {
  /// Whether serve should fetch a station's configuration after an accepted boot: it has no
  /// snapshot yet, or its firmware changed; never while a GetConfiguration is already on its way.
  public func wantsConfigurationSnapshot(stationID: Int, firmwareChanged: Bool) throws -> Bool {
    let pending = try db.queryOne(
      """
      SELECT 1 FROM commands WHERE station_id = ? AND action = 'GetConfiguration'
        AND state IN ('queued', 'sent') LIMIT 1
      """, [stationID])
    if pending != nil { return false }
    if firmwareChanged { return true }
    return try db.queryOne(
      "SELECT 1 FROM station_configuration WHERE station_id = ? AND known LIMIT 1", [stationID]) == nil
  }
}
