/// The few SQL forms that differ between SQLite and PostgreSQL in the stores `serve` writes
/// through, chosen by the backend's dialect (SQLite's text is what it always was).
enum ServeSQL {
  /// `column` (a stored time) as ISO 8601 text such as `2026-12-03T15:00:00.000Z`, for text
  /// built inside SQL (on SQLite the stored text already is that).
  static func isoText(_ column: String, _ dialect: SQLDialect) -> String {
    dialect == .sqlite
      ? column : "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
  }

  /// The next value of the id sequence `name` (a row of `id_sequences`), never below the
  /// highest id in `table`, written back in the same statement on PostgreSQL (an upsert that
  /// locks the sequence's row, so two writers never get the same id). `nil` on SQLite, whose
  /// callers read and write it in two steps inside their write transaction.
  static func nextSequenceValue(_ db: any StoreBackend, name: String, table: String) throws -> Int? {
    guard db.dialect == .postgresql else { return nil }
    let row = try db.queryOne(
      """
      INSERT INTO id_sequences (name, value)
        SELECT ?, coalesce(max(id), 0) + 1 FROM \(table)
      ON CONFLICT (name) DO UPDATE SET value = greatest(id_sequences.value + 1, excluded.value)
      RETURNING value
      """, [name])
    return row?.int("value") ?? 1
  }
}
