import Dispatch
import EvctlCore
import EvctlServer
import Foundation

extension Commands {
  static let serve: CommandSpec = CommandSpec(
    "serve", abstract: "Run the OCPP 1.6J central system that stations connect to",
    discussion: """
      Stations connect to ws://HOST:PORT/ocpp/<identity> with subprotocol ocpp1.6. Unknown
      identities get HTTP 404; a station with a password must send matching Basic credentials.
      Answers are sent only after their data is committed. SIGTERM or SIGINT closes every
      connection with 1001 and exits 0.
      """,
    arguments: [
      .option("listen", value: "host:port", help: "Address to listen on; default 0.0.0.0:8180"),
      .option("path", value: "prefix", help: "URL path prefix; default /ocpp"),
      .option("ping-interval", value: "seconds", help: "Ping a silent station after this long; default 60"),
      .option("message-log-retention", value: "duration", help: "Keep logged frames this long; default 7d"),
      .flag("no-message-log", help: "Do not log frames"),
      .option("files-dir", value: "dir", help: "Serve firmware from DIR and accept diagnostics uploads into DIR/uploads over HTTP on the same port", completion: .file),
      .option("public-url", value: "url", help: "The URL stations reach this server at, for --files-dir; default http://HOST:PORT"),
      .option("alarm-command", value: "command", help: "Run this shell command with each new alarm as JSON on stdin"),
      .option("log-level", value: "level", help: "Least severe diagnostics shown; default info",
              choices: LogLevel.allCases.map(\.name)),
    ],
    examples: [
      .init("Listen on the default port with the default store", "evctl serve"),
      .init("Only on loopback, behind a TLS proxy", "evctl serve --listen 127.0.0.1:8180"),
      .init("Serve firmware and take diagnostics uploads, no FTP server needed", "evctl serve --files-dir /var/lib/evctl/files --public-url http://evctl.example.com:8180"),
    ]
  ) { inv in
    var configuration = ServerConfiguration()
    if let listen = inv.arguments.option("listen") {
      guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...])
      else {
        throw UsageError(message: "invalid --listen '\(listen)': expected HOST:PORT",
                         commandPath: inv.arguments.path)
      }
      configuration.host = String(listen[..<colon])
      if configuration.host.isEmpty || configuration.host == "*" { configuration.host = "0.0.0.0" }
      if configuration.host == "localhost" { configuration.host = "127.0.0.1" }
      configuration.port = port
    }
    if let path = inv.arguments.option("path") { configuration.pathPrefix = path }
    if let ping = try inv.int("ping-interval") { configuration.pingInterval = Int64(max(ping, 5)) }
    if let seconds = try inv.duration("message-log-retention") {
      configuration.messageLogRetentionSeconds = seconds
    }
    configuration.messageLogEnabled = !inv.arguments.flag("no-message-log")
    let serveLog = ServeLog(
      minimum: LogLevel(name: inv.arguments.option("log-level") ?? "info") ?? .info,
      journal: ServeLog.isJournal(inv.context.console.environment["JOURNAL_STREAM"]))
    let console = inv.context.console
    let store = try inv.context.openStore()
    guard store.actor == .local || store.actor.role == .admin else {
      throw CLIError.permission("only an admin may run serve", hint: nil)
    }
    let central = CentralSystem(store: store, configuration: configuration)
    if let directory = inv.arguments.option("files-dir") {
      let absolute = inv.context.absolute(directory)
      do {
        central.files = try DiskFiles(directory: absolute)
      } catch {
        throw CLIError.io("cannot use '\(absolute)' for --files-dir: \(error.localizedDescription)")
      }
      let host = configuration.host == "0.0.0.0" ? ProcessInfo.processInfo.hostName : configuration.host
      let url = inv.arguments.option("public-url") ?? "http://\(host):\(configuration.port)"
      try store.setSetting("files_dir", absolute)
      try store.setSetting("public_url", url.hasSuffix("/") ? String(url.dropLast()) : url)
    } else {
      try store.setSetting("files_dir", nil)
    }
    central.logsDebug = serveLog.minimum == .debug
    central.log = { line in
      if let text = serveLog.render(line) { console.diagnose(text) }
    }
    if let command = inv.arguments.option("alarm-command") {
      central.onAlarm = { alarm in AlarmCommand.run(command, alarm: alarm, console: console) }
    }
    let server: Server
    do {
      server = try Server(central: central)
    } catch let error as SystemError {
      throw CLIError.unavailable(
        "cannot listen on \(configuration.host):\(configuration.port): \(error)",
        hint: error.errno == EADDRINUSE ? "is another 'evctl serve' running? choose another --listen" : nil)
    }
    let stopper = server.stopper
    let sources = [SIGINT, SIGTERM].map { number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { stopper.stop() }
      source.resume()
      return source
    }
    console.diagnose(serveLog.always(
      .info, "listening on ws://\(configuration.host):\(server.port)\(configuration.pathPrefix)/<identity> (store \(inv.context.databasePath))"))
    try server.run()
    sources.forEach { $0.cancel() }
    console.diagnose(serveLog.always(.info, "stopped"))
  }

  static let stationServerCommands: [CommandSpec] = [stationMessages, stationEvents]

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
    var rows = try store.db.query(
      "SELECT * FROM (SELECT * FROM message_log WHERE station_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
      [station.id, limit])
    inv.context.console.writeOut(renderer.list(rows, columns: columns, json: json))
    guard inv.arguments.flag("follow") else { return }
    var last = rows.last?.int("id") ?? 0
    let plain = Renderer(format: renderer.format == .json ? .tsv : renderer.format,
                         showHeaders: false, color: renderer.color)
    while true {
      Thread.sleep(forTimeInterval: 0.5)
      rows = try store.db.query(
        "SELECT * FROM message_log WHERE station_id = ? AND id > ? ORDER BY id", [station.id, last])
      if let newest = rows.last?.int("id") { last = newest }
      if !rows.isEmpty { inv.context.console.writeOut(plain.list(rows, columns: columns, json: json)) }
    }
  }

  static let stationEvents: CommandSpec = CommandSpec(
    "events", abstract: "Show a station's status changes and connection events",
    arguments: [
      stationIdentity,
      .option("connector", value: "number", help: "Only this connector's status changes"),
      .option("since", value: "time", help: "Only events after this time"),
      .option("limit", value: "count", help: "The newest this many; default 100"),
    ]
  ) { inv in
    let store = try inv.context.openStore()
    let station = try store.station(inv.required("identity"))
    let since = try inv.time("since")?.iso8601 ?? ""
    let connector = try inv.int("connector")
    let rows = try store.db.query(
      """
      SELECT * FROM (
        SELECT received_at AS at, connector_id AS connector, status AS event, error_code, info,
          vendor_error_code FROM status_events WHERE station_id = ?1 AND received_at > ?2
          AND (?3 IS NULL OR connector_id = ?3)
        UNION ALL
        SELECT at, NULL, kind, NULL, detail, NULL FROM events WHERE station_id = ?1 AND at > ?2
          AND ?3 IS NULL
        ORDER BY at DESC LIMIT ?4) ORDER BY at
      """, [station.id, since, connector, try inv.int("limit") ?? 100])
    let columns: [Column<Row>] = [
      Column("at") { $0.string("at") },
      Column("connector") { $0.string("connector") },
      Column("event") { $0.string("event") },
      Column("error_code") { $0.string("error_code") },
      Column("info") { $0.string("info") },
      Column("vendor_error_code", brief: false) { $0.string("vendor_error_code") },
    ]
    inv.context.console.writeOut(inv.context.renderer().list(rows, columns: columns) { row in
      ["at": .from(row.string("at")), "connector": .from(row.int("connector")),
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
