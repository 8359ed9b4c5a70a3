extension Schema {
  /// Who charged stays with the session: the user of the token at StartTransaction is recorded
  /// on the transaction, so deleting the token (or its user) later does not turn finished
  /// sessions into anonymous ones in reports and billing. Existing sessions are filled in from
  /// the tokens still there.
  static let history = """
    ALTER TABLE transactions ADD COLUMN user_email TEXT COLLATE NOCASE;
    UPDATE transactions SET user_email = (
      SELECT u.email FROM tokens tk JOIN charging_users u ON u.id = tk.user_id WHERE tk.id = transactions.token_id)
      WHERE token_id IS NOT NULL;
    """
}
