extension Schema {
  /// Smart charging (issue 9): handing on unused current, meters that include the chargers, and
  /// the change counter the CLI bumps so serve replans at once.
  static let smartCharging = """
    ALTER TABLE group_capacities ADD COLUMN meter_includes_chargers INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE group_capacities ADD COLUMN hand_on_seconds INTEGER NOT NULL DEFAULT 180;
    ALTER TABLE allocations ADD COLUMN underdraw_since TEXT;
    ALTER TABLE allocations ADD COLUMN hand_on_cap REAL;
    """
}
