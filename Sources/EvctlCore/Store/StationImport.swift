/// The result of an all-or-nothing import.
public struct ImportSummary: Equatable, Sendable {
  public var created = 0
  public var updated = 0
  public var unchanged = 0
  /// Whether anything was written (false for `--dry-run`).
  public var written = false
}

extension Store {
  /// The columns `station import` reads; `identity` and `name` are required.
  public static let stationImportColumns = [
    "identity", "name", "group", "description", "connectors", "heartbeat_interval",
    "availability", "registration_policy", "address", "latitude", "longitude", "external_id",
    "max_current", "security_profile", "authorization_key",
  ]

  /// Creates or updates stations from CSV, all or nothing.
  ///
  /// - Throws: ``StoreError/badInput(_:)`` listing every bad row as `FILE:LINE: reason`; nothing
  ///   is written then.
  public func importStations(csv text: String, file: String, dryRun: Bool = false) throws
    -> ImportSummary
  {
    let table = try CSVTable(text: text, file: file, known: Store.stationImportColumns,
                             required: ["identity", "name"])
    var problems: [String] = []
    var summary = ImportSummary()
    var seen: [String: Int] = [:]
    // One write transaction from the first read (BEGIN IMMEDIATE): a commit by `serve` between
    // a read and a write can then never invalidate it, and a killed import leaves nothing.
    do {
      return try db.transaction {
        let tree = try groupTree()
        for record in table.records {
          let where_ = "\(file):\(record.line)"
          let identity = record["identity"] ?? ""
          do {
            try Station.validate(identity: identity)
            if let first = seen[identity.lowercased()] {
              throw StoreError.invalid("duplicate identity '\(identity)' (also on line \(first))")
            }
            seen[identity.lowercased()] = record.line
            guard let name = record["name"], !name.isEmpty else {
              throw StoreError.invalid("name is empty")
            }
            var changes = StationChanges()
            changes.name = name
            changes.description = record["description"]
            if let group = record["group"] { _ = try resolveGroup(group, in: tree) }
            changes.group = record["group"]
            changes.heartbeatInterval = try record.int("heartbeat_interval")
            if let availability = record["availability"] {
              guard availability == "public" || availability == "private" else {
                throw StoreError.invalid(
                  "invalid availability '\(availability)': expected public or private")
              }
              changes.isPublic = availability == "public"
            }
            if let policy = record["registration_policy"] {
              guard let value = RegistrationPolicy(rawValue: policy) else {
                throw StoreError.invalid(
                  "invalid registration_policy '\(policy)': expected accept, pending or reject")
              }
              changes.registrationPolicy = value
            }
            changes.details.address = record["address"]
            changes.details.latitude = try record.double("latitude")
            changes.details.longitude = try record.double("longitude")
            changes.details.externalID = record["external_id"]
            changes.details.maxCurrent = try record.double("max_current")
            try changes.details.validate()
            let profile = try record["security_profile"].map(SecurityProfile.parse)
            let key = record["authorization_key"].map { Array($0.utf8) }
            if let key { try validate(stationPassword: key) }
            if key != nil, let profile, !profile.usesPassword {
              throw StoreError.invalid("authorization_key: security profile \(profile.rawValue) uses none")
            }
            let connectorCount = try record.int("connectors")
            let exists =
              try db.queryOne("SELECT 1 FROM stations WHERE identity = ?", [identity]) != nil
            if exists {
              var before = try station(identity)
              if let key { try setStationPassword(identity, password: key) }
              changes.securityProfile = profile
              var after = try updateStation(identity, changes)
              before.updatedAt = after.updatedAt
              after.updatedAt = before.updatedAt
              if before == after { summary.unchanged += 1 } else { summary.updated += 1 }
            } else {
              // Profile 1 unless the file says otherwise; without an authorization_key such a
              // station cannot connect until 'station passwd' (db check lists it).
              _ = try createStation(
                identity: identity, name: name, group: changes.group,
                description: changes.description, connectors: connectorCount ?? 1,
                password: key, securityProfile: profile ?? .basic)
              _ = try updateStation(identity, changes)
              summary.created += 1
            }
          } catch let error as StoreError {
            problems.append("\(where_): \(error)")
          }
        }
        if !problems.isEmpty { throw StoreError.badInput(problems) }
        if dryRun { throw DryRun(summary: summary) }
        summary.written = true
        return summary
      }
    } catch let dry as DryRun<ImportSummary> {
      return dry.summary
    }
  }
}

/// Thrown to roll back a checked import on `--dry-run`, carrying what it would have done.
struct DryRun<Summary: Sendable>: Error {
  let summary: Summary
}

/// A CSV file with a header row, read into named fields.
struct CSVTable {
  struct Record {
    let line: Int
    let values: [String: String]
    let file: String

    /// The trimmed value of a column; `nil` when missing or empty.
    subscript(_ column: String) -> String? {
      guard let value = values[column]?.trimmingSpaces, !value.isEmpty else { return nil }
      return value
    }

    func int(_ column: String) throws -> Int? {
      guard let text = self[column] else { return nil }
      guard let value = Int(text) else {
        throw StoreError.invalid("\(column) '\(text)' is not a whole number")
      }
      return value
    }

    func double(_ column: String) throws -> Double? {
      guard let text = self[column] else { return nil }
      guard let value = Double(text), value.isFinite else {
        throw StoreError.invalid("\(column) '\(text)' is not a number")
      }
      return value
    }

    func bool(_ column: String) throws -> Bool? {
      guard let text = self[column]?.lowercased() else { return nil }
      switch text {
      case "1", "true", "yes", "y": return true
      case "0", "false", "no", "n": return false
      default: throw StoreError.invalid("\(column) '\(text)' is not true or false")
      }
    }

    func timestamp(_ column: String) throws -> Timestamp? {
      guard let text = self[column] else { return nil }
      switch TimeInput.parseAbsolute(text, zone: try LocalTime(identifier: nil)) {
      case .success(let value): return value
      case .failure(let error) where error.reason.hasPrefix("expected"):
        throw StoreError.invalid(
          "\(column) '\(text)' is not a date or ISO 8601 time (e.g. 2026-12-31 or 2026-12-31T23:59:00Z)")
      case .failure(let error):
        throw StoreError.invalid("\(column) '\(text)': \(error.reason)")
      }
    }
  }

  let records: [Record]

  init(text: String, file: String, known: [String], required: [String]) throws {
    let rows: [CSVRecord]
    do {
      rows = try CSVReader.parse(text)
    } catch {
      throw StoreError.badInput(["\(file):\(error.line): \(error.reason)"])
    }
    guard let header = rows.first else {
      throw StoreError.badInput(["\(file):1: empty file: expected a header row"])
    }
    let names = header.fields.map { $0.trimmingSpaces.lowercased() }
    var problems: [String] = []
    for name in names where !known.contains(name) {
      problems.append(
        "\(file):\(header.line): unknown column '\(name)' (known: \(known.joined(separator: ", ")))")
    }
    for name in required where !names.contains(name) {
      problems.append("\(file):\(header.line): missing required column '\(name)'")
    }
    var records: [Record] = []
    for row in rows.dropFirst() {
      if row.fields.count != names.count {
        problems.append(
          "\(file):\(row.line): expected \(names.count) fields, found \(row.fields.count)")
        continue
      }
      records.append(
        Record(
          line: row.line, values: Dictionary(zip(names, row.fields), uniquingKeysWith: { a, _ in a }),
          file: file))
    }
    guard problems.isEmpty else { throw StoreError.badInput(problems) }
    self.records = records
  }
}
