/// The subjects and bodies of the mail evctl sends, in one place.
public enum MailTexts {
  /// An invitation (or its reminder) with a one-time code.
  public static func invitation(
    email: String, role: Role, baseGroup: String?, code: String, validHours: Int, reminder: Bool
  ) -> (subject: String, body: String) {
    let subject = reminder ? "Reminder: your invitation to evctl" : "Your invitation to evctl"
    let body = """
      Hello,

      you are invited to operate the charging network with evctl as \(email):
      role \(role.rawValue), \(baseGroup.map { "base group \($0)" } ?? "the whole network").

      Your one-time code (valid \(validHours) hours, for a single use):

          \(code)

      Set your password and log in with:

          evctl login --invite \(code)

      If you did not expect this mail, ignore it.
      """
    return (subject, body)
  }

  /// A password reset code.
  public static func passwordReset(email: String, code: String, validHours: Int) -> (subject: String, body: String) {
    let body = """
      Hello,

      a new password was asked for the evctl operator \(email).

      Your one-time code (valid \(validHours) hour\(validHours == 1 ? "" : "s"), for a single use):

          \(code)

      Choose a new password and log in with:

          evctl login --invite \(code)

      If you did not ask for this, ignore this mail: your password stays as it is.
      """
    return ("evctl password reset", body)
  }

  /// The one line that names an alarm: `connector_faulted at CP-1 connector 1 (GroundFailure)`.
  public static func alarmLine(_ alarm: Alarm) -> String {
    "\(alarm.kind) at \(PrintableText.escaped(alarm.identity))" + (alarm.connectorID.map { " connector \($0)" } ?? "")
      + (alarm.code.map { " (\(PrintableText.escaped($0)))" } ?? "")
  }

  /// One mail about a new alarm.
  public static func alarm(_ alarm: Alarm, group: String?) -> (subject: String, body: String) {
    let subject = "evctl alarm: " + alarmLine(alarm)
    let body = """
      A new alarm was raised\(group.map { " in \($0)" } ?? ""):

          \(alarmLine(alarm))
          raised at \(alarm.raisedAt.iso8601)
      \(alarm.detail.map { "    \(PrintableText.escaped($0))\n" } ?? "")
      See it with: evctl alarm list --station \(alarm.identity)
      You get this mail because your alarm mail is 'instant' ('evctl operator update EMAIL --alarm-mail off' stops it).
      """
    return (subject, body)
  }

  /// The daily digest of active alarms in an operator's base group.
  public static func digest(_ alarms: [Alarm], group: String?, day: String) -> (subject: String, body: String) {
    let scope = group ?? "the whole network"
    let subject = "evctl daily alarms \(day): \(alarms.count) active in \(scope)"
    var body = "Active alarms in \(scope) on \(day):\n\n"
    for alarm in alarms {
      body += "  - \(alarmLine(alarm)), since \(alarm.raisedAt.iso8601)"
      if let detail = alarm.detail, !detail.isEmpty { body += ": \(PrintableText.escaped(detail))" }
      body += "\n"
    }
    body += "\nSee them with: evctl alarm list\n"
    body += "You get this mail because your alarm mail is 'daily' ('evctl operator update EMAIL --alarm-mail off' stops it).\n"
    return (subject, body)
  }
}
