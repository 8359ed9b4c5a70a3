import EvctlCore
import Foundation

/// Invitations, password resets and alarm mail (issue 16 item 4); `serve --smtp` delivers.
extension Commands {
  static let operatorInvite: CommandSpec = CommandSpec(
    "invite", abstract: "Invite an operator by mail with a one-time code (48 h, single use)",
    discussion: """
      Creates the operator without a password and queues a mail with a one-time code, which
      'evctl serve --smtp …' sends. The invitee sets their password with 'evctl login --invite
      CODE'. Inviting an operator who has not set a password yet sends a reminder with a new
      code (the earlier code stops working). Only the code's digest is stored.
      """,
    arguments: [
      .positional("email", help: "The invitee's email, their login"),
      .option("role", value: "role", help: "What they may do; needed for a new operator",
              choices: Role.allCases.map(\.rawValue)),
      .option("base-group", value: "group", help: "The subtree they see; omit for the whole network",
              completion: .groups),
      .option("name", value: "name", help: "Full name"),
    ],
    examples: [
      .init("Invite a basic operator for one site", "evctl operator invite ann@example.com --role basic --base-group HQ --name Ann"),
      .init("Remind someone who has not set a password yet", "evctl operator invite ann@example.com"),
    ]
  ) { inv in
    let store = try inv.context.openStore()
    let email = inv.required("email")
    if inv.arguments.option("role") == nil, (try? store.operatorNamed(email)) == nil {
      throw UsageError(
        message: "missing --role: '\(PrintableText.escaped(email))' is a new operator; say what they may do with --role "
          + Role.allCases.map(\.rawValue).joined(separator: "|"),
        commandPath: inv.arguments.path)
    }
    let invitation = try store.inviteOperator(
      email: email, name: inv.arguments.option("name"),
      role: inv.arguments.option("role").flatMap(Role.init(rawValue:)),
      baseGroup: inv.arguments.option("base-group"))
    // A dry run queues nothing, so it says only what would happen; confirm adds "(dry run)".
    let verb = invitation.reminder ? "reminded" : "invited"
    let queued = invitation.reminder ? "new invitation code queued" : "invitation code queued"
    inv.context.confirm(
      "operator", invitation.operatorEmail, inv.context.isDryRun ? verb : "\(verb) (\(queued))")
    try mailHint(store, inv: inv)
  }

  static let passwordReset: CommandSpec = CommandSpec(
    "password-reset", abstract: "Mail an operator a one-time code to set a new password (1 h, single use)",
    discussion: """
      Needs no login. When EMAIL is an active operator, a code is queued for 'evctl serve
      --smtp …' to mail; the answer is the same for any email, so it does not tell which
      exist. The code is used with 'evctl login --invite CODE', which sets the new password and
      ends the operator's other login sessions.
      """,
    arguments: [.positional("email", help: "The operator's email")],
    examples: [.init("Forgot a password", "evctl password-reset ann@example.com")]
  ) { inv in
    let store = try inv.context.openStore(identify: false)
    let email = inv.required("email")
    try store.requestPasswordReset(email: email)
    if !inv.context.isQuiet {
      inv.context.console.writeOut(
        "if \(PrintableText.escaped(email)) is an active operator, a code to set a new password is on its way by mail (valid 1 hour)\n")
    }
    try mailHint(store, inv: inv)
  }

  /// Says on stderr when no serve with `--smtp` has run on this store, so the mail waits.
  static func mailHint(_ store: Store, inv: Invocation) throws {
    guard !inv.context.isDryRun, try store.setting("mail") == nil else { return }
    inv.context.console.diagnose(
      "hint: the mail waits in the outbox until 'evctl serve --smtp URL --mail-from ADDRESS' runs on this store")
  }

  /// `operator show`: the operator and their newest mail.
  struct OperatorView {
    var op: Operator
    var mail: [OutboxMail]
  }

  static let operatorViewColumns: [Column<OperatorView>] =
    operatorColumns.map { column in
      Column(column.key, brief: column.brief, painted: column.painted,
             human: column.human.map { human in { view, time in human(view.op, time) } }) { column.value($0.op) }
    } + [
      Column("password") { $0.op.hasPassword ? "set" : "not set (invited)" },
      Column("alarm_mail") { view in
        view.op.alarmMail == .daily
          ? "daily at \(view.op.alarmMailHour < 10 ? "0" : "")\(view.op.alarmMailHour):00" : view.op.alarmMail.rawValue
      },
      Column("mail") { view in view.mail.isEmpty ? "none" : view.mail.map(mailLine).joined(separator: "; ") },
    ]

  /// `invite sent 2026-12-03T12:00:00.000Z`, `alarm queued: 2 attempts failed (reason), next at T`.
  static func mailLine(_ mail: OutboxMail) -> String {
    let what = "\(mail.kind.rawValue) mail \(mail.id)"
    switch mail.state {
    case "sent":
      return "\(what) sent \(mail.sentAt?.iso8601 ?? "-")"
    case "failed":
      return "\(what) failed after \(mail.attempts) attempts: \(mail.lastError ?? "-")"
    default:
      guard mail.attempts > 0 else { return "\(what) queued since \(mail.createdAt.iso8601)" }
      return "\(what) retrying: \(mail.attempts) attempt\(mail.attempts == 1 ? "" : "s") failed "
        + "(\(mail.lastError ?? "-")), next at \(mail.nextAttemptAt.iso8601)"
    }
  }

  static func operatorViewJSON(_ view: OperatorView) -> JSONValue {
    guard case .object(var fields) = view.op.json else { return view.op.json }
    fields["mail"] = .array(view.mail.map(\.json))
    return .object(fields)
  }
}
