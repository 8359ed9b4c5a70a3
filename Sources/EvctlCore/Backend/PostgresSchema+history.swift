extension PostgresSchema {
  /// The PostgreSQL twin of ``Schema/history``: the token's user recorded on the transaction.
  static let history = """
    ALTER TABLE transactions ADD COLUMN user_email text COLLATE evctl_nocase;
    UPDATE transactions SET user_email = (
      SELECT u.email FROM tokens tk JOIN charging_users u ON u.id = tk.user_id WHERE tk.id = transactions.token_id)
      WHERE token_id IS NOT NULL;
    """
}
