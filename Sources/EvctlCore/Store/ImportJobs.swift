import Glibc

/// Large imports as one all-or-nothing unit made of short transactions.
///
/// A write transaction blocks every other writer, `evctl serve` included, for as long as it
/// lasts. So an import never holds the write lock for more than one chunk of rows:
///
/// 1. the rows (already checked) are staged in `import_token_rows`, one chunk per transaction;
///    nobody reads that table, so a half-staged import changes nothing anyone sees;
/// 2. one short transaction marks the job `committed`: the commit point;
/// 3. the staged rows are applied to `tokens` and removed, one chunk per transaction.
///
/// A process killed before the commit point leaves only staged rows, which the next evctl
/// process (or `serve`) discards; killed after it, the next one finishes applying them. Between
/// chunks the importer pauses briefly, so a waiting `serve` gets the lock.
/// An import of at most ``importChunkRows`` rows is a single transaction.
///
/// Whether a job's process is gone: on SQLite its pid (one machine); on PostgreSQL, where the
/// importer may run on another workstation, the session-level advisory lock it holds on the job
/// for as long as it runs, which the server releases when that process's connection ends.
extension Store {
  /// Rows per transaction: well under a millisecond of work.
  static let importChunkRows = 250
  /// The pause between two chunks.
  static let importPauseMicroseconds: UInt32 = 300
  /// A job whose process is gone, or that has not moved for this long, is abandoned.
  static let abandonedImportSeconds: Int64 = 600
  /// The advisory-lock class of import jobs on PostgreSQL (the job id is the second key).
  static let importJobLockClass = 0x4556_0003

  /// Writes `rows` through an import job and returns once all of them are applied.
  func runTokenImportJob(_ rows: [TokenImportRow]) throws {
    guard !rows.isEmpty else { return }
    if rows.count <= Store.importChunkRows || db.isInTransaction {
      try db.transaction {
        let job = try createImportJob(state: "committed")
        try stage(rows[...], job: job, firstSeq: 0)
        while try applyTokenChunk(job: job) {}
      }
      return
    }
    // The lock is taken before the job row is committed, so nobody sees the job unowned.
    let job = try chunk {
      let job = try createImportJob(state: "staging")
      try holdImportJob(job)
      return job
    }
    defer { try? releaseImportJob(job) }
    do {
      var start = 0
      while start < rows.count {
        let end = min(start + Store.importChunkRows, rows.count)
        try chunk { try stage(rows[start..<end], job: job, firstSeq: start) }
        start = end
      }
      try chunk {
        try db.run("UPDATE import_jobs SET state = 'committed', touched_at = ? WHERE id = ?",
                   [now().iso8601, job])
      }
    } catch {
      try? discardImportJob(job)
      throw error
    }
    while try chunk({ try applyTokenChunk(job: job) }) {}
  }

  /// Finishes or discards the imports of processes that died (kill -9, power loss).
  ///
  /// Committed jobs are applied to the end, staged ones are dropped. With `pausing` false (in
  /// `serve`'s loop, inside its batch) at most `maxChunks` chunks are done per call.
  public func resumeInterruptedImports(maxChunks: Int = .max, pausing: Bool = true) throws {
    let jobs = try db.query("SELECT id, state, pid, touched_at FROM import_jobs ORDER BY id")
    var budget = maxChunks
    for job in jobs {
      guard let id = job.int("id"), try isAbandoned(id, pid: job.int("pid"), touchedAt: job.date("touched_at"))
      else { continue }
      // On PostgreSQL the job's lock is ours now (isAbandoned took it) until it is finished.
      defer { try? releaseImportJob(id) }
      let committed = job.string("state") == "committed"
      // Taken over: pid 0 marks it abandoned for good, so the next call (here or on another
      // workstation) carries on although finishing chunks touches it.
      try db.run("UPDATE import_jobs SET pid = 0 WHERE id = ?", [id])
      while budget > 0 {
        budget -= 1
        let more: Bool
        if pausing {
          more = try chunk { try resumeStep(job: id, committed: committed) }
        } else {
          more = try db.transaction { try resumeStep(job: id, committed: committed) }
        }
        if !more { break }
      }
      if budget <= 0 { return }
    }
  }

  private func resumeStep(job: Int, committed: Bool) throws -> Bool {
    // Re-read inside the write transaction: another process may have finished it meanwhile.
    guard let state = try db.queryOne("SELECT state FROM import_jobs WHERE id = ?", [job])?
      .string("state")
    else { return false }
    if state == "committed" || committed { return try applyTokenChunk(job: job) }
    return try discardChunk(job: job)
  }

  /// Whether job `id`'s process is gone; on PostgreSQL, when it is, this connection holds the
  /// job's lock afterwards (``releaseImportJob(_:)`` lets go of it).
  private func isAbandoned(_ id: Int, pid: Int?, touchedAt: Timestamp?) throws -> Bool {
    let stale = touchedAt.map { now().milliseconds - $0.milliseconds > Store.abandonedImportSeconds * 1000 } ?? true
    // This process's own import (a lock it holds would be granted to it again).
    if let pid, pid > 0, pid_t(pid) == getpid() { return stale }
    if dialect == .postgresql {
      // Granted only once the session that holds it (the importer's, anywhere) has ended.
      return try db.queryOne(
        "SELECT CASE WHEN pg_try_advisory_lock(CAST(? AS integer), CAST(? AS integer)) THEN 1 ELSE 0 END AS taken",
        [Store.importJobLockClass, id])?.bool("taken") ?? false
    }
    if stale { return true }
    guard let pid, pid > 0 else { return true }
    return kill(pid_t(pid), 0) != 0 && errno == ESRCH
  }

  /// Holds job `job`'s advisory lock for this session (PostgreSQL; nothing on SQLite). A
  /// session-level lock: it outlives the transaction that takes it and ends with the session.
  private func holdImportJob(_ job: Int) throws {
    guard dialect == .postgresql else { return }
    try db.query("SELECT pg_advisory_lock(CAST(? AS integer), CAST(? AS integer))", [Store.importJobLockClass, job])
  }

  /// Lets go of job `job`'s advisory lock (PostgreSQL; nothing on SQLite).
  private func releaseImportJob(_ job: Int) throws {
    guard dialect == .postgresql else { return }
    try db.query("SELECT pg_advisory_unlock(CAST(? AS integer), CAST(? AS integer))", [Store.importJobLockClass, job])
  }

  private func createImportJob(state: String) throws -> Int {
    let stamp = now().iso8601
    let newID = try db.insertReturningID(
      "INSERT INTO import_jobs (kind, state, pid, started_at, touched_at) VALUES ('token', ?, ?, ?, ?)",
      [state, Int(getpid()), stamp, stamp])
    return newID
  }

  private func stage(_ rows: ArraySlice<TokenImportRow>, job: Int, firstSeq: Int) throws {
    var seq = firstSeq
    let insert = """
      INSERT INTO import_token_rows (job_id, seq, token_id, id_tag, raw_id_tag, user_id, name,
        valid_from, valid_to, blocked, parent_id_tag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """
    for row in rows {
      try db.run(insert, [
        job, seq, row.tokenID, row.idTag, row.rawIDTag, row.userID, row.name, row.validFrom,
        row.validTo, row.blocked, row.parentIDTag,
      ])
      seq += 1
    }
    try db.run("UPDATE import_jobs SET touched_at = ? WHERE id = ?", [now().iso8601, job])
  }

  /// Applies and removes the next chunk of a committed job; `false` once nothing is left (the
  /// job row is deleted then).
  private func applyTokenChunk(job: Int) throws -> Bool {
    guard let low = try db.queryOne(
      "SELECT min(seq) AS low FROM import_token_rows WHERE job_id = ?", [job])?.int("low")
    else {
      try db.run("DELETE FROM import_jobs WHERE id = ?", [job])
      return false
    }
    let high = low + Store.importChunkRows
    let stamp = now().iso8601
    // A user deleted since the rows were checked takes its rows with it.
    try db.run(
      """
      UPDATE tokens SET user_id = r.user_id, name = r.name, valid_from = r.valid_from,
        valid_to = r.valid_to, blocked = r.blocked, parent_id_tag = r.parent_id_tag, updated_at = ?
      FROM import_token_rows r
      WHERE r.job_id = ? AND r.seq >= ? AND r.seq < ? AND r.token_id = tokens.id
        AND EXISTS (SELECT 1 FROM charging_users u WHERE u.id = r.user_id)
      """, [stamp, job, low, high])
    try db.run(
      """
      INSERT INTO tokens (id_tag, raw_id_tag, user_id, name, valid_from, valid_to, blocked,
        parent_id_tag, allow_concurrent, created_at, updated_at)
      SELECT r.id_tag, r.raw_id_tag, r.user_id, r.name, r.valid_from, r.valid_to, r.blocked,
        r.parent_id_tag, FALSE, ?, ?
      FROM import_token_rows r
      WHERE r.job_id = ? AND r.seq >= ? AND r.seq < ? AND r.token_id IS NULL
        AND EXISTS (SELECT 1 FROM charging_users u WHERE u.id = r.user_id)
      ON CONFLICT (id_tag) DO UPDATE SET user_id = excluded.user_id, name = excluded.name,
        valid_from = excluded.valid_from, valid_to = excluded.valid_to, blocked = excluded.blocked,
        parent_id_tag = excluded.parent_id_tag, updated_at = excluded.updated_at
      """, [stamp, stamp, job, low, high])
    try db.run(
      "DELETE FROM import_token_rows WHERE job_id = ? AND seq >= ? AND seq < ?", [job, low, high])
    try db.run("UPDATE import_jobs SET touched_at = ? WHERE id = ?", [stamp, job])
    return true
  }

  private func discardChunk(job: Int) throws -> Bool {
    let removed = try db.run(
      """
      DELETE FROM import_token_rows WHERE job_id = ? AND seq IN
        (SELECT seq FROM import_token_rows WHERE job_id = ? ORDER BY seq LIMIT ?)
      """, [job, job, Store.importChunkRows])
    if removed == 0 {
      try db.run("DELETE FROM import_jobs WHERE id = ?", [job])
      return false
    }
    return true
  }

  private func discardImportJob(_ job: Int) throws {
    while try chunk({ try discardChunk(job: job) }) {}
  }

  /// Runs `body` in its own short write transaction, then pauses briefly, so that `serve`,
  /// polling for the lock every 0.1 ms while it waits, gets it between two chunks.
  @discardableResult
  private func chunk<T>(_ body: () throws -> T) throws -> T {
    let result = try db.transaction(body)
    usleep(Store.importPauseMicroseconds)
    return result
  }
}
