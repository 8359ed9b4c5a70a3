/// The statements one ``PostgresConnection`` has seen, keyed by their SQL text: the text with its
/// `?` placeholders numbered `$1…`, and, from a statement's second use on, the name of a prepared
/// statement on the server (parsed once, not again on every call, as SQLite's statement cache).
///
/// A prepared statement is prepared afresh after `replanAfter` runs: the server may keep one generic
/// plan for it, made for the table sizes of the time (a fresh store's empty tables make sequential
/// scans), until an `ANALYZE` of its tables; a new one is planned for the sizes of now.
///
/// Bounded: past `capacity` texts the least recently used one is dropped, and its prepared
/// statement, if it had one, is listed for `DEALLOCATE`. Names are never reused, so a statement
/// deallocated late does no harm. Prepared statements live in the server's session: forget them
/// all (``removeAll()``) when the session is new (`PQreset`) or discarded.
struct PostgresStatementCache {
  /// How to send one statement.
  enum Plan: Equatable {
    /// Unnamed, parsed for this one call (a statement's first use).
    case unnamed(text: String)
    /// Prepare it as `name` first, then run it.
    case prepare(name: String, text: String)
    /// Run the statement prepared as `name`.
    case prepared(name: String)
  }

  private struct Entry {
    var text: String
    var name: String?
    var uses = 0
    var lastUse = 0
    /// Runs since it was prepared.
    var runs = 0
  }

  let capacity: Int
  let replanAfter: Int
  private var entries: [String: Entry] = [:]
  private var clock = 0
  private var serial = 0
  /// Prepared statements dropped from the cache, still to be deallocated on the server.
  private(set) var toDeallocate: [String] = []

  init(capacity: Int = 256, replanAfter: Int = 1_000) {
    self.capacity = max(1, capacity)
    self.replanAfter = max(1, replanAfter)
  }

  /// How many texts are cached, and how many of them are prepared on the server.
  var count: Int { entries.count }
  var preparedCount: Int { entries.values.count { $0.name != nil } }

  /// The plan for running `sql` now (counts it as used).
  mutating func plan(_ sql: String) -> Plan {
    clock += 1
    var entry = entries[sql] ?? Entry(text: PostgresPlaceholders.numbered(sql))
    entry.uses += 1
    entry.lastUse = clock
    let plan: Plan
    if let name = entry.name, entry.runs >= replanAfter {
      // Deallocated before the next statement; this one is prepared under a new name.
      toDeallocate.append(name)
      entry.name = nil
      entry.runs = 0
      serial += 1
      plan = .prepare(name: "evctl_\(serial)", text: entry.text)
    } else if let name = entry.name {
      entry.runs += 1
      plan = .prepared(name: name)
    } else if entry.uses >= 2 {
      serial += 1
      plan = .prepare(name: "evctl_\(serial)", text: entry.text)
    } else {
      plan = .unnamed(text: entry.text)
    }
    if entries[sql] == nil && entries.count >= capacity { evictLeastRecentlyUsed() }
    entries[sql] = entry
    return plan
  }

  /// Records that `sql` is now prepared on the server as `name`.
  mutating func prepared(_ sql: String, as name: String) {
    entries[sql]?.name = name
    entries[sql]?.runs = 1
  }

  /// Drops `sql` (its prepared statement failed or is gone); it is prepared again when used again.
  mutating func forget(_ sql: String) {
    if let name = entries.removeValue(forKey: sql)?.name { toDeallocate.append(name) }
  }

  /// Forgets every statement without deallocating: the server's session no longer has them.
  mutating func removeAll() {
    entries.removeAll()
    toDeallocate.removeAll()
  }

  /// Marks the pending deallocations as done.
  mutating func deallocated(_ names: [String]) {
    toDeallocate.removeAll { names.contains($0) }
  }

  private mutating func evictLeastRecentlyUsed() {
    guard let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key else { return }
    forget(oldest)
  }
}
