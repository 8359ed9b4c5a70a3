import EvctlCore
import Foundation

/// `evctl certificate pending|approve|reject`: CSRs that `serve --certificate-approval manual`
/// keeps for an operator.
extension Commands {
  static let certificate: CommandSpec = CommandSpec(
    "certificate", aliases: ["certificates"], abstract: "Approve or reject station CSRs (serve --certificate-approval manual)",
    subcommands: [certificatePending, certificateApprove, certificateReject])

  static let signingRequestColumns: [Column<CertificateSigningRequest>] = [
    Column("id") { String($0.id) },
    Column("station") { $0.stationIdentity },
    Column("subject") { $0.subject }.shortened(),
    Column("key") { $0.key },
    Column("state") { $0.state },
    Column.time("received_at") { $0.receivedAt },
    Column("reason", brief: false) { $0.reason },
    Column.time("decided_at", brief: false) { $0.decidedAt },
    Column("decided_by", brief: false) { $0.decidedBy },
  ]

  static let certificatePending: CommandSpec = CommandSpec(
    "pending", abstract: "List CSRs waiting for approval",
    arguments: [
      .option("station", value: "identity", help: "Only this station's", completion: .stations),
      .flag("all", help: "Also those signed, rejected or refused"),
    ]
  ) { inv in
    let requests = try inv.context.openStore().signingRequests(
      all: inv.arguments.flag("all"), station: inv.arguments.option("station"))
    inv.context.console.writeOut(
      inv.context.renderer().list(requests, columns: signingRequestColumns, json: \.json))
  }

  static let requestID = ArgumentSpec.positional("id", help: "The request's id (certificate pending)")

  static let certificateApprove: CommandSpec = CommandSpec(
    "approve", abstract: "Sign a pending CSR and send the certificate (CertificateSigned)",
    discussion: "The certificate is queued for the station (delivered by serve, also after a reconnect, within 24 hours).",
    arguments: [requestID, .option("days", value: "days", help: "Validity in days; default 365")],
    examples: [.init("Approve what a station asked for", "evctl certificate approve 12")]
  ) { inv in
    let store = try inv.context.openStore()
    let id = try inv.id("id", kind: "certificate request")
    let days = try inv.int("days") ?? CertificateAuthority.stationDays
    guard (1...3650).contains(days) else {
      throw UsageError(message: "--days must be 1 to 3650", commandPath: inv.arguments.path)
    }
    try store.require(.updateStation)
    let request = try store.signingRequest(id)
    guard request.state == "pending" else {
      throw StoreError.conflict("certificate request \(id) of \(request.stationIdentity) is \(request.state), not pending")
    }
    guard let path = store.databasePath,
      let authority = try certificateCall({ try CertificateAuthority.load(forStore: inv.context.absolute(path)) })
    else {
      throw CLIError.notFound("the store has no certificate authority", hint: "run 'evctl ca init' or 'evctl ca import'")
    }
    let station = try store.station(request.stationIdentity)
    let signed = try certificateCall {
      try authority.sign(try CertificateRequest(pem: request.csr), identity: station.identity, days: days)
    }
    let chain = try certificateCall { try authority.chain(for: signed) }
    if inv.context.isDryRun {
      throw DryRunStop(plan: "would sign request \(id) of \(station.identity) and queue CertificateSigned\n")
    }
    try store.atomically {
      let certificateID = try store.recordStationCertificate(
        stationID: station.id, source: .issued, certificate: signed, state: "signed", at: .now())
      try store.decideSigningRequest(id, state: "signed", reason: nil, certificateID: certificateID)
      try store.enqueueCommand(
        station: station.identity, action: "CertificateSigned", payload: ["certificateChain": .string(chain)],
        timeoutSeconds: 60, queue: true, expires: Timestamp.now().adding(seconds: 86_400))
    }
    inv.context.confirm("certificate request", String(id),
                        "approved: certificate \(signed.serialHex) queued for \(station.identity)")
  }

  static let certificateReject: CommandSpec = CommandSpec(
    "reject", abstract: "Reject a pending CSR",
    arguments: [requestID, .option("reason", value: "text", help: "Why, for the audit log")]
  ) { inv in
    let store = try inv.context.openStore()
    let id = try inv.id("id", kind: "certificate request")
    if inv.context.isDryRun { throw DryRunStop(plan: "would reject certificate request \(id)\n") }
    try store.decideSigningRequest(id, state: "rejected", reason: inv.arguments.option("reason"), certificateID: nil)
    inv.context.confirm("certificate request", String(id), "rejected")
  }
}
