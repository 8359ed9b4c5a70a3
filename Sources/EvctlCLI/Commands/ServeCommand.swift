import Dispatch
import EvctlCore
import EvctlServer
import Foundation

extension Commands {
  static let serve: CommandSpec = CommandSpec(
    "serve", abstract: "Run the OCPP 1.6J central system that stations connect to",
    discussion: """
      Stations connect to ws://HOST:PORT/ocpp/<identity> (or wss:// on --tls-listen) with
      subprotocol ocpp1.6. SIGHUP rereads the TLS certificate and key without dropping
      connections. Unknown identities get HTTP 404; a station with a password must send
      matching Basic credentials. Answers are sent only after their data is committed (and
      synced to disk). SIGTERM or SIGINT closes every connection with 1001 and exits 0. On a
      SQLite store one serve per store: a second one exits 69 with the pid, host and start time
      of the one that runs. On PostgreSQL several serve nodes share one database (each
      registers itself; see evctl node list), e.g. behind a TCP load balancer.
      """,
    arguments: [
      .option("listen", value: "host:port", help: "Address for plain ws:// (also [::]:8180, :8180); default 0.0.0.0:8180, none with only --tls-listen"),
      .option("tls-listen", value: "host:port", help: "Address for wss:// (TLS 1.2/1.3), e.g. [::]:8443; needs --tls-cert and --tls-key"),
      .option("tls-cert", value: "file", help: "PEM server certificate chain for --tls-listen; reread on SIGHUP", completion: .file),
      .option("tls-key", value: "file", help: "PEM private key of --tls-cert; reread on SIGHUP", completion: .file),
      .option("tls-client-ca", value: "file", help: "PEM CA certificates that station client certificates (security profile 3) must chain to; default evctl's CA root (evctl ca init), if there is one", completion: .file),
      .option("tls-handshake-timeout", value: "duration", help: "Close a connection whose TLS handshake takes longer; default 10s"),
      .option("path", value: "prefix", help: "URL path prefix; default /ocpp"),
      .option("ping-interval", value: "duration", help: "Ping a silent station after this long; default 60s"),
      .option("message-log-retention", value: "duration", help: "Keep logged frames this long; default 7d"),
      .flag("no-message-log", help: "Do not log frames"),
      .option("command-retention", value: "duration", help: "Keep finished remote commands this long; default 90d"),
      .option("command-payload-retention", value: "duration", help: "Keep the payloads and answers of finished commands this long; default 7d"),
      .option("certificate-approval", value: "mode",
              help: "SignCertificate CSRs: auto signs them with evctl's CA at once, manual keeps them for 'evctl certificate approve'; default auto",
              choices: CertificateApproval.allCases.map(\.rawValue)),
      .flag("no-auto-config", help: "Do not send GetConfiguration after a station's first accepted boot or a firmware change"),
      .option("event-retention", value: "duration", help: "Keep events and cleared alarms this long; default 90d"),
      .option("files-dir", value: "dir", help: "Hand out firmware from DIR and take diagnostics and log uploads into DIR/uploads over HTTP on the same ports, each through an expiring path of its request", completion: .file),
      .option("public-url", value: "url", help: "The URL stations reach this server at, for --files-dir; default https://HOST:TLSPORT with --tls-listen, else http://HOST:PORT"),
      .flag("public-firmware", help: "With --files-dir, let anyone GET /files/NAME (otherwise firmware goes out only through the expiring path of its update request)"),
      .option("alarm-command", value: "command", help: "Run this shell command with each new alarm as JSON on stdin; the same alarm at most once in 10 min, at most 10 runs a minute"),
      .option("log-level", value: "level", help: "Least severe diagnostics shown; default info",
              choices: LogLevel.allCases.map(\.name)),
      .flag("demo", help: "First create what is missing of the demo-… site, stations, user and token, for evctl simulate --demo in a second terminal (evctl simulate --demo --remove deletes them)"),
    ] + serveMailArguments,
    examples: [
      .init("Listen on the default port with the default store", "evctl serve"),
      .init("The quickstart: a demo network to play with evctl simulate --demo", "evctl serve --demo"),
      .init("Only on loopback, behind a TLS proxy", "evctl serve --listen 127.0.0.1:8180"),
      .init("Terminate TLS itself, on IPv6 and IPv4", "evctl serve --tls-listen [::]:8443 --tls-cert /etc/evctl/fullchain.pem --tls-key /etc/evctl/privkey.pem"),
      .init("Serve firmware and take diagnostics uploads, no FTP server needed", "evctl serve --files-dir /var/lib/evctl/files --public-url http://evctl.example.com:8180"),
      .init("Send alarm mail and invitations", "evctl serve --smtp smtps://mail.example.com:465 --mail-from evctl@example.com --smtp-user evctl --smtp-password-file /etc/evctl/smtp-password"),
    ]
  ) { inv in
    var configuration = ServerConfiguration()
    if let listen = inv.arguments.option("listen") {
      guard let address = ListenAddress(parsing: listen) else {
        throw UsageError(message: "invalid --listen '\(listen)': expected HOST:PORT, [IPV6]:PORT or :PORT",
                         commandPath: inv.arguments.path)
      }
      configuration.host = address.host
      configuration.port = address.port
    }
    configuration.tls = try tlsSettings(inv)
    configuration.plainListener = configuration.tls == nil || inv.arguments.option("listen") != nil
    if let path = inv.arguments.option("path") { configuration.pathPrefix = path }
    configuration.publicFirmware = inv.arguments.flag("public-firmware")
    if configuration.publicFirmware && inv.arguments.option("files-dir") == nil {
      throw UsageError(message: "--public-firmware goes with --files-dir", commandPath: inv.arguments.path)
    }
    if let ping = try inv.seconds("ping-interval") {
      guard (1...86_400).contains(ping) else {
        throw UsageError(message: "--ping-interval must be 1 to 86400 seconds, not \(ping)", commandPath: inv.arguments.path)
      }
      configuration.pingInterval = Int64(max(ping, 5))
    }
    if let seconds = try inv.duration("message-log-retention") {
      configuration.messageLogRetentionSeconds = seconds
    }
    if let seconds = try inv.duration("event-retention") {
      guard seconds <= 100 * 366 * 86_400 else {
        throw UsageError(message: "invalid --event-retention: at most 100 years", commandPath: inv.arguments.path)
      }
      configuration.eventRetentionSeconds = seconds
    }
    configuration.messageLogEnabled = !inv.arguments.flag("no-message-log")
    if let seconds = try inv.duration("command-retention") {
      configuration.commandRetentionSeconds = seconds
    }
    if let seconds = try inv.duration("command-payload-retention") {
      configuration.commandPayloadRetentionSeconds = seconds
    }
    for (name, seconds) in [("command-retention", configuration.commandRetentionSeconds),
                            ("command-payload-retention", configuration.commandPayloadRetentionSeconds)]
    where !(0...(36_500 * 86_400)).contains(seconds) {
      throw UsageError(message: "--\(name) must be between 0 and 36500d", commandPath: inv.arguments.path)
    }
    guard configuration.commandPayloadRetentionSeconds <= configuration.commandRetentionSeconds else {
      throw UsageError(message: "--command-payload-retention must not be longer than --command-retention",
                       commandPath: inv.arguments.path)
    }
    let smtp = try smtpSettings(inv)
    if smtp != nil, inv.context.databaseLocation.isPostgreSQL {
      throw BackendNotSupported(command: "serve --smtp", database: inv.context.databaseDisplayName)
    }
    let owner = ServeLockOwner(pid: ProcessFacts.pid, host: ProcessFacts.hostName)
    configuration.lockOwner = owner
    configuration.nodeID = "\(owner.host):\(owner.pid)"
    if case .postgresql(let url) = inv.context.databaseLocation { configuration.notificationURL = url }
    configuration.autoConfiguration = !inv.arguments.flag("no-auto-config")
    configuration.certificateApproval = inv.arguments.option("certificate-approval")
      .flatMap(CertificateApproval.init(rawValue:)) ?? .auto
    let serveLog = ServeLog(
      minimum: LogLevel(name: inv.arguments.option("log-level") ?? "info") ?? .info,
      journal: ServeLog.isJournal(inv.context.console.environment["JOURNAL_STREAM"]))
    let console = inv.context.console
    let store = try inv.context.openStore()
    guard store.actor == .local || store.actor.role == .admin else {
      throw CLIError.permission("only an admin may run serve", hint: nil)
    }
    do {
      try store.acquireServeLock(
        pid: owner.pid, host: owner.host, listen: listenText(configuration))
    } catch StoreError.unavailable(let message) {
      throw CLIError.unavailable(
        message, hint: "stop that serve first; a lock whose process died is taken over")
    }
    defer { try? store.releaseServeLock(pid: owner.pid, host: owner.host) }
    let demo = inv.arguments.flag("demo") ? try SimulateDemo.provision(store) : nil
    let central = CentralSystem(store: store, configuration: configuration)
    if let directory = inv.arguments.option("files-dir") {
      let absolute = inv.context.absolute(directory)
      let storePath = inv.context.absolute(inv.context.databasePath)
      let protected = [storePath] + ["-wal", "-shm", "-journal"].map { storePath + $0 }
        + [inv.context.sessionFile]
      let disk: DiskFiles
      do {
        disk = try DiskFiles(directory: absolute, protected: protected)
      } catch let error as UnsafeFilesDirectory {
        throw UsageError(message: "invalid --files-dir '\(absolute)': \(error)",
                         commandPath: inv.arguments.path)
      } catch {
        throw CLIError.io("cannot use '\(absolute)' for --files-dir: \(error)")
      }
      central.files = disk
      let names = disk.publishedNames()
      console.diagnose(
        "evctl: publishing \(names.count) file\(names.count == 1 ? "" : "s") from \(disk.realDirectory)"
          + (names.isEmpty ? "" : ": " + names.joined(separator: ", ")))
      let host = configuration.host == "0.0.0.0" ? ProcessInfo.processInfo.hostName : configuration.host
      let url = inv.arguments.option("public-url")
        ?? (configuration.tls.map { "https://\(host):\($0.address.port)" } ?? "http://\(host):\(configuration.port)")
      try store.setSetting("files_dir", absolute)
      try store.setSetting("public_url", url.hasSuffix("/") ? String(url.dropLast()) : url)
    } else {
      try store.setSetting("files_dir", nil)
    }
    central.logsDebug = serveLog.minimum == .debug
    // Without a TLS listener, stations on profiles 2 and 3 cannot connect at all; with one but
    // no client CA, those on profile 3 cannot.
    let stranded: [(SecurityProfile, String)] =
      configuration.tls == nil
      ? [(.tlsBasic, "no --tls-listen: they need wss://"), (.tlsClientCertificate, "no --tls-listen: they need wss://")]
      : configuration.tls?.clientCAPath == nil
        ? [(.tlsClientCertificate, "no --tls-client-ca to verify their certificates")] : []
    for (profile, reason) in stranded {
      var filter = StationFilter()
      filter.securityProfiles = [profile]
      let waiting = try store.stations(filter)
      if !waiting.isEmpty {
        console.diagnose(
          "evctl: warning: \(waiting.count) station(s) on security profile \(profile.rawValue) (such as \(PrintableText.escaped(waiting[0].identity))) "
            + "cannot connect: \(reason)")
      }
    }
    central.log = { line in
      // Station text (vendor, status info, alarm detail) never reaches the terminal raw.
      if let text = serveLog.render(PrintableText.escaped(line)) { console.diagnose(text) }
    }
    if let command = inv.arguments.option("alarm-command") {
      central.onAlarm = { alarm in AlarmCommand.run(command, alarm: alarm, console: console) }
    }
    var mailer: Mailer?
    if let smtp {
      guard let path = store.databasePath else { throw CLIError.io("--smtp needs a store file") }
      central.mailsAlarms = true
      mailer = Mailer(settings: smtp, storePath: path) { line in
        if let text = serveLog.render(PrintableText.escaped(line)) { console.diagnose(text) }
      }
      try store.setSetting("mail", "\(smtp.displayURL) from \(smtp.from)")
    } else {
      try store.setSetting("mail", nil)
    }
    let server: Server
    do {
      server = try Server(central: central)
    } catch let error as SystemError {
      throw CLIError.unavailable(
        "cannot listen on \(listenText(configuration)): \(error)",
        hint: error.errno == EADDRINUSE ? "is another 'evctl serve' running? choose another --listen" : nil)
    } catch let error as TLSError {
      throw CLIError.io("cannot start TLS: \(error)")
    }
    var bound = configuration
    bound.port = server.port
    bound.tls?.address.port = server.tlsPort ?? 0
    try store.setServeListen(listenText(bound), pid: owner.pid, host: owner.host)
    central.noteNodeListen(listenText(bound))
    let stopper = server.stopper
    let sources = [SIGINT, SIGTERM, SIGHUP].map { number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { number == SIGHUP ? stopper.reloadCertificates() : stopper.stop() }
      source.resume()
      return source
    }
    if configuration.plainListener {
      let plain = ListenAddress(host: configuration.host, port: server.port)
      console.diagnose(serveLog.always(
        .info, "listening on ws://\(plain)\(configuration.pathPrefix)/<identity> (store \(inv.context.databasePath))"))
    }
    if let tls = configuration.tls, let port = server.tlsPort {
      console.diagnose(serveLog.always(
        .info, "listening on wss://\(tls.address.with(port: port))\(configuration.pathPrefix)/<identity> (store \(inv.context.databasePath))"))
    }
    if let smtp, let mailer {
      console.diagnose(serveLog.always(.info, "sending mail through \(smtp.displayURL) from \(smtp.from)"))
      mailer.start()
    }
    defer { mailer?.stop() }
    for line in demo.map(SimulateDemo.serveHint) ?? [] { console.diagnose(line) }
    try server.run()
    sources.forEach { $0.cancel() }
    console.diagnose(serveLog.always(.info, "stopped"))
  }

  /// The TLS listener's settings from `--tls-*`, or `nil` without `--tls-listen`.
  static func tlsSettings(_ inv: Invocation) throws -> TLSSettings? {
    let names = ["tls-cert", "tls-key", "tls-client-ca", "tls-handshake-timeout"]
    guard let listen = inv.arguments.option("tls-listen") else {
      if let given = names.first(where: { inv.arguments.option($0) != nil }) {
        throw UsageError(message: "--\(given) needs --tls-listen", commandPath: inv.arguments.path)
      }
      return nil
    }
    guard let address = ListenAddress(parsing: listen) else {
      throw UsageError(message: "invalid --tls-listen '\(listen)': expected HOST:PORT, [IPV6]:PORT or :PORT",
                       commandPath: inv.arguments.path)
    }
    guard let certificate = inv.arguments.option("tls-cert"), let key = inv.arguments.option("tls-key") else {
      throw UsageError(message: "--tls-listen needs --tls-cert and --tls-key", commandPath: inv.arguments.path)
    }
    var settings = TLSSettings(
      address: address, certificatePath: inv.context.absolute(certificate), keyPath: inv.context.absolute(key),
      clientCAPath: inv.arguments.option("tls-client-ca").map { inv.context.absolute($0) })
    // Without --tls-client-ca, client certificates of evctl's own CA (`evctl ca init`) verify.
    let ownRoot = CertificateAuthority.rootFile(forStore: inv.context.absolute(inv.context.databasePath))
    if settings.clientCAPath == nil, FileManager.default.fileExists(atPath: ownRoot) {
      settings.clientCAPath = ownRoot
    }
    if let seconds = try inv.seconds("tls-handshake-timeout") {
      guard (1...3600).contains(seconds) else {
        throw UsageError(message: "--tls-handshake-timeout must be 1 to 3600 seconds, not \(seconds)",
                         commandPath: inv.arguments.path)
      }
      settings.handshakeTimeoutSeconds = Int64(seconds)
    }
    return settings
  }

  /// Every address serve listens on, for messages.
  static func listenText(_ configuration: ServerConfiguration) -> String {
    var parts: [String] = []
    if configuration.plainListener { parts.append(ListenAddress(host: configuration.host, port: configuration.port).description) }
    if let tls = configuration.tls { parts.append(tls.address.description + " (TLS)") }
    return parts.joined(separator: " and ")
  }

  static let stationServerCommands: [CommandSpec] = [stationMessages, stationEvents, stationTimeline]

  static let stationMessages: CommandSpec = CommandSpec(
    "messages", abstract: "Show the OCPP frames a station sent and received",
    arguments: [
      stationIdentity,
      .option("limit", value: "count", help: "The newest this many frames; default 50"),
      .flag("follow", short: "f", help: "Keep printing new frames as they arrive"),
    ],
    examples: [.init("Watch a station talk", "evctl station messages CP-001 --follow")]
  ) { inv in
    let store = try inv.context.openStore()
    let station = try store.station(inv.required("identity"))
    let limit = try inv.int("limit") ?? 50
    let renderer = inv.context.renderer()
    let columns: [Column<Row>] = [
      Column("at") { $0.string("at") },
      Column("direction") { $0.string("direction") },
      Column("frame") { $0.string("frame") },
      Column("id", brief: false) { $0.string("id") },
    ]
    func json(_ row: Row) -> JSONValue {
      ["id": .from(row.int("id")), "at": .from(row.string("at")),
       "direction": .from(row.string("direction")), "frame": .from(row.string("frame"))]
    }
    var rows = try store.messageLogRows(stationID: station.id, newest: limit)
    inv.context.console.writeOut(renderer.list(rows, columns: columns, json: json))
    guard inv.arguments.flag("follow") else { return }
    var last = rows.last?.int("id") ?? 0
    let plain = Renderer(format: renderer.format == .json ? .tsv : renderer.format,
                         showHeaders: false, color: renderer.color)
    while true {
      Thread.sleep(forTimeInterval: 0.5)
      rows = try store.messageLogRows(stationID: station.id, after: last)
      if let newest = rows.last?.int("id") { last = newest }
      if !rows.isEmpty { inv.context.console.writeOut(plain.list(rows, columns: columns, json: json)) }
    }
  }

  static let stationEvents: CommandSpec = CommandSpec(
    "events", abstract: "Show a station's status changes and connection events, at the station's time and ours",
    arguments: [
      stationIdentity,
      .option("connector", value: "number", help: "Only this connector's status changes"),
      .option("since", value: "time", help: "Only events after this time; points into the past (1h = an hour ago)"),
      .option("limit", value: "count", help: "The newest this many; default 100"),
    ]
  ) { inv in
    let store = try inv.context.openStore()
    let station = try store.station(inv.required("identity"))
    let since = try inv.time("since", pointing: .past)?.iso8601 ?? ""
    let connector = try inv.int("connector")
    let rows = try store.stationEventRows(
      stationID: station.id, connector: connector, since: since, limit: try inv.int("limit") ?? 100)
    let columns: [Column<Row>] = [
      Column("at") { $0.string("at") },
      Column("received_at") { $0.string("received_at") },
      Column("connector") { $0.string("connector") },
      Column("event") { $0.string("event") },
      Column("error_code") { $0.string("error_code") },
      Column("vendor_error_code") { $0.string("vendor_error_code") },
      Column("info") { $0.string("info") },
    ]
    inv.context.console.writeOut(inv.context.renderer().list(rows, columns: columns) { row in
      ["at": .from(row.string("at")), "received_at": .from(row.string("received_at")),
       "connector": .from(row.int("connector")),
       "event": .from(row.string("event")), "error_code": .from(row.string("error_code")),
       "info": .from(row.string("info")), "vendor_error_code": .from(row.string("vendor_error_code"))]
    })
  }
}

/// Runs `serve --alarm-command` for each new alarm, without waiting for it.
enum AlarmCommand {
  static func run(_ command: String, alarm: Alarm, console: Console) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let input = Pipe()
    process.standardInput = input
    do {
      try process.run()
      input.fileHandleForWriting.write(Data((alarm.json.compact + "\n").utf8))
      try input.fileHandleForWriting.close()
    } catch {
      console.diagnose("evctl: warning: --alarm-command failed to start: \(error)")
    }
  }
}
