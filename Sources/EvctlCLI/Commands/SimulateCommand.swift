import Dispatch
import EvctlCore
import EvctlSimulator
import Foundation

extension Commands {
  static let simulate: CommandSpec = CommandSpec(
    "simulate", abstract: "Play OCPP 1.6J charge points against any central system",
    discussion: """
      Each station connects to URL/<identity> with subprotocol ocpp1.6, boots (retrying while the
      central system answers Pending or Rejected, at the interval it gives), reports its
      connectors, sends heartbeats at the interval it was told, runs its scenario, and reconnects
      with backoff and jitter when the connection drops. It answers the central system's
      operations as a well-behaved charger: Reset, ChangeAvailability, UnlockConnector,
      Get/ChangeConfiguration, RemoteStart/StopTransaction, ReserveNow, CancelReservation,
      SendLocalList, GetLocalListVersion, ClearCache, TriggerMessage, Set/ClearChargingProfile,
      GetCompositeSchedule (the simulated current follows the limit), UpdateFirmware (HTTP
      download), GetDiagnostics (HTTP PUT upload) and DataTransfer (UnknownVendorId).

      A scenario file has one step a line ('#' starts a comment): 'plug C', 'auth [TAG]',
      'charge C POWER DURATION' (such as 'charge 1 7.4kW 30m'), 'fault C ERRORCODE', 'clear C',
      'unplug C', 'wait DURATION', and 'repeat' as the last line to loop. Errors are reported as
      FILE:LINE: reason. Built in: idle (heartbeats only), session (one charge on connector 1),
      busy (sessions one after another).

      --check runs one station through boot, a short session and, within --wait, a remote
      command, and exits 0, or 1 with the step that failed and why (connection refused, HTTP 401
      or 404, an untrusted TLS certificate, Rejected, CALLERROR, no answer). --rate switches to load mode: every station sends
      Heartbeat CALLs at that rate (0: as fast as answered) and a summary of msg/s, latency
      percentiles, errors and reconnects is printed at the end (-o json: loadgen.py's fields);
      load mode exits 1 when no station connected at all (such as HTTP 404 for identities the
      central system does not know: PREFIX000000 upwards must exist there).

      --demo without --url plays against the serve this store records and says so; it exits 69
      when the store records that serve has stopped, and uses ws://127.0.0.1:8180/ocpp when no
      serve ever ran on the store. With --url it keeps retrying, like any station.
      SIGINT or SIGTERM stops every station with 1001. wss:// URLs use TLS, verified against
      --tls-ca or the system's CA store, with the host name checked.
      """,
    arguments: [
      .option("url", value: "url", help: "The central system's endpoint, ws://HOST:PORT/PATH; the identity is appended"),
      .flag("demo", help: "Play demo-CP-1 and demo-CP-2 against the local serve, charging again and again; creates the demo-… site, stations, user and token if missing"),
      .flag("remove", help: "With --demo, delete the demo-… objects instead"),
      .option("identity", value: "id", help: "Play one station with this identity"),
      .option("stations", value: "count", help: "Play this many stations, PREFIX000000 upwards; default 1"),
      .option("id-prefix", value: "prefix", help: "Identity prefix with --stations; default CP"),
      .option("connectors", value: "count", help: "Connectors per station; default 1"),
      .passwordStdin,
      .option("vendor", value: "name", help: "chargePointVendor in BootNotification; default evctl"),
      .option("model", value: "name", help: "chargePointModel; default evctl-sim"),
      .option("serial", value: "serial", help: "chargePointSerialNumber; default the identity"),
      .option("scenario", value: "name|file", help: "idle, session, busy, or a scenario file; default idle", completion: .file),
      .option("id-tag", value: "tag", help: "The id tag sessions use; default TAG and the station number in 7 digits"),
      .option("speed", value: "factor", help: "Time acceleration for scenarios, meter values and heartbeats; default 1"),
      .option("duration", value: "duration", help: "Stop after this long (such as 90s or 10m)"),
      .flag("until-done", help: "Stop when every station has finished its scenario"),
      .flag("check", help: "Deployment check: one station, boot, a short session; exit 0 or 1"),
      .option("wait", value: "duration", help: "With --check, wait this long for a remote command; default 0s"),
      .option("timeout", value: "duration", help: "With --check, give up after this long; default 60s"),
      .option("rate", value: "per-second", help: "Load mode: Heartbeat CALLs per second per station; 0 = closed loop"),
      .option("ramp", value: "duration", help: "Spread the first connects over this long"),
      .option("warmup", value: "duration", help: "Load mode: leave this long after the last connect out of the figures; default 0s"),
      .option("misbehave", value: "quirks", help: "Reproduce field quirks: numbers-as-strings, zone-less-times, no-subprotocol, decimal-commas (comma-separated)"),
      .option("tls-ca", value: "file", help: "With wss://, trust this CA bundle (PEM) instead of the system's", completion: .file),
      .option("client-cert", value: "file", help: "With wss://, present this client certificate (PEM; security profile 3)", completion: .file),
      .option("client-key", value: "file", help: "The client certificate's private key (PEM); default: in the certificate file", completion: .file),
    ],
    examples: [
      .init("One station booting and heartbeating against a local serve", "evctl simulate --url ws://127.0.0.1:8180/ocpp --identity CP-001"),
      .init("A charging session at 60x speed", "evctl simulate --url ws://127.0.0.1:8180/ocpp --identity CP-001 --scenario session --id-tag 04A1B2C3 --speed 60 --until-done"),
      .init("Check a deployment after every deploy (04A1B2C3: a token it knows)", "printf %s \"$PW\" | evctl simulate --url ws://csms.example.com/ocpp --identity CP-001 --password-stdin --id-tag 04A1B2C3 --check"),
      .init("A living demo network against the local serve (remove it with --demo --remove)", "evctl simulate --demo"),
      .init("Load: 1000 stations, one heartbeat a second each, for a minute", "evctl simulate --url ws://127.0.0.1:8180/ocpp --stations 1000 --rate 1 --duration 60s --ramp 10s -o json"),
    ]
  ) { inv in try SimulateCommand.run(inv) }
}

/// The action of `evctl simulate`: options into ``SimulatorOptions``, events onto the terminal.
enum SimulateCommand {
  static func run(_ inv: Invocation) throws {
    let arguments = inv.arguments
    func usage(_ message: String) -> UsageError { UsageError(message: message, commandPath: arguments.path) }
    if arguments.flag("remove") && !arguments.flag("demo") { throw usage("--remove goes with --demo") }
    if arguments.flag("demo") {
      for name in ["identity", "stations", "id-prefix", "scenario", "id-tag", "check", "rate"]
      where arguments.option(name) != nil || arguments.flag(name) {
        throw usage("--demo chooses its own stations and scenario; drop --\(name)")
      }
    } else if arguments.option("url") == nil {
      throw usage("missing --url (or use --demo against the local serve)")
    }
    var demoStore: Store?
    var demoURL: String?
    if arguments.flag("demo") {
      let store = try inv.context.openStore()
      demoStore = store
      let console = inv.context.console
      if arguments.flag("remove") {
        let removed = try SimulateDemo.remove(store)
        if !inv.context.isQuiet {
          console.writeOut(removed.isEmpty ? "no demo objects to remove\n" : removed.map { "removed \($0)\n" }.joined())
        }
        return
      }
      if arguments.option("url") == nil {
        let (url, note) = try SimulateDemo.url(store)
        demoURL = url
        if !inv.context.isQuiet { console.diagnose("evctl: \(note)") }
      }
      for line in try SimulateDemo.provision(store) where !inv.context.isQuiet { console.writeOut("created \(line)\n") }
    }
    let urlText = arguments.option("url") ?? demoURL ?? ""
    let url: StationURL
    do {
      url = try StationURL(parsing: urlText)
    } catch {
      throw usage("invalid --url '\(urlText)': \(error.reason)")
    }
    for name in ["tls-ca", "client-cert", "client-key"] where arguments.option(name) != nil && !url.secure {
      throw usage("--\(name) needs a wss:// URL")
    }
    if arguments.option("client-key") != nil && arguments.option("client-cert") == nil {
      throw usage("--client-key goes with --client-cert")
    }
    let check = arguments.flag("check")
    let identities: [String]
    if let identity = arguments.option("identity") {
      guard arguments.option("stations") == nil, arguments.option("id-prefix") == nil else {
        throw usage("--identity plays one station; use --stations and --id-prefix for many")
      }
      guard !identity.isEmpty, identity.utf8.count <= 48 else { throw usage("--identity must be 1 to 48 characters") }
      identities = [identity]
    } else {
      let count = try inv.int("stations") ?? 1
      guard (1...100_000).contains(count) else { throw usage("--stations must be between 1 and 100000") }
      let prefix = arguments.option("id-prefix") ?? "CP"
      identities = (0..<count).map { index in
        let digits = String(index)
        return prefix + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
      }
    }
    if check && identities.count != 1 { throw usage("--check plays exactly one station") }
    var options = SimulatorOptions(url: url, identities: demoStore == nil ? identities : SimulateDemo.stations)
    options.connectors = try inv.int("connectors") ?? 1
    guard (1...32).contains(options.connectors) else { throw usage("--connectors must be between 1 and 32") }
    if let password = try inv.password(prompt: "", ask: false) { options.password = Array(password.utf8) }
    if let vendor = arguments.option("vendor") { options.vendor = vendor }
    if let model = arguments.option("model") { options.model = model }
    options.serial = arguments.option("serial")
    if let tag = arguments.option("id-tag") {
      guard !tag.isEmpty, tag.utf8.count <= 20 else { throw usage("--id-tag must be 1 to 20 characters (CiString20)") }
      options.idTag = tag
    }
    if let speed = try inv.double("speed") {
      guard speed > 0, speed <= 100_000 else { throw usage("--speed must be a factor above 0, such as 60") }
      options.speed = speed
    }
    func seconds(_ name: String) throws -> Double? {
      guard let text = arguments.option(name) else { return nil }
      guard let value = Scenario.parseDuration(text) else {
        throw usage("invalid duration '\(text)' for '--\(name)': use 90s, 10m or 2h")
      }
      return value
    }
    options.duration = try seconds("duration")
    options.ramp = try seconds("ramp") ?? 0
    options.warmup = try seconds("warmup") ?? 0
    options.exitWhenDone = arguments.flag("until-done")
    options.tlsCA = arguments.option("tls-ca").map(inv.context.absolute)
    options.clientCertificate = arguments.option("client-cert").map(inv.context.absolute)
    options.clientKey = arguments.option("client-key").map(inv.context.absolute)
    if let text = arguments.option("misbehave") {
      switch Misbehaviour.parse(text) {
      case .success(let set): options.misbehave = set
      case .failure(let unknown):
        throw usage("unknown quirk '\(unknown.name)' for --misbehave: use \(Misbehaviour.allCases.map(\.rawValue).joined(separator: ", "))")
      }
    }
    if let rate = try inv.double("rate") {
      guard rate >= 0, rate <= 10_000 else { throw usage("--rate must be between 0 and 10000 CALLs a second") }
      guard !check else { throw usage("--rate (load mode) and --check do not go together") }
      options.loadRate = rate
    }
    if let name = arguments.option("scenario") {
      guard !check else { throw usage("--check runs its own short session; drop --scenario") }
      if let builtIn = Scenario.builtIn(name) {
        options.scenario = builtIn
      } else {
        let path = inv.context.absolute(name)
        guard let data = FileManager.default.contents(atPath: path) else {
          throw usage("unknown scenario '\(name)': use \(Scenario.builtInNames.joined(separator: ", ")) or a file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError.data("\(name): not UTF-8 text") }
        do {
          options.scenario = try Scenario.parse(text, file: name, connectors: options.connectors)
        } catch {
          throw CLIError.data(error.description)
        }
      }
    }
    if demoStore != nil {
      options.connectors = max(options.connectors, 2)
      options.scenario = SimulateDemo.scenario
      options.idTag = SimulateDemo.tag
      if arguments.option("speed") == nil { options.speed = SimulateDemo.speed }
      options.ramp = 10
      options.stopSessionsOnExit = true
      if !inv.context.isQuiet {
        inv.context.console.writeOut("playing \(options.identities.joined(separator: ", ")) against \(url.description) at \(Int(options.speed))x speed; watch 'evctl status' and 'evctl station list'; Ctrl-C stops\n")
      }
    }
    let console = inv.context.console
    if check {
      try runCheck(inv, options: options, wait: try seconds("wait") ?? 0, timeout: try seconds("timeout") ?? 60)
      return
    }
    let simulator: Simulator
    do {
      simulator = try Simulator(options: options)
    } catch {
      throw CLIError.unavailable("\(error)", hint: nil)
    }
    let load = options.loadRate != nil
    let verbose = !load && identities.count <= 20 && !inv.context.isQuiet
    let json = inv.context.requestedFormat == .json
    var lastProgress = 0.0
    var connected = 0
    simulator.onEvent = { identity, event in
      if case .connected = event { connected += 1 }
      if verbose, let line = describe(event) {
        console.writeOut("\(Timestamp.now().iso8601) \(identity) \(line)\n")
      }
      if load && !inv.context.isQuiet {
        let now = Date().timeIntervalSince1970
        if now - lastProgress >= 2 {
          lastProgress = now
          console.diagnose("evctl: \(connected) connected, \(simulator.stats.callsOK) answered, \(simulator.stats.errors.values.reduce(0, +)) errors")
        }
      }
    }
    let sources = signals(simulator.stopper)
    simulator.run()
    sources.forEach { $0.cancel() }
    guard load || json else { return }
    let summary = simulator.stats.json(
      stations: identities.count, ratePerStation: options.loadRate, duration: options.duration,
      ramp: options.ramp, warmup: options.warmup, url: url.description)
    if json {
      console.writeOut(summary.pretty + "\n")
    } else {
      console.writeOut(text(summary))
    }
    if load && (summary["connections"]?["established"]?.intValue ?? 0) == 0 {
      let first = identities.first ?? ""
      let range = identities.count > 1 ? "\(first) to \(identities.last ?? "")" : first
      console.diagnose(
        "error: no station connected to \(url.description) (\(summary["error_total"]?.intValue ?? 0) failed attempts)")
      console.diagnose(
        "hint: the identities \(range) must exist on the central system: create them (evctl station import) or choose existing ones with --id-prefix")
      throw ExitCode.failure
    }
  }

  static func runCheck(_ inv: Invocation, options: SimulatorOptions, wait: Double, timeout: Double) throws {
    let console = inv.context.console
    let check: DeploymentCheck
    do {
      check = try DeploymentCheck(options: options, wait: wait, timeout: timeout)
    } catch {
      // --check promises 0 or 1: what stops the station before it connects (a client key that
      // does not match its certificate, a host that does not resolve) fails the connect step.
      console.diagnose("error: check failed at connect: \(error)")
      throw ExitCode.failure
    }
    let quiet = inv.context.isQuiet
    check.onStep = { line in if !quiet { console.writeOut("ok \(line)\n") } }
    let sources = signals(check.stopper)
    defer { sources.forEach { $0.cancel() } }
    do {
      try check.run()
    } catch {
      console.diagnose("error: check failed at \(error.step): \(error.reason)")
      throw ExitCode.failure
    }
    if !quiet { console.writeOut("check passed: \(options.url.target(for: options.identities[0])) booted, charged and stopped\n") }
  }

  static func signals(_ stopper: SimulatorStopper) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { stopper.stop() }
      source.resume()
      return source
    }
  }

  /// One line for an event, or nil for those not worth a line.
  static func describe(_ event: SimEvent) -> String? {
    func status(_ payload: JSONValue) -> String {
      payload["status"]?.stringValue ?? payload["idTagInfo"]?["status"]?.stringValue ?? "answered"
    }
    switch event {
    case .connectFailed(let reason): return "connect failed: \(reason)"
    case .refused(_, let reason): return "refused: \(reason)"
    case .connected: return "connected"
    case .disconnected(let reason): return "disconnected: \(reason)"
    case .sent: return nil
    case .answered(let action, let payload):
      if action == "StartTransaction", let id = payload["transactionId"]?.intValue {
        return "\(action): \(status(payload)), transaction \(id)"
      }
      if action == "BootNotification" { return "\(action): \(status(payload)), interval \(payload["interval"]?.intValue ?? 0) s" }
      if ["Heartbeat", "MeterValues", "StatusNotification"].contains(action) { return nil }
      return "\(action): \(status(payload))"
    case .callError(let action, let code, let description):
      return "\(action): CALLERROR \(code)\(description.isEmpty ? "" : ": \(description)")"
    case .timedOut(let action): return "\(action): no answer"
    case .received(let action, let answer):
      let result = answer[0]?.intValue == 4
        ? "CALLERROR \(answer[2]?.stringValue ?? "")" : (answer[2]?["status"]?.stringValue ?? "answered")
      return "central system sent \(action): \(result)"
    case .note(let text): return text
    case .scenarioDone: return "scenario done"
    }
  }

  /// The load summary for people.
  static func text(_ summary: JSONValue) -> String {
    let connections = summary["connections"] ?? [:]
    let steady = summary["steady"] ?? [:]
    let latency = steady["latency_ms"] ?? [:]
    func number(_ value: JSONValue?) -> String {
      guard let value else { return "-" }
      if let int = value.intValue { return String(int) }
      return value.doubleValue.map { String($0) } ?? "-"
    }
    var out = "stations    \(number(summary["stations"])) (\(number(connections["established"])) connected, \(number(connections["held_at_end"])) at the end)\n"
    out += "msg/s       \(number(steady["msgs_per_s"])) over \(number(steady["window_s"])) s\n"
    out += "latency ms  p50 \(number(latency["p50"])), p95 \(number(latency["p95"])), p99 \(number(latency["p99"])), max \(number(latency["max"]))\n"
    out += "errors      \(number(summary["error_total"]))"
    if let errors = summary["errors"]?.objectValue, !errors.isEmpty {
      out += " (" + errors.keys.sorted().map { "\($0): \(number(errors[$0]))" }.joined(separator: ", ") + ")"
    }
    out += "\nreconnects  \(number(summary["reconnects"]))\n"
    return out
  }
}
