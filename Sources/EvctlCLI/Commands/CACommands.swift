import EvctlCore
import Foundation

/// `evctl ca`: the store's own certificate authority for station certificates.
extension Commands {
  static let ca: CommandSpec = CommandSpec(
    "ca", abstract: "Manage evctl's certificate authority for station certificates (security profile 3)",
    discussion: """
      The CA lives beside the store, in STORE.ca/ (mode 0700): key.pem (0600, never printed),
      certificate.pem, and root.pem, the root that stations must trust and that
      'serve --tls-client-ca' takes for profile 3. serve signs the CSRs stations send with
      SignCertificate with it.
      """,
    subcommands: [caInit, caImport, caShow])

  static let defaultCASubject = "CN=evctl CSMS Root CA,O=evctl"

  static func caSettings(_ inv: Invocation) throws -> (subject: DistinguishedName, days: Int) {
    let subject: DistinguishedName
    do {
      subject = try DistinguishedName(parsing: inv.arguments.option("subject") ?? defaultCASubject)
    } catch let error as CertificateError {
      throw UsageError(message: "--subject: \(error.description)", commandPath: inv.arguments.path)
    }
    let days = try inv.int("days") ?? 3650
    guard (1...36_500).contains(days) else {
      throw UsageError(message: "--days must be 1 to 36500", commandPath: inv.arguments.path)
    }
    return (subject, days)
  }

  /// The store (checked to exist, acting operator an administrator of the whole network) and
  /// its path, for the CA beside it.
  static func caStore(_ inv: Invocation) throws -> (store: Store, path: String) {
    let store = try inv.context.openStore()
    try store.requireStoreAdministrator(to: "manage the certificate authority")
    guard let path = store.databasePath else { throw CLIError.data("the store has no file for a CA beside it") }
    return (store, inv.context.absolute(path))
  }

  static let caInit: CommandSpec = CommandSpec(
    "init", abstract: "Create the CSMS root certificate and key",
    arguments: [
      .option("subject", value: "dn", help: "The root's subject; default '\(defaultCASubject)'"),
      .option("days", value: "days", help: "Validity in days; default 3650"),
    ],
    examples: [.init("A root for one operator", "evctl ca init --subject 'CN=ACME Charging Root,O=ACME'")]
  ) { inv in
    let settings = try caSettings(inv)
    let (_, path) = try caStore(inv)
    if inv.context.isDryRun {
      throw DryRunStop(plan: "would create a root CA '\(settings.subject)' valid \(settings.days) days in \(CertificateAuthority.folder(forStore: path))\n")
    }
    let authority = try certificateCall {
      try CertificateAuthority.createRoot(forStore: path, subject: settings.subject, days: settings.days)
    }
    inv.context.confirm("ca", authority.certificate.subject.description, "created")
  }

  static let caImport: CommandSpec = CommandSpec(
    "import", abstract: "Create an intermediate CA signed by an existing root (the root's key is not kept)",
    arguments: [
      .option("root-cert", value: "pem", help: "The existing root (or CA) certificate; more certificates after it are its issuers",
              required: true, completion: .file),
      .option("root-key", value: "pem", help: "Its private key (unencrypted PEM), used once", required: true, completion: .file),
      .option("subject", value: "dn", help: "The intermediate's subject; default 'CN=evctl CSMS Intermediate CA'"),
      .option("days", value: "days", help: "Validity in days; default 3650"),
    ],
    examples: [.init("Under the company root", "evctl ca import --root-cert root.pem --root-key root.key")]
  ) { inv in
    var settings = try caSettings(inv)
    if inv.arguments.option("subject") == nil {
      settings.subject = try DistinguishedName(parsing: "CN=evctl CSMS Intermediate CA")
    }
    let (_, path) = try caStore(inv)
    let certificates = try certificateCall {
      try Certificate.all(pem: try readText(inv.arguments.option("root-cert")!))
    }
    guard let root = certificates.first else {
      throw CLIError.data("'\(inv.arguments.option("root-cert")!)' holds no PEM certificate")
    }
    let key = try certificateCall { try PrivateKey(pem: try readText(inv.arguments.option("root-key")!)) }
    if inv.context.isDryRun {
      throw DryRunStop(plan: "would create an intermediate CA '\(settings.subject)' under '\(root.subject)' in \(CertificateAuthority.folder(forStore: path))\n")
    }
    let authority = try certificateCall {
      try CertificateAuthority.createIntermediate(
        forStore: path, root: root, rootParents: Array(certificates.dropFirst()), rootKey: key,
        subject: settings.subject, days: settings.days)
    }
    inv.context.confirm("ca", authority.certificate.subject.description, "created under \(root.subject)")
  }

  static let caShow: CommandSpec = CommandSpec(
    "show", abstract: "Show the certificate authority (never its key)"
  ) { inv in
    let (_, path) = try caStore(inv)
    guard let authority = try certificateCall({ try CertificateAuthority.load(forStore: path) }) else {
      throw CLIError.notFound("the store has no certificate authority", hint: "run 'evctl ca init' or 'evctl ca import'")
    }
    let view = CAView(authority: authority, folder: CertificateAuthority.folder(forStore: path),
                      rootFile: CertificateAuthority.rootFile(forStore: path))
    inv.context.console.writeOut(inv.context.renderer().one(view, columns: CAView.columns, json: \.json))
  }

  /// Runs an X.509 operation, turning its failure into bad input (exit 65).
  static func certificateCall<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as CertificateError {
      if error.isConflict { throw CommandFailure(error.description, code: .failure) }
      throw CLIError.data(error.description)
    }
  }

  static func readText(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
      throw CLIError.io("cannot read '\(path)'")
    }
    return text
  }
}

/// What `ca show` prints.
struct CAView {
  let authority: CertificateAuthority
  let folder: String
  let rootFile: String

  static let columns: [Column<CAView>] = [
    Column("subject") { $0.authority.certificate.subject.description },
    Column("kind") { $0.authority.isIntermediate ? "intermediate" : "root" },
    Column("issuer") { $0.authority.certificate.issuer.description },
    Column("serial") { $0.authority.certificate.serialHex },
    Column.time("not_before") { $0.authority.certificate.notBefore },
    Column.time("not_after") { $0.authority.certificate.notAfter },
    Column("key") { $0.authority.certificate.keyInfo.summary },
    Column("fingerprint_sha256") { $0.authority.certificate.fingerprint },
    Column("root_subject") { $0.authority.root.subject.description },
    Column("root_file") { $0.rootFile },
    Column("folder") { $0.folder },
  ]

  var json: JSONValue {
    let certificate = authority.certificate
    return [
      "subject": .string(certificate.subject.description),
      "kind": .string(authority.isIntermediate ? "intermediate" : "root"),
      "issuer": .string(certificate.issuer.description), "serial": .string(certificate.serialHex),
      "not_before": .from(certificate.notBefore), "not_after": .from(certificate.notAfter),
      "key": .string(certificate.keyInfo.summary), "fingerprint_sha256": .string(certificate.fingerprint),
      "root_subject": .string(authority.root.subject.description), "root_file": .string(rootFile),
      "folder": .string(folder),
    ]
  }
}
