import EvctlCore
import Foundation

extension Commands {
  static let stationFirmware: CommandSpec = CommandSpec(
    "firmware", abstract: "Update firmware and follow its progress",
    subcommands: [firmwareUpdate, firmwareSignedUpdate, firmwareStatus])

  static let retryOptions: [ArgumentSpec] = [
    .option("retries", value: "count", help: "How often the station retries"),
    .option("retry-interval", value: "duration", help: "Time between retries, such as 30s or 5m"),
  ]

  static func addRetries(_ inv: Invocation, to payload: inout [String: JSONValue]) throws {
    if let retries = try inv.int("retries") { payload["retries"] = .int(Int64(retries)) }
    if let interval = try inv.seconds("retry-interval") { payload["retryInterval"] = .int(Int64(interval)) }
  }

  static let firmwareUpdate: CommandSpec = CommandSpec(
    "update", abstract: "Tell a station to fetch and install firmware (UpdateFirmware)",
    arguments: remoteArguments([
      .option("location", value: "url", help: "Where the station downloads the image"),
      .option("file", value: "path", help: "Publish this image through 'evctl serve --files-dir' instead", completion: .file),
      .option("retrieve-at", value: "time", help: "When to download; points into the future (2h = in two hours); default now"),
    ] + retryOptions),
    examples: [
      .init("Update tonight", "evctl station firmware update CP-001 --location https://fw.example.com/eve-6.2.bin --retrieve-at 2026-11-22T02:00:00Z"),
      .init("Hand out a local image (serve runs with --files-dir)", "evctl station firmware update CP-001 --file ./eve-6.2.bin"),
    ]
  ) { inv in
    let location = try firmwareLocation(inv)
    let retrieveAt = try inv.time("retrieve-at", pointing: .future) ?? .now()
    var payload: [String: JSONValue] = [
      "location": .string(location),
      "retrieveDate": .string(retrieveAt.iso8601),
    ]
    try addRetries(inv, to: &payload)
    try Remote.send(inv, action: "UpdateFirmware") { station in
      guard let file = inv.arguments.option("file") else { return .object(payload) }
      // serve hands the image out only through this station's expiring path (unless
      // --public-firmware): .../files/f/TOKEN/NAME.
      var body = payload
      body["location"] = .string(try grantedLocation(
        inv, station: station, kind: .firmware, name: (file as NSString).lastPathComponent,
        expiresAt: retrieveAt.adding(seconds: Store.firmwareGrantSeconds)))
      return .object(body)
    }
  }

  /// The unguessable, expiring URL of a grant for `station` under serve's public URL:
  /// `BASE/files/u/TOKEN/` for an upload, `BASE/files/f/TOKEN/NAME` for firmware. A dry run
  /// writes no grant and shows `TOKEN`.
  static func grantedLocation(_ inv: Invocation, station: Station, kind: FileGrant.Kind, name: String? = nil,
                              expiresAt: Timestamp) throws -> String {
    let store = try inv.context.openStore()
    let base = try filesSettings(store).1
    let token = inv.context.isDryRun
      ? "TOKEN" : try store.createFileGrant(identity: station.identity, kind: kind, name: name, expiresAt: expiresAt).token
    switch kind {
    case .upload: return "\(base)/files/u/\(token)/"
    case .firmware:
      let encoded = name.map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? $0 } ?? ""
      return "\(base)/files/f/\(token)/\(encoded)"
    }
  }

  /// `--location`, or the URL under which `--file` is published by `serve --files-dir`.
  static func firmwareLocation(_ inv: Invocation) throws -> String {
    let location = inv.arguments.option("location")
    let file = inv.arguments.option("file")
    guard (location == nil) != (file == nil) else {
      throw UsageError(message: "give --location or --file", commandPath: inv.arguments.path)
    }
    if let location { return location }
    let store = try inv.context.openStore()
    try store.require(.updateFirmware)
    let (directory, base) = try filesSettings(store)
    let name = (file! as NSString).lastPathComponent
    guard let source = FileManager.default.contents(atPath: file!) else { throw CLIError.io("cannot read '\(file!)'") }
    let target = directory + "/" + name
    if let existing = FileManager.default.contents(atPath: target), existing != source {
      throw CLIError.io("'\(target)' already holds a different image; rename the file")
    }
    if !inv.context.isDryRun, !FileManager.default.fileExists(atPath: target),
      !FileManager.default.createFile(atPath: target, contents: source)
    {
      throw CLIError.io("cannot write '\(target)'")
    }
    return base + "/files/" + (name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name)
  }

  /// Where `serve --files-dir` keeps files and the URL stations reach it at.
  static func filesSettings(_ store: Store) throws -> (String, String) {
    guard let directory = try store.setting("files_dir"), let base = try store.setting("public_url") else {
      throw CLIError.unavailable(
        "no files directory: start 'evctl serve --files-dir DIR' first",
        hint: "or give a --location the station can reach")
    }
    return (directory, base)
  }

  static let firmwareSignedUpdate: CommandSpec = CommandSpec(
    "signed-update", abstract: "Send a signed firmware update (security extension SignedUpdateFirmware)",
    arguments: remoteArguments([
      .option("location", value: "url", help: "Where the station downloads the image", required: true),
      .option("signing-certificate", value: "file", help: "PEM certificate that signed the image", required: true, completion: .file),
      .option("signature", value: "base64", help: "Base64 signature of the image", required: true),
      .option("retrieve-at", value: "time", help: "When to download; points into the future (2h = in two hours); default now"),
      .option("install-at", value: "time", help: "When to install; points into the future (02:00 = the next 02:00)"),
    ] + retryOptions)
  ) { inv in
    let path = inv.arguments.option("signing-certificate")!
    guard let pem = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) }) else {
      throw CLIError.io("cannot read '\(path)'")
    }
    var firmware: [String: JSONValue] = [
      "location": .string(inv.arguments.option("location")!),
      "retrieveDateTime": .string((try inv.time("retrieve-at", pointing: .future) ?? .now()).iso8601),
      "signingCertificate": .string(pem), "signature": .string(inv.arguments.option("signature")!),
    ]
    if let install = try inv.time("install-at", pointing: .future) { firmware["installDateTime"] = .string(install.iso8601) }
    var payload: [String: JSONValue] = ["firmware": .object(firmware)]
    try addRetries(inv, to: &payload)
    try Remote.send(inv, action: "SignedUpdateFirmware") { _ in
      var body = payload
      body["requestId"] = .int(Int64(Int.random(in: 1...Int(Int32.max))))
      return .object(body)
    }
  }

  static let firmwareStatus: CommandSpec = CommandSpec(
    "status", abstract: "Show firmware jobs and the station's progress notifications",
    arguments: [.positional("identity", help: "The station", completion: .stations)]
  ) { inv in
    try printJob(inv, actions: ["UpdateFirmware", "SignedUpdateFirmware"],
                 notifications: ["FirmwareStatusNotification", "SignedFirmwareStatusNotification"])
  }

  static let stationDiagnostics: CommandSpec = CommandSpec(
    "diagnostics", abstract: "Ask a station to upload diagnostics (GetDiagnostics)",
    arguments: remoteArguments([
      .option("location", value: "url", help: "Where the station uploads the file (ftp://, http://)"),
      .flag("upload", help: "Upload to 'evctl serve --files-dir' over HTTP instead"),
      .option("start", value: "time", help: "Oldest log time to include; points into the past (1d = a day ago)"),
      .option("stop", value: "time", help: "Newest log time to include; points into the past (1h = an hour ago)"),
    ] + retryOptions),
    subcommands: [diagnosticsStatus],
    examples: [
      .init("Upload to an FTP server", "evctl station diagnostics CP-001 --location ftp://logs.example.com/cp001/"),
      .init("Upload to evctl itself (serve runs with --files-dir)", "evctl station diagnostics CP-001 --upload"),
    ]
  ) { inv in
    let location = inv.arguments.option("location")
    guard (location != nil) != inv.arguments.flag("upload") else {
      throw UsageError(message: "give --location or --upload", commandPath: inv.arguments.path)
    }
    let base = location == nil ? try filesSettings(try inv.context.openStore()).1 : ""
    var payload: [String: JSONValue] = [:]
    if let start = try inv.time("start", pointing: .past) { payload["startTime"] = .string(start.iso8601) }
    if let stop = try inv.time("stop", pointing: .past) { payload["stopTime"] = .string(stop.iso8601) }
    try addRetries(inv, to: &payload)
    _ = base
    try Remote.send(inv, action: "GetDiagnostics") { station in
      var body = payload
      body["location"] = .string(try location ?? grantedLocation(
        inv, station: station, kind: .upload, expiresAt: Timestamp.now().adding(seconds: Store.uploadGrantSeconds)))
      return .object(body)
    }
  }

  static let diagnosticsStatus: CommandSpec = CommandSpec(
    "status", abstract: "Show diagnostics and log jobs, with the file names and the station's progress",
    arguments: [.positional("identity", help: "The station", completion: .stations)]
  ) { inv in
    try printJob(inv, actions: ["GetDiagnostics", "GetLog"],
                 notifications: ["DiagnosticsStatusNotification", "LogStatusNotification"], uploads: true)
  }

  /// Prints a station's jobs of some kind and the notifications that followed them, in time order.
  static func printJob(_ inv: Invocation, actions: [String], notifications: [String], uploads: Bool = false) throws {
    let store = try inv.context.openStore()
    let station = try store.station(inv.required("identity"))
    var rows: [(String, String, String, String)] = []
    for action in actions {
      for command in try store.commands(CommandFilter(station: station.identity, action: action, limit: 20)) {
        let answer = command.response?["fileName"]?.stringValue.map { "file \($0)" } ?? command.status ?? command.error ?? ""
        rows.append((command.createdAt.iso8601, "requested", "\(action) #\(command.id) by \(command.requestedBy)",
                     "\(command.state.rawValue) \(answer)"))
      }
    }
    for row in try store.reportedNotificationRows(stationID: station.id, actions: notifications) {
      let payload = (try? JSONValue.parse(row.string("payload") ?? "")) ?? [:]
      rows.append((row.string("received_at") ?? "", "reported", row.string("action") ?? "",
                   payload["status"]?.stringValue ?? payload.compact))
    }
    if uploads {
      for row in try store.stationEventDetails(stationID: station.id, kind: "upload") {
        rows.append((row.string("at") ?? "", "uploaded", "HTTP upload", row.string("detail") ?? ""))
      }
    }
    rows.sort { $0.0 < $1.0 }
    let columns: [Column<(String, String, String, String)>] = [
      Column("at") { $0.0 }, Column("kind") { $0.1 }, Column("what") { $0.2 }, Column("status") { $0.3 },
    ]
    inv.context.console.writeOut(inv.context.renderer().list(rows, columns: columns) { row in
      ["at": .string(row.0), "kind": .string(row.1), "what": .string(row.2), "status": .string(row.3)]
    })
  }

  static let stationLog: CommandSpec = CommandSpec(
    "log", abstract: "Ask a station to upload a diagnostics or security log (security extension GetLog)",
    arguments: remoteArguments([
      .option("type", value: "type", help: "Which log", choices: ["DiagnosticsLog", "SecurityLog"], required: true),
      .option("location", value: "url", help: "Where the station uploads the file"),
      .flag("upload", help: "Upload to 'evctl serve --files-dir' over HTTP instead (an expiring path for this request)"),
      .option("oldest", value: "time", help: "Oldest entry to include; points into the past (1d = a day ago)"),
      .option("latest", value: "time", help: "Newest entry to include; points into the past (1h = an hour ago)"),
    ] + retryOptions)
  ) { inv in
    let location = inv.arguments.option("location")
    guard (location != nil) != inv.arguments.flag("upload") else {
      throw UsageError(message: "give --location or --upload", commandPath: inv.arguments.path)
    }
    if location == nil { _ = try filesSettings(try inv.context.openStore()) }
    var log: [String: JSONValue] = ["remoteLocation": .string(location ?? "")]
    if let oldest = try inv.time("oldest", pointing: .past) { log["oldestTimestamp"] = .string(oldest.iso8601) }
    if let latest = try inv.time("latest", pointing: .past) { log["latestTimestamp"] = .string(latest.iso8601) }
    var payload: [String: JSONValue] = ["logType": .string(inv.arguments.option("type")!), "log": .object(log)]
    try addRetries(inv, to: &payload)
    try Remote.send(inv, action: "GetLog") { station in
      var body = payload
      body["requestId"] = .int(Int64(Int.random(in: 1...Int(Int32.max))))
      if location == nil {
        var log = body["log"]?.objectValue ?? [:]
        log["remoteLocation"] = .string(try grantedLocation(
          inv, station: station, kind: .upload, expiresAt: Timestamp.now().adding(seconds: Store.uploadGrantSeconds)))
        body["log"] = .object(log)
      }
      return .object(body)
    }
  }

  // MARK: Certificates (security extension)

  static let stationCertificate: CommandSpec = CommandSpec(
    "certificate", aliases: ["certificates"], abstract: "Manage a station's certificates (security extension)",
    subcommands: [certificateList, certificateIssue, certificateRenew, certificateInstall, certificateDelete,
                  certificateSigned])

  static let certificateTypes = ["CentralSystemRootCertificate", "ManufacturerRootCertificate"]

  static func readPEM(_ path: String) throws -> String {
    guard let text = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) }) else {
      throw CLIError.io("cannot read '\(path)'")
    }
    guard text.contains("-----BEGIN CERTIFICATE-----") else {
      throw CLIError.data("'\(path)' is not a PEM certificate")
    }
    return text
  }

  static let certificateInstall: CommandSpec = CommandSpec(
    "install", abstract: "Install a root certificate on a station (InstallCertificate)",
    arguments: remoteArguments([
      .option("type", value: "type", help: "Certificate type", choices: certificateTypes, required: true),
      .option("file", value: "pem", help: "The PEM certificate", required: true, completion: .file),
    ])
  ) { inv in
    let pem = try readPEM(inv.arguments.option("file")!)
    try Remote.send(inv, action: "InstallCertificate") { _ in
      ["certificateType": .string(inv.arguments.option("type")!), "certificate": .string(pem)]
    }
  }

  static let certificateDelete: CommandSpec = CommandSpec(
    "delete", aliases: ["rm"], abstract: "Delete a certificate from a station (DeleteCertificate)",
    arguments: remoteArguments([
      .option("hash-algorithm", value: "algorithm", help: "Default SHA256", choices: ["SHA256", "SHA384", "SHA512"]),
      .option("issuer-name-hash", value: "hex", help: "Hash of the issuer's name", required: true),
      .option("issuer-key-hash", value: "hex", help: "Hash of the issuer's public key", required: true),
      .option("serial-number", value: "hex", help: "The certificate's serial number", required: true),
    ])
  ) { inv in
    try Remote.send(inv, action: "DeleteCertificate") { _ in
      ["certificateHashData": [
        "hashAlgorithm": .string(inv.arguments.option("hash-algorithm") ?? "SHA256"),
        "issuerNameHash": .string(inv.arguments.option("issuer-name-hash")!),
        "issuerKeyHash": .string(inv.arguments.option("issuer-key-hash")!),
        "serialNumber": .string(inv.arguments.option("serial-number")!),
      ]]
    }
  }

  static let certificateSigned: CommandSpec = CommandSpec(
    "signed", abstract: "Send a signed certificate chain to a station (CertificateSigned)",
    arguments: remoteArguments([
      .option("file", value: "pem", help: "The PEM certificate chain", required: true, completion: .file)
    ])
  ) { inv in
    let pem = try readPEM(inv.arguments.option("file")!)
    try Remote.send(inv, action: "CertificateSigned") { _ in ["certificateChain": .string(pem)] }
  }
}
