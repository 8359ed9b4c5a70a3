extension Store {
  /// A setting written by `serve` for the commands (such as `files_dir` and `public_url`).
  public func setting(_ key: String) throws -> String? {
    try db.queryOne("SELECT value FROM settings WHERE key = ?", [key])?.string("value")
  }

  /// Writes a setting, or removes it when `value` is `nil`.
  public func setSetting(_ key: String, _ value: String?) throws {
    if let value {
      try db.run(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value])
    } else {
      try db.run("DELETE FROM settings WHERE key = ?", [key])
    }
  }
}
