import EvctlCore
import Glibc

/// The options every remote command takes, and the one way they are sent and waited for.
enum Remote {
  static let targetIdentity = ArgumentSpec.positional(
    "identity", help: "The station; or use --group or --all", required: false, completion: .stations)

  static let options: [ArgumentSpec] = [
    .option("group", value: "group", help: "Send to every station in this group's subtree",
            completion: .groups),
    .flag("all", help: "Send to every station you may see"),
    .option("timeout", value: "duration", help: "Wait this long for the answer; default 30s"),
    .flag("queue", help: "If a station is offline, deliver on its next connection"),
    .option("expires", value: "time", help: "With --queue: give up after this time; points into the future (12h = in 12 hours); default 24h"),
  ]

  /// The stations a remote command goes to: `<identity>`, `--group` or `--all`.
  static func targets(_ inv: Invocation, store: Store) throws -> [Station] {
    let identity = inv.arguments.positional("identity")
    let group = inv.arguments.option("group")
    let all = inv.arguments.flag("all")
    guard [identity != nil, group != nil, all].filter({ $0 }).count == 1 else {
      throw UsageError(message: "name one station, or give --group or --all", commandPath: inv.arguments.path)
    }
    if let identity { return [try store.station(identity)] }
    let stations = try store.stations(StationFilter(group: group))
    guard !stations.isEmpty else { throw StoreError.notFound(kind: "station", name: group ?? "any") }
    return stations
  }

  /// Sends `action` to each target with the payload `build` makes for it, waits, prints one line
  /// per station, and throws the exit code when not all were accepted.
  @discardableResult
  static func send(
    _ inv: Invocation, action: String, print printResults: Bool = true,
    build: (Station) throws -> JSONValue
  ) throws -> [RemoteCommand] {
    let store = try inv.context.openStore()
    let stations = try targets(inv, store: store)
    let timeout = try inv.seconds("timeout") ?? 30
    guard (1...3600).contains(timeout) else {
      throw UsageError(message: "--timeout must be 1 to 3600 seconds", commandPath: inv.arguments.path)
    }
    let queue = inv.arguments.flag("queue")
    let expires = try inv.time("expires", pointing: .future)
    if inv.context.isDryRun {
      throw DryRunStop(plan: try stations.map { station in
        "would send \(action) \(try build(station).compact) to \(station.identity)\n"
      }.joined())
    }
    var commands: [Int: RemoteCommand] = [:]
    var offline: [(Station, String)] = []
    let stream = printResults && stations.count > 1 && inv.context.renderer().format != .json
      ? FanOutPrinter(inv, stations: stations, action: action) : nil
    for station in stations {
      do {
        let command = try store.enqueueCommand(
          station: station.identity, action: action, payload: try build(station),
          timeoutSeconds: timeout, queue: queue, expires: expires)
        commands[command.id] = command
      } catch StoreError.unavailable(let message) where stations.count > 1 {
        offline.append((station, message))
        stream?.offline(station, message: message, queued: queue)
      }
    }
    let finished = try wait(
      for: commands.keys.sorted(), store: store, timeout: timeout, queue: queue,
      onFinish: { stream?.finished($0, queued: queue) })
    if let stream {
      stream.summary()
      try exitCode(finished, offline: offline, queued: queue)
      return finished
    }
    if printResults { render(finished, offline: offline, queued: queue, inv: inv) }
    if finished.count == 1, offline.isEmpty, let only = finished.first,
      !(only.state == .accepted || (queue && only.state == .queued))
    {
      let what = [only.status, detail(only)].compactMap { $0 }.joined(separator: ": ")
      inv.context.console.diagnose(
        "error: \(only.stationIdentity) \(only.action): \(only.state == .sent ? "outcome unknown" : only.state.rawValue)\(what.isEmpty ? "" : " (\(what))")")
    }
    try exitCode(finished, offline: offline, queued: queue)
    return finished
  }

  /// Sends one command to one station and returns it finished, throwing unless accepted.
  static func sendOne(
    _ inv: Invocation, store: Store, station: String, action: String, payload: JSONValue,
    timeout: Int
  ) throws -> RemoteCommand {
    if inv.context.isDryRun {
      throw DryRunStop(plan: "would send \(action) \(payload.compact) to \(station)\n")
    }
    let command = try store.enqueueCommand(
      station: station, action: action, payload: payload, timeoutSeconds: timeout)
    let finished = try wait(for: [command.id], store: store, timeout: timeout, queue: false)
    return finished[0]
  }

  /// Polls the commands until each is final or the time is up; `onFinish` sees each as it ends.
  ///
  /// At the deadline a command still queued is expired in the store, in one conditional step
  /// that `serve`'s claim also goes through, so one reported "not sent" is never sent; the
  /// reason says what held it up.
  static func wait(
    for ids: [Int], store: Store, timeout: Int, queue: Bool,
    onFinish: (RemoteCommand) -> Void = { _ in }
  ) throws -> [RemoteCommand] {
    var pending = Set(ids)
    var done: [Int: RemoteCommand] = [:]
    let deadline = Timestamp.now().adding(seconds: Int64(timeout) + 2)
    while !pending.isEmpty {
      for (id, state) in try store.commandStates(Array(pending)).sorted(by: { $0.key < $1.key })
      where state.isFinal || (queue && state == .queued) {
        let command = try store.command(id)
        done[id] = command
        pending.remove(id)
        onFinish(command)
      }
      if pending.isEmpty { break }
      if Timestamp.now() > deadline {
        for id in pending.sorted() {
          try store.expireIfQueued(id, reason: try notSentReason(id, store: store, timeout: timeout))
          let command = try store.command(id)
          done[id] = command
          onFinish(command)
        }
        break
      }
      usleep(20_000)
    }
    return ids.compactMap { done[$0] }
  }

  /// Why a command was still queued at its deadline: serve down, or busy with earlier commands
  /// to the same station (one CALL at a time), or simply not picked up.
  static func notSentReason(_ id: Int, store: Store, timeout: Int) throws -> String {
    let command = try store.command(id)
    if let serve = try store.serveStatus(), !serve.running {
      return "not sent: 'evctl serve' is not running (since \(serve.downSince.iso8601))"
    }
    let ahead = try store.commandsAhead(of: id)
    if ahead > 0 {
      return "not sent: queued behind \(ahead) command\(ahead == 1 ? "" : "s") to \(command.stationIdentity) for \(timeout) s; withdrawn (use a longer --timeout, or --queue)"
    }
    if try store.serveStatus() == nil {
      return "not sent: not picked up in \(timeout) s; is 'evctl serve' running?"
    }
    return "not sent: 'evctl serve' did not pick it up in \(timeout) s; withdrawn"
  }

  static let resultColumns: [Column<RemoteCommand>] = [
    Column("station") { $0.stationIdentity },
    Column("action") { $0.action },
    Column("state") { $0.state == .sent ? "unknown" : $0.state.rawValue },
    Column("status") { $0.status },
    Column("latency_ms") { $0.latencyMilliseconds.map(String.init) },
    Column("detail") { detail($0) },
    Column("command_id", brief: false) { String($0.id) },
  ]

  static func detail(_ command: RemoteCommand) -> String? {
    if let error = command.error { return error }
    if command.state == .sent { return "no answer in time; outcome unknown" }
    if command.state == .queued { return "queued until \(command.expiresAt.iso8601)" }
    return nil
  }

  static func render(_ commands: [RemoteCommand], offline: [(Station, String)], queued: Bool, inv: Invocation) {
    let renderer = inv.context.renderer()
    if renderer.format == .json {
      var items = commands.map(\.json)
      items += offline.map { station, message in
        ["station": .string(station.identity), "state": "offline", "error": .string(message)]
      }
      inv.context.console.writeOut(
        (commands.count + offline.count == 1 && inv.arguments.positional("identity") != nil
          ? items[0] : JSONValue.array(items)).pretty + "\n")
      return
    }
    if inv.context.isQuiet { return }
    var out = renderer.list(commands, columns: resultColumns, json: \.json)
    for (station, message) in offline {
      out += renderer.format == .tsv ? "\(station.identity)\t\t\toffline\t\(message)\n"
        : "\(station.identity)  offline  \(message)\n"
    }
    inv.context.console.writeOut(out)
  }

  /// The exit code: success when all were accepted (or queued with --queue).
  ///
  /// A failure says so in one `error:` line on stderr, also with `-q` and `-o json`.
  static func exitCode(_ commands: [RemoteCommand], offline: [(Station, String)], queued: Bool) throws {
    let bad = commands.filter { !($0.state == .accepted || (queued && $0.state == .queued)) }
    if !offline.isEmpty || commands.count + offline.count > 1, !(bad.isEmpty && offline.isEmpty) {
      let names = (offline.map(\.0.identity) + bad.map(\.stationIdentity)).map { PrintableText.escaped($0) }
      throw CommandFailure(
        "\(names.count) of \(commands.count + offline.count) station(s) failed: \(names.joined(separator: ", "))",
        code: .failure)
    }
    guard let first = bad.first else { return }
    let what = "\(PrintableText.escaped(first.stationIdentity)) \(first.action)"
    let why = PrintableText.escaped(
      first.error ?? first.status.map { "answered \($0)" } ?? detail(first) ?? first.state.rawValue)
    switch first.state {
    case .sent, .timedOut: throw CommandFailure("\(what): no answer in time; the outcome is unknown", code: .timeout)
    case .expired: throw CommandFailure("\(what): \(why)", code: .unavailable)
    default: throw CommandFailure("\(what): \(why)", code: .failure)
    }
  }
}
