/// What `user import` did: charging users and their tokens, counted apart.
public struct UserImportSummary: Equatable, Sendable {
  public var users = ImportSummary()
  public var tokens = ImportSummary()
  /// Whether anything was written (false for `--dry-run`).
  public var written = false
}

extension Store {
  /// The columns `user import` reads and `user export` writes; only `email` is required.
  ///
  /// One row per card: a user with three cards takes three rows (the user's own fields may be
  /// left empty on all but one); a user without a card takes one row with empty token fields.
  public static let userImportColumns = [
    "email", "first_name", "last_name", "phone", "group", "id_tag", "token_name", "valid_from",
    "valid_to", "blocked",
  ]

  /// Creates or updates charging users, and the tokens named on their rows, from CSV: all or
  /// nothing, in one write transaction.
  ///
  /// - Throws: ``StoreError/badInput(_:)`` listing every bad row as `FILE:LINE: reason`; nothing
  ///   is written then.
  public func importUsers(csv text: String, file: String, dryRun: Bool = false) throws
    -> UserImportSummary
  {
    try require(.manageUsers)
    let table = try CSVTable(
      text: text, file: file, known: Store.userImportColumns, required: ["email"])
    if table.records.contains(where: { $0["id_tag"] != nil }) { try require(.manageTokens) }
    do {
      return try db.transaction {
        var summary = UserImportSummary()
        var problems: [String] = []
        var firstLine: [String: (line: Int, record: CSVTable.Record)] = [:]
        var tokenRecords: [CSVTable.Record] = []
        for record in table.records {
          do {
            guard let email = record["email"] else { throw StoreError.invalid("email is empty") }
            let key = email.lowercased()
            if let first = firstLine[key] {
              for column in ["first_name", "last_name", "phone", "group"] {
                if let value = record[column], value != first.record[column] {
                  throw StoreError.invalid(
                    "\(column) '\(value)' differs from line \(first.line) ('\(first.record[column] ?? "")')")
                }
              }
            } else {
              firstLine[key] = (record.line, record)
              try importUser(record, email: email, into: &summary.users)
            }
            if record["id_tag"] != nil {
              tokenRecords.append(
                CSVTable.Record(
                  line: record.line,
                  values: [
                    "id_tag": record["id_tag"] ?? "", "user": email, "name": record["token_name"] ?? "",
                    "valid_from": record["valid_from"] ?? "", "valid_to": record["valid_to"] ?? "",
                    "blocked": record["blocked"] ?? "",
                  ], file: file))
            } else {
              for column in ["token_name", "valid_from", "valid_to", "blocked"] where record[column] != nil {
                throw StoreError.invalid("\(column) is set but id_tag is empty")
              }
            }
          } catch let error as StoreError {
            problems.append("\(file):\(record.line): \(error)")
          }
        }
        do {
          let (rows, tokens) = try planTokenImport(CSVTable(records: tokenRecords), file: file)
          summary.tokens = tokens
          if problems.isEmpty { try runTokenImportJob(rows) }
        } catch StoreError.badInput(let lines) {
          problems += lines
        }
        if !problems.isEmpty {
          throw StoreError.badInput(problems.sorted(by: { lineNumber($0) < lineNumber($1) }))
        }
        if dryRun { throw DryRun(summary: summary) }
        summary.written = true
        return summary
      }
    } catch let dry as DryRun<UserImportSummary> {
      return dry.summary
    }
  }

  private func importUser(_ record: CSVTable.Record, email: String, into summary: inout ImportSummary)
    throws
  {
    let first = record["first_name"], last = record["last_name"]
    let phone = record["phone"], group = record["group"]
    guard let current = try? user(email) else {
      guard let first, let last else {
        throw StoreError.invalid("first_name and last_name are required for a new user")
      }
      _ = try createUser(email: email, firstName: first, lastName: last, phone: phone, group: group)
      summary.created += 1
      return
    }
    let groupID = try group.map { try resolveGroup($0).id }
    let same =
      (first ?? current.firstName) == current.firstName
      && (last ?? current.lastName) == current.lastName
      && (phone ?? current.phone) == current.phone
      && (groupID ?? current.groupID) == current.groupID
    if same {
      summary.unchanged += 1
      return
    }
    _ = try updateUser(email, firstName: first, lastName: last, phone: phone, group: group)
    summary.updated += 1
  }

  private func lineNumber(_ problem: String) -> Int {
    let parts = problem.split(separator: ":", maxSplits: 2)
    return parts.count > 1 ? Int(parts[1]) ?? 0 : 0
  }

  /// The visible users as CSV rows in ``userImportColumns`` order, the header first: one row
  /// per token, and one for each user without a token.
  public func exportUsers() throws -> [[String]] {
    var rows = [Store.userImportColumns]
    var byUser: [Int: [Token]] = [:]
    for token in try tokens() { byUser[token.userID, default: []].append(token) }
    for user in try users() {
      let base = [user.email, user.firstName, user.lastName, user.phone ?? "", user.groupPath ?? ""]
      let tokens = byUser[user.id] ?? []
      if tokens.isEmpty { rows.append(base + ["", "", "", "", ""]) }
      for token in tokens {
        rows.append(
          base + [
            token.idTag, token.name ?? "", token.validFrom?.iso8601 ?? "",
            token.validTo?.iso8601 ?? "", token.blocked ? "true" : "false",
          ])
      }
    }
    return rows
  }
}

extension CSVTable {
  /// A table of records built by another import.
  init(records: [Record]) { self.records = records }
}
