extension Store {
  /// The columns `token import` reads and `token export` writes; `id_tag` and `user` are required.
  public static let tokenColumns = [
    "id_tag", "user", "name", "valid_from", "valid_to", "blocked", "parent_id_tag",
  ]

  /// Adds or updates tokens from CSV, all or nothing.
  ///
  /// Every row is checked first, without the write lock; the good rows are then written in
  /// short transactions through an import job (Store+ImportJobs.swift), so `serve` keeps
  /// answering while a large file goes in. The work is linear in the number of rows, however
  /// many of them belong to one user.
  ///
  /// - Throws: ``StoreError/badInput(_:)`` listing every bad row as `FILE:LINE: reason`;
  ///   nothing is written then.
  public func importTokens(csv text: String, file: String, dryRun: Bool = false) throws
    -> ImportSummary
  {
    try require(.manageTokens)
    let table = try CSVTable(
      text: text, file: file, known: Store.tokenColumns, required: ["id_tag", "user"])
    let (rows, summary) = try readSnapshot { try planTokenImport(table, file: file) }
    guard !dryRun else { return summary }
    try runTokenImportJob(rows)
    var written = summary
    written.written = true
    return written
  }

  /// Checks every record against the store and returns the rows to write, with the counts.
  func planTokenImport(_ table: CSVTable, file: String) throws -> ([TokenImportRow], ImportSummary) {
    let tree = try groupTree()
    var owners = TokenImportOwners(store: self, tree: tree)
    var problems: [String] = []
    var summary = ImportSummary()
    var seen: [String: Int] = [:]
    var rows: [TokenImportRow] = []
    for record in table.records {
      do {
        let raw = record["id_tag"] ?? ""
        let idTag = try IdTagCanonicalizer.canonical(raw)
        if let first = seen[idTag] {
          throw StoreError.invalid("duplicate id tag '\(idTag)' (also on line \(first))")
        }
        seen[idTag] = record.line
        guard let email = record["user"] else { throw StoreError.invalid("user is empty") }
        let ownerID = try owners.id(of: email)
        let validFrom = try record.timestamp("valid_from")
        let validTo = try record.timestamp("valid_to")
        let blocked = try record.bool("blocked")
        let parent = try record["parent_id_tag"].map { try IdTagCanonicalizer.canonical($0) }
        if parent == idTag { throw StoreError.invalid("a token cannot be its own parent") }
        if let existing = try existingToken(idTag, tree: tree) {
          let row = TokenImportRow(
            tokenID: existing.tokenID, idTag: idTag, rawIDTag: existing.rawIDTag, userID: ownerID,
            name: record["name"] ?? existing.name, validFrom: validFrom?.iso8601 ?? existing.validFrom,
            validTo: validTo?.iso8601, blocked: blocked ?? existing.blocked, parentIDTag: parent)
          try checkWindow(from: row.validFrom, to: row.validTo)
          if row.sameValues(as: existing) {
            summary.unchanged += 1
          } else {
            rows.append(row)
            summary.updated += 1
          }
        } else {
          let row = TokenImportRow(
            tokenID: nil, idTag: idTag, rawIDTag: raw, userID: ownerID, name: record["name"],
            validFrom: validFrom?.iso8601, validTo: validTo?.iso8601, blocked: blocked ?? false,
            parentIDTag: parent)
          try checkWindow(from: row.validFrom, to: row.validTo)
          rows.append(row)
          summary.created += 1
        }
      } catch let error as StoreError {
        problems.append("\(file):\(record.line): \(error)")
      }
    }
    if !problems.isEmpty { throw StoreError.badInput(problems) }
    return (rows, summary)
  }

  static let existingTokenSelect = """
    SELECT t.id, t.raw_id_tag, t.user_id, t.name, t.valid_from, t.valid_to, t.blocked,
      t.parent_id_tag, u.group_id
    FROM tokens t JOIN charging_users u ON u.id = t.user_id WHERE t.id_tag = ?
    """

  /// The stored token with this canonical idTag, if the actor may see it.
  private func existingToken(_ idTag: String, tree: GroupTree) throws
    -> TokenImportRow?
  {
    guard let row = try db.queryOne(Store.existingTokenSelect, [idTag]) else { return nil }
    let v = row.values
    guard tree.contains(v[8].int, under: actor.baseGroupID) else {
      throw StoreError.notFound(kind: "token", name: idTag)
    }
    return TokenImportRow(
      tokenID: v[0].int, idTag: idTag, rawIDTag: v[1].string ?? "", userID: v[2].int ?? 0,
      name: v[3].string, validFrom: v[4].string.flatMap(Timestamp.init(parsing:))?.iso8601,
      validTo: v[5].string.flatMap(Timestamp.init(parsing:))?.iso8601, blocked: v[6].bool,
      parentIDTag: v[7].string)
  }

  private func checkWindow(from: String?, to: String?) throws {
    if let from, let to, let start = Timestamp(parsing: from), let end = Timestamp(parsing: to),
      end <= start
    {
      throw StoreError.invalid("valid-to (\(to)) must be later than valid-from (\(from))")
    }
  }

  /// Runs `body` in one read transaction, so that every row is checked against one snapshot
  /// without taking the write lock.
  func readSnapshot<T>(_ body: () throws -> T) throws -> T {
    if db.isInTransaction { return try body() }
    try db.execute(sqlite != nil ? "BEGIN DEFERRED" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    defer { try? db.execute("COMMIT") }
    return try body()
  }

  /// The visible tokens as CSV rows in ``tokenColumns`` order, the header first.
  public func exportTokens() throws -> [[String]] {
    var rows = [Store.tokenColumns]
    for token in try tokens() {
      rows.append([
        token.idTag, token.userEmail, token.name ?? "", token.validFrom?.iso8601 ?? "",
        token.validTo?.iso8601 ?? "", token.blocked ? "true" : "false", token.parentIDTag ?? "",
      ])
    }
    return rows
  }
}

/// One token as an import will write it: a new one (`tokenID` nil) or new values for one.
struct TokenImportRow: Equatable {
  var tokenID: Int?
  var idTag: String
  var rawIDTag: String
  var userID: Int
  var name: String?
  var validFrom: String?
  var validTo: String?
  var blocked: Bool
  var parentIDTag: String?

  func sameValues(as stored: TokenImportRow) -> Bool {
    userID == stored.userID && name == stored.name && validFrom == stored.validFrom
      && validTo == stored.validTo && blocked == stored.blocked && parentIDTag == stored.parentIDTag
  }
}

/// The owners named in an import, each looked up once (a file may give one user a million rows).
struct TokenImportOwners {
  let store: Store
  let tree: GroupTree
  private var ids: [String: Int] = [:]

  init(store: Store, tree: GroupTree) {
    self.store = store
    self.tree = tree
  }

  mutating func id(of email: String) throws -> Int {
    let key = email.lowercased()
    if let id = ids[key] { return id }
    guard let row = try store.db.queryOne(
      "SELECT id, group_id FROM charging_users WHERE email = ?", [email]),
      tree.contains(row.int("group_id"), under: store.actor.baseGroupID), let id = row.int("id")
    else { throw StoreError.notFound(kind: "user", name: email) }
    ids[key] = id
    return id
  }
}
