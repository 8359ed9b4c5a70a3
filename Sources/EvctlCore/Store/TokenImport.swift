extension Store {
  /// The columns `token import` reads and `token export` writes; `id_tag` and `user` are required.
  public static let tokenColumns = [
    "id_tag", "user", "name", "valid_from", "valid_to", "blocked", "parent_id_tag",
  ]

  /// Adds or updates tokens from CSV, all or nothing.
  ///
  /// - Throws: ``StoreError/badInput(_:)`` listing every bad row as `FILE:LINE: reason`.
  public func importTokens(csv text: String, file: String, dryRun: Bool = false) throws
    -> ImportSummary
  {
    try require(.manageTokens)
    let table = try CSVTable(
      text: text, file: file, known: Store.tokenColumns, required: ["id_tag", "user"])
    var problems: [String] = []
    var summary = ImportSummary()
    var seen: [String: Int] = [:]
    try db.execute("SAVEPOINT token_import")
    for record in table.records {
      do {
        let raw = record["id_tag"] ?? ""
        let idTag = try IdTagCanonicalizer.canonical(raw)
        if let first = seen[idTag] {
          throw StoreError.invalid("duplicate id tag '\(idTag)' (also on line \(first))")
        }
        seen[idTag] = record.line
        guard let email = record["user"] else { throw StoreError.invalid("user is empty") }
        _ = try user(email)
        let validFrom = try record.timestamp("valid_from")
        let validTo = try record.timestamp("valid_to")
        let blocked = try record.bool("blocked")
        let exists =
          try db.queryOne("SELECT 1 FROM tokens WHERE id_tag = ?", [idTag]) != nil
        if exists {
          var changes = TokenChanges()
          changes.name = record["name"]
          changes.validFrom = validFrom
          changes.validTo = validTo
          changes.noExpiry = validTo == nil
          changes.parentIDTag = record["parent_id_tag"]
          changes.clearParent = record["parent_id_tag"] == nil
          changes.userEmail = email
          let before = try token(idTag)
          let after = try updateToken(idTag, changes)
          if let blocked, blocked != after.blocked { _ = try setTokenBlocked(idTag, blocked: blocked) }
          let final = try token(idTag)
          if final == before { summary.unchanged += 1 } else { summary.updated += 1 }
        } else {
          _ = try addToken(
            idTag: raw, userEmail: email, name: record["name"], validFrom: validFrom,
            validTo: validTo, parentIDTag: record["parent_id_tag"], blocked: blocked ?? false)
          summary.created += 1
        }
      } catch let error as StoreError {
        problems.append("\(file):\(record.line): \(error)")
      } catch {
        try? db.execute("ROLLBACK TO token_import; RELEASE token_import")
        throw error
      }
    }
    if !problems.isEmpty || dryRun {
      try db.execute("ROLLBACK TO token_import; RELEASE token_import")
      if !problems.isEmpty { throw StoreError.badInput(problems) }
      return summary
    }
    try db.execute("RELEASE token_import")
    summary.written = true
    return summary
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
