extension Schema {
  /// Large imports: rows are staged here in short transactions, then applied in short
  /// transactions after one commit point (see Store+ImportJobs.swift).
  static let imports = """
    CREATE TABLE import_jobs (
      id INTEGER PRIMARY KEY,
      kind TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('staging', 'committed')),
      pid INTEGER NOT NULL,
      started_at TEXT NOT NULL,
      touched_at TEXT NOT NULL
    );

    CREATE TABLE import_token_rows (
      job_id INTEGER NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      token_id INTEGER,
      id_tag TEXT NOT NULL,
      raw_id_tag TEXT NOT NULL,
      user_id INTEGER NOT NULL,
      name TEXT,
      valid_from TEXT,
      valid_to TEXT,
      blocked INTEGER NOT NULL,
      parent_id_tag TEXT,
      PRIMARY KEY (job_id, seq)
    ) WITHOUT ROWID;
    """
}
