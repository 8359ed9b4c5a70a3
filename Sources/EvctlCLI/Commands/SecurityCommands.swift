import EvctlCore
import Foundation
import Glibc

/// `station security upgrade` and `station passwd --rotate`: moving stations to stronger
/// security profiles along the OCPP 1.6 security whitepaper's steps.
extension Commands {
  static let stationSecurity: CommandSpec = CommandSpec(
    "security", abstract: "Move stations to security profile 2 or 3", subcommands: [securityUpgrade])

  /// A new AuthorizationKey: 20 random bytes as 40 hexadecimal digits (the whitepaper's maximum).
  static func newAuthorizationKey() -> String { Crypto.hex(Crypto.randomBytes(20)) }

  /// Rotates a station's AuthorizationKey: sends a new one with ChangeConfiguration and stores it
  /// only once the station answered Accepted.
  static func rotateAuthorizationKey(_ inv: Invocation, store: Store, station: Station, timeout: Int) throws -> String? {
    let key = newAuthorizationKey()
    let answer = try Remote.sendOne(
      inv, store: store, station: station.identity, action: "ChangeConfiguration",
      payload: ["key": "AuthorizationKey", "value": .string(key)], timeout: timeout)
    // Whatever the outcome, the key does not stay readable in the audit log (serve blanks it too).
    try store.redactAuthorizationKey(commandID: answer.id)
    guard answer.state == .accepted else {
      return "ChangeConfiguration AuthorizationKey: \(outcome(answer)); the stored password is unchanged"
    }
    try store.setStationPassword(station.identity, password: Array(key.utf8))
    return nil
  }

  static func outcome(_ command: RemoteCommand) -> String {
    switch command.state {
    case .sent, .timedOut: return "no answer in time (outcome unknown)"
    case .accepted, .rejected: return "answered \(command.status ?? command.state.rawValue)"
    default: return command.error ?? command.status ?? command.state.rawValue
    }
  }

  static let securityUpgrade: CommandSpec = CommandSpec(
    "upgrade", abstract: "Upgrade stations to security profile 2 (TLS + password) or 3 (TLS + client certificate)",
    discussion: """
      For each station, in turn: InstallCertificate CentralSystemRootCertificate (evctl's CA root,
      or --root), then a new AuthorizationKey (profile 2, stored once the station accepts it) or a
      certificate signed through SignCertificate (profile 3, ExtendedTriggerMessage
      SignChargePointCertificate), then ChangeConfiguration SecurityProfile, then waiting for the
      station to reconnect over TLS (with its client certificate for profile 3). A station that
      does not come back within --reconnect-timeout is reported, and its recorded profile is left
      as it was. serve must listen for TLS (--tls-listen) for stations to come back.
      """,
    arguments: [
      .positional("identity", help: "The station; or use --group", required: false, completion: .stations),
      .option("group", value: "group", help: "Every station in this group's subtree", completion: .groups),
      .option("profile", value: "profile", help: "The security profile to reach", choices: ["2", "3"], required: true),
      .option("root", value: "pem", help: "The root certificate stations must trust for serve's TLS certificate; default evctl's CA root",
              completion: .file),
      .option("timeout", value: "seconds", help: "Wait this long for each answer; default 30"),
      .option("reconnect-timeout", value: "seconds", help: "Wait this long for a new certificate and for the reconnect; default 300"),
    ],
    examples: [
      .init("One station to client certificates", "evctl station security upgrade CP-001 --profile 3"),
      .init("A site to TLS with passwords, trusting a public CA", "evctl station security upgrade --group HQ --profile 2 --root isrg-root-x1.pem"),
    ]
  ) { inv in
    let store = try inv.context.openStore()
    try store.require(.updateStation)
    let profile = Int(inv.arguments.option("profile")!)!
    let timeout = try inv.int("timeout") ?? 30
    let reconnectTimeout = try inv.int("reconnect-timeout") ?? 300
    guard (1...3600).contains(timeout), (1...86_400).contains(reconnectTimeout) else {
      throw UsageError(message: "--timeout must be 1 to 3600 seconds and --reconnect-timeout 1 to 86400",
                       commandPath: inv.arguments.path)
    }
    let identity = inv.arguments.positional("identity")
    let group = inv.arguments.option("group")
    guard (identity == nil) != (group == nil) else {
      throw UsageError(message: "name one station, or give --group", commandPath: inv.arguments.path)
    }
    let stations = try identity.map { [try store.station($0)] } ?? store.stations(StationFilter(group: group))
    guard !stations.isEmpty else { throw StoreError.notFound(kind: "station", name: group ?? "") }
    let authority = try store.databasePath.flatMap { path in
      try certificateCall { try CertificateAuthority.load(forStore: inv.context.absolute(path)) }
    }
    let root: String
    if let file = inv.arguments.option("root") {
      root = try readPEM(inv.context.absolute(file))
    } else if let authority {
      root = try certificateCall { try authority.root.pem }
    } else {
      throw CLIError.notFound("no root certificate to install", hint: "run 'evctl ca init', or give --root")
    }
    if profile == 3, authority == nil {
      throw CLIError.notFound("profile 3 needs evctl's certificate authority to sign station certificates",
                              hint: "run 'evctl ca init' or 'evctl ca import'")
    }
    if inv.context.isDryRun {
      throw DryRunStop(plan: stations.map { station in
        "would upgrade \(station.identity) to security profile \(profile): InstallCertificate, "
          + (profile == 2 ? "ChangeConfiguration AuthorizationKey" : "ExtendedTriggerMessage SignChargePointCertificate")
          + ", ChangeConfiguration SecurityProfile \(profile), wait for the reconnect\n"
      }.joined())
    }
    var results: [UpgradeResult] = []
    let json = inv.context.renderer().format == .json
    for station in stations {
      let result = try upgrade(inv, store: store, station: station, profile: profile, root: root,
                               timeout: timeout, reconnectTimeout: reconnectTimeout)
      results.append(result)
      if !json, !inv.context.isQuiet {
        inv.context.console.writeOut(
          "\(PrintableText.escaped(station.identity))  \(result.upgraded ? "upgraded" : "failed")  profile \(result.profile)  \(PrintableText.escaped(result.detail))\n")
      }
    }
    if json { inv.context.console.writeOut(JSONValue.array(results.map(\.json)).pretty + "\n") }
    let failed = results.filter { !$0.upgraded }
    if !failed.isEmpty {
      throw CommandFailure(
        "\(failed.count) of \(results.count) station(s) not upgraded: \(failed.map { PrintableText.escaped($0.identity) }.joined(separator: ", "))",
        code: .failure)
    }
  }

  /// What became of one station's upgrade.
  struct UpgradeResult {
    var identity: String
    var upgraded: Bool
    /// The profile it is on now, as far as evctl knows.
    var profile: Int
    var detail: String

    var json: JSONValue {
      ["station": .string(identity), "upgraded": .bool(upgraded), "profile": .int(Int64(profile)),
       "detail": .string(detail)]
    }
  }

  /// The whitepaper's steps for one station; a failed step ends it with the profile unchanged.
  static func upgrade(_ inv: Invocation, store: Store, station: Station, profile: Int, root: String,
                      timeout: Int, reconnectTimeout: Int) throws -> UpgradeResult {
    let before = try store.upgradedSecurityProfile(stationID: station.id) ?? (station.hasPassword ? 1 : 0)
    func failed(_ why: String) -> UpgradeResult {
      UpgradeResult(identity: station.identity, upgraded: false, profile: before,
                    detail: "\(why); kept at profile \(before)")
    }
    guard try store.station(station.identity).connected else { return failed("not connected") }
    func send(_ action: String, _ payload: JSONValue) throws -> RemoteCommand {
      try Remote.sendOne(inv, store: store, station: station.identity, action: action, payload: payload, timeout: timeout)
    }
    let install = try send("InstallCertificate", ["certificateType": "CentralSystemRootCertificate", "certificate": .string(root)])
    guard install.state == .accepted else { return failed("InstallCertificate: \(outcome(install))") }
    if profile == 2 {
      if let problem = try rotateAuthorizationKey(inv, store: store, station: station, timeout: timeout) {
        return failed(problem)
      }
    } else {
      let marker = try store.commands(CommandFilter(station: station.identity, limit: 1)).first?.id ?? 0
      let trigger = try send("ExtendedTriggerMessage", ["requestedMessage": "SignChargePointCertificate"])
      guard trigger.state == .accepted else { return failed("ExtendedTriggerMessage: \(outcome(trigger))") }
      guard let signed = try waitForSignedCertificate(store: store, station: station, after: marker, seconds: reconnectTimeout)
      else { return failed("no certificate was signed and accepted within \(reconnectTimeout) s (is 'evctl certificate pending' waiting?)") }
      guard signed.state == .accepted else { return failed("CertificateSigned: \(outcome(signed))") }
    }
    let changed = try send("ChangeConfiguration", ["key": "SecurityProfile", "value": .string(String(profile))])
    guard changed.state == .accepted else { return failed("ChangeConfiguration SecurityProfile: \(outcome(changed))") }
    let since = changed.answeredAt ?? .now()
    if changed.status == "RebootRequired" {
      let reset = try send("Reset", ["type": "Soft"])
      guard reset.state == .accepted else { return failed("Reset after RebootRequired: \(outcome(reset))") }
    }
    let deadline = Timestamp.now().adding(seconds: Int64(reconnectTimeout))
    while Timestamp.now() < deadline {
      if let link = try store.stationLink(stationID: station.id), link.connectedAt > since,
        try store.station(station.identity).connected
      {
        guard link.tls, profile == 2 || link.clientCertificate != nil else {
          return failed("it reconnected \(link.tls ? "over TLS without a client certificate" : "without TLS"): it kept its old profile")
        }
        try store.setUpgradedSecurityProfile(stationID: station.id, profile: profile)
        return UpgradeResult(
          identity: station.identity, upgraded: true, profile: profile,
          detail: "reconnected over TLS\(profile == 3 ? " with its client certificate" : "") at \(link.connectedAt.iso8601)")
      }
      usleep(100_000)
    }
    return failed("it did not reconnect over TLS within \(reconnectTimeout) s")
  }

  /// The first CertificateSigned to `station` queued after command `after`, once it is final.
  static func waitForSignedCertificate(store: Store, station: Station, after: Int, seconds: Int) throws -> RemoteCommand? {
    let deadline = Timestamp.now().adding(seconds: Int64(seconds))
    while Timestamp.now() < deadline {
      let commands = try store.commands(CommandFilter(station: station.identity, action: "CertificateSigned", limit: 20))
      if let first = commands.filter({ $0.id > after }).min(by: { $0.id < $1.id }), first.state.isFinal {
        return first
      }
      usleep(100_000)
    }
    return nil
  }
}
