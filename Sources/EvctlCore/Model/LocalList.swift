/// One entry of a station's local authorization list [S16 §5.15, §7.1].
public struct LocalListEntry: Equatable, Sendable {
  public var idTag: String
  public var status: String
  public var expiryDate: Timestamp?
  public var parentIDTag: String?

  /// Creates an entry.
  public init(idTag: String, status: String = "Accepted", expiryDate: Timestamp? = nil, parentIDTag: String? = nil) {
    self.idTag = idTag
    self.status = status
    self.expiryDate = expiryDate
    self.parentIDTag = parentIDTag
  }

  /// Reads an `AuthorizationData` object; `nil` when it has no `idTagInfo` (a removal).
  public init?(json: JSONValue) {
    guard let tag = json["idTag"]?.stringValue, let info = json["idTagInfo"], info.objectValue != nil
    else { return nil }
    self.init(
      idTag: tag, status: info["status"]?.stringValue ?? "Accepted",
      expiryDate: info["expiryDate"]?.stringValue.flatMap(Timestamp.init(parsing:)),
      parentIDTag: info["parentIdTag"]?.stringValue)
  }

  /// The `AuthorizationData` JSON: with `idTagInfo`, or without it to delete in a differential.
  public func json(removing: Bool = false) -> JSONValue {
    guard !removing else { return ["idTag": .string(idTag)] }
    var info: [String: JSONValue] = ["status": .string(status)]
    if let expiryDate { info["expiryDate"] = .string(expiryDate.iso8601) }
    if let parentIDTag { info["parentIdTag"] = .string(parentIDTag) }
    return ["idTag": .string(idTag), "idTagInfo": .object(info)]
  }
}

/// The SendLocalList messages that bring a station from what it holds to what it should hold.
public struct LocalListPlan: Equatable, Sendable {
  /// `Full` or `Differential`, for the first message.
  public var updateType: String
  /// The SendLocalList payloads, in order; empty when the station is already up to date.
  public var messages: [JSONValue]
  /// The version the station holds after the last message.
  public var finalVersion: Int
  /// How many entries are added or changed, and removed.
  public var changed: Int
  public var removed: Int
  /// How many held entries are sent as `Blocked` (tokens blocked or deleted since), so that a
  /// station that cached them stops accepting them.
  public var blocked = 0
}

/// Plans local list updates: pure, so that the rules are tested without a station.
public enum LocalListPlanner {
  /// Why a list cannot be sent.
  public struct Refusal: Error, Equatable, CustomStringConvertible, Sendable {
    public let description: String
  }

  /// Plans the messages for one station.
  ///
  /// - Parameters:
  ///   - desired: what the station should hold.
  ///   - held: what we believe it holds (our mirror), valid only when `differential` is possible.
  ///   - currentVersion: the version we last sent and the station acknowledged.
  ///   - differential: whether the station still holds `currentVersion`.
  ///   - maxListLength: `LocalAuthListMaxLength`; `nil` when unknown.
  ///   - maxMessageLength: `SendLocalListMaxLength`; `nil` when unknown.
  ///   - revoked: tags of tokens blocked or deleted since; in a differential update, a held entry
  ///     of such a tag is sent as `Blocked` (once) instead of being removed.
  public static func plan(
    desired: [LocalListEntry], held: [LocalListEntry], currentVersion: Int, differential: Bool,
    maxListLength: Int?, maxMessageLength: Int?, revoked: Set<String> = []
  ) throws(Refusal) -> LocalListPlan {
    if let maxListLength, desired.count > maxListLength {
      throw Refusal(
        description: "the list has \(desired.count) tokens but the station holds at most \(maxListLength) (LocalAuthListMaxLength)")
    }
    let chunkSize = max(1, maxMessageLength ?? Int.max)
    var payloads: [[JSONValue]] = []
    var updateType = "Full"
    var changed = desired.count
    var removed = 0
    var blockedCount = 0
    if differential {
      updateType = "Differential"
      let heldByTag = Dictionary(held.map { ($0.idTag, $0) }, uniquingKeysWith: { a, _ in a })
      let desiredTags = Set(desired.map(\.idTag))
      let updates = desired.filter { heldByTag[$0.idTag] != $0 }.map { $0.json() }
      let gone = held.filter { !desiredTags.contains($0.idTag) }
      let blocks = gone.filter { revoked.contains($0.idTag) && $0.status != "Blocked" }
        .map { LocalListEntry(idTag: $0.idTag, status: "Blocked").json() }
      let removals = gone.filter { !revoked.contains($0.idTag) }.map { $0.json(removing: true) }
      changed = updates.count
      removed = removals.count
      let all = updates + blocks + removals
      if all.isEmpty {
        return LocalListPlan(updateType: updateType, messages: [], finalVersion: currentVersion,
                             changed: 0, removed: 0)
      }
      blockedCount = blocks.count
      payloads = stride(from: 0, to: all.count, by: chunkSize).map {
        Array(all[$0..<min($0 + chunkSize, all.count)])
      }
    } else {
      let all = desired.map { $0.json() }
      payloads = all.isEmpty ? [[]] : stride(from: 0, to: all.count, by: chunkSize).map {
        Array(all[$0..<min($0 + chunkSize, all.count)])
      }
    }
    var version = max(currentVersion, 0)
    var messages: [JSONValue] = []
    for (index, entries) in payloads.enumerated() {
      version = version >= Int(Int32.max) ? 1 : version + 1
      let type = index == 0 ? updateType : "Differential"
      messages.append([
        "listVersion": .int(Int64(version)), "updateType": .string(type),
        "localAuthorizationList": .array(entries),
      ])
    }
    return LocalListPlan(updateType: updateType, messages: messages, finalVersion: version,
                         changed: changed, removed: removed, blocked: blockedCount)
  }
}
