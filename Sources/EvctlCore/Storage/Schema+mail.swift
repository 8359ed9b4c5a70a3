extension Schema {
  /// Mail (issue 16 item 4): each operator's choice of alarm mail, one-time codes for
  /// invitations and password resets (only their digests), and the outbox that `serve --smtp`
  /// delivers from, with each message's attempts and last error.
  static let mail = """
    ALTER TABLE operators ADD COLUMN alarm_mail TEXT NOT NULL DEFAULT 'off'
      CHECK (alarm_mail IN ('off', 'instant', 'daily'));
    ALTER TABLE operators ADD COLUMN alarm_mail_hour INTEGER NOT NULL DEFAULT 7
      CHECK (alarm_mail_hour BETWEEN 0 AND 23);
    ALTER TABLE operators ADD COLUMN last_digest_on TEXT;

    CREATE TABLE operator_codes (
      id INTEGER PRIMARY KEY,
      operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
      purpose TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
      code_hash TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      used_at TEXT
    );
    CREATE INDEX operator_codes_operator ON operator_codes (operator_id);

    CREATE TABLE mail_outbox (
      id INTEGER PRIMARY KEY,
      operator_id INTEGER REFERENCES operators(id) ON DELETE SET NULL,
      recipient TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('invite', 'reset', 'alarm', 'digest')),
      subject TEXT NOT NULL,
      body TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at TEXT NOT NULL,
      last_error TEXT,
      created_at TEXT NOT NULL,
      sent_at TEXT
    );
    CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE state = 'queued';
    CREATE INDEX mail_outbox_operator ON mail_outbox (operator_id, id);
    """
}
