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
    if inv.context.isDryRun {
      throw DryRunStop(plan: "would send ChangeConfiguration AuthorizationKey (a new random key) to \(station.identity)\n")
    }
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
      .option("timeout", value: "duration", help: "Wait this long for each answer; default 30s"),
      .option("reconnect-timeout", value: "duration", help: "Wait this long for a new certificate and for the reconnect; default 300s"),
    ],
    examples: [
      .init("One station to client certificates", "evctl station security upgrade CP-001 --profile 3"),
      .init("A site to TLS with passwords, trusting a public CA", "evctl station security upgrade --group HQ --profile 2 --root isrg-root-x1.pem"),
    ]
  ) { inv in
    let store = try inv.context.openStore()
    try store.require(.updateStation)
    let profile = Int(inv.arguments.option("profile")!)!
    let timeout = try inv.seconds("timeout") ?? 30
    let reconnectTimeout = try inv.seconds("reconnect-timeout") ?? 300
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
    // On a terminal each station's line comes as soon as its outcome is known; machine formats
    // get the whole list at the end.
    let renderer = inv.context.renderer()
    let streaming = renderer.format == .table || renderer.format == .wide
    let results = try upgradeAll(
      inv, store: store, stations: stations, profile: profile, root: root, timeout: timeout,
      reconnectTimeout: reconnectTimeout
    ) { result in
      if streaming, !inv.context.isQuiet {
        inv.context.console.writeOut(
          "\(PrintableText.escaped(result.identity))  \(result.upgraded ? "upgraded" : "failed")  profile \(result.profile)  \(PrintableText.escaped(result.detail))\n")
      }
    }
    if !streaming, !inv.context.isQuiet || renderer.format == .json {
      inv.context.console.writeOut(renderer.list(results, columns: UpgradeResult.columns, json: \.json))
    }
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

    static let columns: [Column<UpgradeResult>] = [
      Column("station") { $0.identity },
      Column("result") { $0.upgraded ? "upgraded" : "failed" },
      Column("profile") { String($0.profile) },
      Column("detail") { $0.detail },
    ]

    var json: JSONValue {
      ["station": .string(identity), "upgraded": .bool(upgraded), "profile": .int(Int64(profile)),
       "detail": .string(detail)]
    }
  }

  /// One station's way through the upgrade.
  final class UpgradeRun {
    let station: Station
    /// The profile it was on, as far as evctl knows.
    let before: Int
    /// The newest command to it before the certificate was asked for (profile 3).
    var marker = 0
    /// When it accepted the new SecurityProfile.
    var since = Timestamp(milliseconds: 0)
    var result: UpgradeResult?

    init(station: Station, before: Int) {
      self.station = station
      self.before = before
    }

    func fail(_ why: String) -> UpgradeResult {
      let outcome = UpgradeResult(identity: station.identity, upgraded: false, profile: before,
                                  detail: "\(why); kept at profile \(before)")
      result = outcome
      return outcome
    }
  }

  /// The whitepaper's steps, each sent to every station still on its way at once (one CALL at a
  /// time per station, many stations in parallel); a failed step ends that station's upgrade with
  /// its recorded profile unchanged. `report` sees each result as it is known.
  static func upgradeAll(
    _ inv: Invocation, store: Store, stations: [Station], profile: Int, root: String, timeout: Int,
    reconnectTimeout: Int, report: (UpgradeResult) -> Void
  ) throws -> [UpgradeResult] {
    let runs = try stations.map { station in
      UpgradeRun(station: station,
                 before: try store.upgradedSecurityProfile(stationID: station.id) ?? (station.hasPassword ? 1 : 0))
    }
    func active() -> [UpgradeRun] { runs.filter { $0.result == nil } }
    for run in runs where !(try store.station(run.station.identity).connected) { report(run.fail("not connected")) }

    /// Sends `action` to every active station and fails those that do not accept it.
    func step(_ action: String, label: String? = nil, to targets: [UpgradeRun]? = nil,
              _ payload: (UpgradeRun) -> JSONValue, accepted: (UpgradeRun, RemoteCommand) throws -> Void = { _, _ in }) throws {
      var byCommand: [Int: UpgradeRun] = [:]
      for run in targets ?? active() {
        do {
          let command = try store.enqueueCommand(
            station: run.station.identity, action: action, payload: payload(run), timeoutSeconds: timeout)
          byCommand[command.id] = run
        } catch StoreError.unavailable(let why) {
          report(run.fail(why))
        }
      }
      for command in try Remote.wait(for: byCommand.keys.sorted(), store: store, timeout: timeout, queue: false) {
        guard let run = byCommand[command.id] else { continue }
        if command.state == .accepted {
          try accepted(run, command)
        } else {
          report(run.fail("\(label ?? action): \(outcome(command))"))
        }
      }
    }

    try step("InstallCertificate") { _ in
      ["certificateType": "CentralSystemRootCertificate", "certificate": .string(root)]
    }
    if profile == 2 {
      var keys: [Int: String] = [:]
      for run in active() { keys[run.station.id] = newAuthorizationKey() }
      try step("ChangeConfiguration", label: "ChangeConfiguration AuthorizationKey", { run in
        ["key": "AuthorizationKey", "value": .string(keys[run.station.id] ?? "")]
      }) { run, command in
        try store.redactAuthorizationKey(commandID: command.id)
        try store.setStationPassword(run.station.identity, password: Array((keys[run.station.id] ?? "").utf8))
      }
      for run in runs {
        // Failed or unanswered ones too: the key never stays readable.
        for command in try store.commands(CommandFilter(station: run.station.identity, action: "ChangeConfiguration", limit: 5)) {
          try store.redactAuthorizationKey(commandID: command.id)
        }
      }
    } else {
      for run in active() {
        run.marker = try store.commands(CommandFilter(station: run.station.identity, limit: 1)).first?.id ?? 0
      }
      try step("ExtendedTriggerMessage") { _ in ["requestedMessage": "SignChargePointCertificate"] }
      let deadline = Timestamp.now().adding(seconds: Int64(reconnectTimeout))
      var waiting = active()
      while !waiting.isEmpty, Timestamp.now() < deadline {
        for run in waiting {
          guard let signed = try signedCertificate(store: store, station: run.station, after: run.marker) else { continue }
          if signed.state != .accepted { report(run.fail("CertificateSigned: \(outcome(signed))")) }
          waiting.removeAll { $0 === run }
        }
        if !waiting.isEmpty { usleep(100_000) }
      }
      for run in waiting {
        report(run.fail("no certificate was signed and accepted within \(reconnectTimeout) s (is 'evctl certificate pending' waiting?)"))
      }
    }
    var reboot: [UpgradeRun] = []
    try step("ChangeConfiguration", label: "ChangeConfiguration SecurityProfile", { _ in
      ["key": "SecurityProfile", "value": .string(String(profile))]
    }) { run, command in
      run.since = command.answeredAt ?? .now()
      if command.status == "RebootRequired" { reboot.append(run) }
    }
    if !reboot.isEmpty { try step("Reset", label: "Reset after RebootRequired", to: reboot) { _ in ["type": "Soft"] } }
    let deadline = Timestamp.now().adding(seconds: Int64(reconnectTimeout))
    while !active().isEmpty, Timestamp.now() < deadline {
      for run in active() {
        guard let link = try store.stationLink(stationID: run.station.id), link.connectedAt > run.since,
          try store.station(run.station.identity).connected
        else { continue }
        guard link.tls, profile == 2 || link.clientCertificate != nil else {
          report(run.fail("it reconnected \(link.tls ? "over TLS without a client certificate" : "without TLS"): it kept its old profile"))
          continue
        }
        try store.setUpgradedSecurityProfile(stationID: run.station.id, profile: profile)
        let done = UpgradeResult(
          identity: run.station.identity, upgraded: true, profile: profile,
          detail: "reconnected over TLS\(profile == 3 ? " with its client certificate" : "") at \(link.connectedAt.iso8601)")
        run.result = done
        report(done)
      }
      if !active().isEmpty { usleep(100_000) }
    }
    for run in active() { report(run.fail("it did not reconnect over TLS within \(reconnectTimeout) s")) }
    return runs.compactMap(\.result)
  }

  /// The first CertificateSigned to `station` queued after command `after`, once it is final.
  static func signedCertificate(store: Store, station: Station, after: Int) throws -> RemoteCommand? {
    let commands = try store.commands(CommandFilter(station: station.identity, action: "CertificateSigned", limit: 20))
    guard let first = commands.filter({ $0.id > after }).min(by: { $0.id < $1.id }), first.state.isFinal else { return nil }
    return first
  }
}
