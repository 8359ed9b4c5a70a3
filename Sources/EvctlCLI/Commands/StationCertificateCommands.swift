import EvctlCore
import Foundation
import Glibc

/// `station certificate list|issue|renew`: the certificate inventory and evctl's CA at work.
extension Commands {
  static let stationCertificateColumns: [Column<(StationCertificate, Bool)>] = [
    Column("source") { $0.0.source.rawValue },
    Column("type") { $0.0.type },
    Column("serial") { $0.0.serial },
    Column("subject") { $0.0.subject }.shortened(),
    Column.time("not_after") { $0.0.notAfter },
    Column("state") { $0.0.state },
    Column("ours") { $0.1 ? "yes" : "no" },
    Column("issuer", brief: false) { $0.0.issuer },
    Column("fingerprint_sha256", brief: false) { $0.0.fingerprint },
    Column("issuer_name_hash", brief: false) { $0.0.issuerNameHash },
    Column("issuer_key_hash", brief: false) { $0.0.issuerKeyHash },
    Column.time("first_seen_at", brief: false) { $0.0.firstSeenAt },
    Column.time("last_seen_at", brief: false) { $0.0.lastSeenAt },
  ]

  static let certificateList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List a station's certificates: those evctl issued or saw, and those it holds",
    discussion: """
      When the station is connected, it is first asked which root certificates it holds
      (GetInstalledCertificateIds, for --type or both types); otherwise what it said last is shown.
      'ours' marks certificates of evctl's CA (issued by it, or its root installed on the station).
      """,
    arguments: [
      stationIdentity,
      .option("type", value: "type", help: "Ask only for this type of root certificate", choices: certificateTypes),
      .flag("no-ask", help: "Do not ask the station; show what the store knows"),
      .option("timeout", value: "duration", help: "Wait this long for each answer; default 30s"),
    ]
  ) { inv in
    let store = try inv.context.openStore()
    let station = try store.station(inv.required("identity"))
    let timeout = try inv.seconds("timeout") ?? 30
    guard (1...3600).contains(timeout) else {
      throw UsageError(message: "--timeout must be 1 to 3600 seconds", commandPath: inv.arguments.path)
    }
    let console = inv.context.console
    if !inv.arguments.flag("no-ask") {
      if station.connected, try store.serveStatus()?.running ?? true {
        for type in inv.arguments.option("type").map({ [$0] }) ?? certificateTypes {
          let asked: RemoteCommand
          do {
            asked = try Remote.sendOne(
              inv, store: store, station: station.identity, action: "GetInstalledCertificateIds",
              payload: ["certificateType": .string(type)], timeout: timeout)
          } catch StoreError.unavailable(let why) {
            console.diagnose("note: \(PrintableText.escaped(why)); its certificates as last listed")
            break
          }
          let status = asked.status ?? ""
          if !(asked.state == .accepted || status.lowercased() == "notfound") {
            console.diagnose("warning: \(station.identity) GetInstalledCertificateIds \(type): \(asked.state == .sent ? "outcome unknown" : asked.state.rawValue) \(asked.error ?? status)")
          }
        }
      } else {
        console.diagnose("note: \(PrintableText.escaped(station.identity)) is not connected; its certificates as last listed")
      }
    }
    let authority = try? store.databasePath.flatMap {
      try CertificateAuthority.load(forStore: inv.context.absolute($0))
    }
    let ourSerials = Set(([authority?.root, authority?.certificate].compactMap { $0 }).map { $0.serialHex.lowercased() })
    let ourIssuer = authority?.certificate.subject.description
    let rows = try store.stationCertificates(station.identity).map { certificate -> (StationCertificate, Bool) in
      let ours = certificate.source == .installed
        ? ourSerials.contains(certificate.serial.lowercased())
        : (ourIssuer != nil && certificate.issuer == ourIssuer)
      return (certificate, ours)
    }
    console.writeOut(inv.context.renderer().list(rows, columns: stationCertificateColumns) { row in
      var object = row.0.json.objectValue ?? [:]
      object["ours"] = .bool(row.1)
      return .object(object)
    })
  }

  static let certificateIssue: CommandSpec = CommandSpec(
    "issue", abstract: "Make a key and certificate for a station without SignCertificate support",
    discussion: """
      Writes DIR/IDENTITY.key (mode 0600), DIR/IDENTITY.pem (the certificate and any
      intermediates) and DIR/root.pem (the root the station must trust), for installing on the
      station by hand. The key is not kept by evctl.
      """,
    arguments: [
      stationIdentity,
      .option("out", value: "dir", help: "An existing folder for the files", required: true, completion: .file),
      .option("days", value: "days", help: "Validity in days; default 365 (0: one that expires at once, to test refusals)"),
    ],
    examples: [.init("For a station configured by hand", "evctl station certificate issue CP-001 --out ./certs")]
  ) { inv in
    let store = try inv.context.openStore()
    try store.require(.updateStation)
    let station = try store.station(inv.required("identity"))
    let days = try inv.int("days") ?? CertificateAuthority.stationDays
    guard (0...3650).contains(days) else {
      throw UsageError(message: "--days must be 0 to 3650", commandPath: inv.arguments.path)
    }
    let folder = inv.context.absolute(inv.arguments.option("out")!)
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
      throw CLIError.notFound("no folder '\(folder)'", hint: "create it first")
    }
    guard let path = store.databasePath,
      let authority = try certificateCall({ try CertificateAuthority.load(forStore: inv.context.absolute(path)) })
    else {
      throw CLIError.notFound("the store has no certificate authority", hint: "run 'evctl ca init' or 'evctl ca import'")
    }
    let safeName = station.identity.map { $0 == "/" ? "_" : $0 }
    let base = folder + "/" + String(safeName)
    if inv.context.isDryRun {
      throw DryRunStop(plan: "would write \(base).key, \(base).pem and \(folder)/root.pem\n")
    }
    let (certificate, key) = try certificateCall { try authority.issue(identity: station.identity, days: days) }
    try certificateCall {
      try CertificateAuthority.writeFile(base + ".key", try key.pem, exclusive: true)
      try CertificateAuthority.writeFile(base + ".pem", try authority.chain(for: certificate), exclusive: false)
      try CertificateAuthority.writeFile(folder + "/root.pem", try authority.root.pem, exclusive: false)
    }
    try store.recordStationCertificate(
      stationID: station.id, source: .issued, certificate: certificate, state: "issued", at: .now())
    inv.context.confirm(
      "station", station.identity,
      "certificate \(certificate.serialHex) issued, valid until \(certificate.notAfter.iso8601): \(base).pem, \(base).key, \(folder)/root.pem")
  }

  static let certificateRenew: CommandSpec = CommandSpec(
    "renew", abstract: "Ask a station for a new CSR (ExtendedTriggerMessage SignChargePointCertificate)",
    discussion: "serve signs the SignCertificate that follows (or queues it with --certificate-approval manual).",
    arguments: remoteArguments([])
  ) { inv in
    try Remote.send(inv, action: "ExtendedTriggerMessage") { _ in
      ["requestedMessage": "SignChargePointCertificate"]
    }
  }
}
