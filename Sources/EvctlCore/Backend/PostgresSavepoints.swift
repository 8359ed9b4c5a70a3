/// Savepoints sent to the server only when they matter, for one ``PostgresConnection``.
///
/// serve opens a savepoint per unit of work and another per CALL inside it, and releases both a
/// moment later: four round trips per CALL, most of them around nothing. Here a savepoint is a
/// name on a stack until a statement runs; then the names opened since the last statement become
/// one real savepoint on the server, which is the same point to roll back to, since nothing ran
/// between them. Releasing one is deferred: the work after it simply stays inside the released
/// savepoint until the next one is made, and the `RELEASE` then goes out in the same round trip
/// as that `SAVEPOINT`; `COMMIT` releases it with everything else. Rolling back to a savepoint
/// no statement ran after does nothing; to one that did, `ROLLBACK TO` its real savepoint (which
/// also ends every later one, as SQL does).
struct PostgresSavepoints {
  private struct Name {
    var name: String
    /// The real savepoint it stands for; `nil` while no statement ran since it was opened.
    var real: Int?
  }

  private struct Real {
    var name: String
    /// Released by every name that stood for it; its `RELEASE` is still to be sent.
    var released = false
  }

  private var names: [Name] = []
  private var reals: [Real] = []

  /// Whether any savepoint is open or still to be released.
  var isEmpty: Bool { names.isEmpty && reals.isEmpty }

  /// Whether `name` is open here.
  func isOpen(_ name: String) -> Bool { names.contains { $0.name == name } }

  /// Opens `name` (nothing is sent yet).
  mutating func open(_ name: String) {
    names.append(Name(name: name, real: nil))
  }

  /// The SQL to send before the next statement, if any: the deferred `RELEASE` and the one
  /// `SAVEPOINT` for the names opened since the last statement. Call ``sent()`` once it ran.
  func beforeStatement() -> String? {
    guard names.last?.real == nil, !names.isEmpty else { return nil }
    let (kept, release) = splitReleased()
    let savepoint = "SAVEPOINT evctl_sp\(kept)"
    guard let release else { return savepoint }
    return "RELEASE \(release); \(savepoint)"
  }

  /// Records that ``beforeStatement()``'s SQL ran.
  mutating func sent() {
    guard names.last?.real == nil, !names.isEmpty else { return }
    let kept = splitReleased().kept
    reals.removeSubrange(kept...)
    reals.append(Real(name: "evctl_sp\(kept)"))
    for index in names.indices.reversed() {
      guard names[index].real == nil else { break }
      names[index].real = kept
    }
  }

  /// Releases `name` and every savepoint opened after it; `false` when it is not open here.
  mutating func release(_ name: String) -> Bool {
    guard let index = names.lastIndex(where: { $0.name == name }) else { return false }
    names.removeSubrange(index...)
    let stillUsed = names.last(where: { $0.real != nil })?.real ?? -1
    for real in reals.indices where real > stillUsed { reals[real].released = true }
    return true
  }

  /// Rolls back to `name` (which stays open, later ones end): the SQL to send, `nil` when no
  /// statement ran since it was opened. `false` first when it is not open here.
  mutating func rollback(to name: String) -> (open: Bool, sql: String?) {
    guard let index = names.lastIndex(where: { $0.name == name }) else { return (false, nil) }
    names.removeSubrange((index + 1)...)
    guard let real = names[index].real else { return (true, nil) }
    reals.removeSubrange((real + 1)...)
    return (true, "ROLLBACK TO \(reals[real].name)")
  }

  /// Forgets everything: the transaction ended (or the session did).
  mutating func removeAll() {
    names.removeAll()
    reals.removeAll()
  }

  /// How many real savepoints stay, and the lowest released one to send `RELEASE` for (which
  /// ends the ones above it too).
  private func splitReleased() -> (kept: Int, release: String?) {
    var kept = reals.count
    while kept > 0 && reals[kept - 1].released { kept -= 1 }
    return (kept, kept < reals.count ? reals[kept].name : nil)
  }
}
