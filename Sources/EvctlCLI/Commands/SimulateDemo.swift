import EvctlCore
import EvctlSimulator

/// `evctl simulate --demo`: a small living network in the local store, named `demo-…`.
enum SimulateDemo {
  static let site = "demo-site"
  static let stations = ["demo-CP-1", "demo-CP-2"]
  static let user = "demo-driver@example.com"
  static let tag = "DEMO-TAG-1"
  /// Simulated seconds per real second: a 15-minute session takes 30 s.
  static let speed = 30.0

  /// Boot, plug, charge, unplug, pause, again; each station starts a little later than the last.
  static let scenario = Scenario(
    steps: [.wait(seconds: 60), .plug(connector: 1), .auth(tag: tag),
            .charge(connector: 1, watts: 11_000, seconds: 900), .unplug(connector: 1),
            .wait(seconds: 120)],
    repeats: true)

  /// Creates what is missing; returns what it created, for the terminal.
  static func provision(_ store: Store) throws -> [String] {
    var created: [String] = []
    if (try? store.resolveGroup(site)) == nil {
      try store.createGroup(name: site, parent: nil, kind: .site)
      created.append("group \(site)")
    }
    for identity in stations where (try? store.station(identity)) == nil {
      // Demo stations are played by this process on loopback: explicitly profile 0 (no key to
      // hand over; `db check` lists them until `--demo --remove`).
      try store.createStation(
        identity: identity, name: "Demo \(identity.suffix(4))", group: site, connectors: 2, securityProfile: SecurityProfile.none)
      created.append("station \(identity)")
    }
    if (try? store.user(user)) == nil {
      try store.createUser(email: user, firstName: "Demo", lastName: "Driver", group: site)
      created.append("user \(user)")
    }
    if (try? store.token(tag)) == nil {
      try store.addToken(idTag: tag, userEmail: user, name: "demo card", allowConcurrent: true)
      created.append("token \(tag)")
    }
    return created
  }

  /// What `serve --demo` prints once it listens: what exists and the next two commands.
  static func serveHint(created: [String]) -> [String] {
    // Each object is named once: what the network is, then how much of it was made just now.
    let whole = ["group \(site)"] + stations.map { "station \($0)" } + ["user \(user)", "token \(tag)"]
    let state =
      created.isEmpty ? "already there" : created.count == whole.count ? "created" : "completed"
    let note = created.isEmpty || created.count == whole.count ? "" : " (new: " + created.joined(separator: ", ") + ")"
    return [
      "evctl: demo network \(state): group \(site), stations \(stations.joined(separator: " and ")), user \(user), token \(tag)\(note)",
      "evctl: in a second terminal: evctl simulate --demo   (then watch evctl status and evctl station list)",
      "evctl: remove the demo with: evctl simulate --demo --remove",
    ]
  }

  /// Removes every demo object (`--demo --remove`); the sessions of demo stations go with them.
  ///
  /// All or nothing: refused before anything is deleted while a demo station charges, and the
  /// deletions run in one store transaction.
  static func remove(_ store: Store) throws -> [String] {
    for identity in stations {
      if let station = try? store.station(identity), station.state == "charging" {
        throw StoreError.conflict(
          "station '\(identity)' has an active transaction; nothing was removed. "
            + "Stop 'evctl simulate --demo' first (Ctrl-C stops its sessions), then run 'evctl simulate --demo --remove' again")
      }
    }
    return try store.atomically { try removeAll(store) }
  }

  private static func removeAll(_ store: Store) throws -> [String] {
    var removed: [String] = []
    if (try? store.token(tag)) != nil {
      try store.deleteToken(tag)
      removed.append("token \(tag)")
    }
    if (try? store.user(user)) != nil {
      try store.deleteUser(user)
      removed.append("user \(user)")
    }
    for identity in stations where (try? store.station(identity)) != nil {
      try store.deleteStation(identity)
      removed.append("station \(identity)")
    }
    if (try? store.resolveGroup(site)) != nil {
      try store.deleteGroup(site)
      removed.append("group \(site)")
    }
    return removed
  }

  /// The local serve's endpoint, from its lock, and a line saying where it came from; the
  /// default port when no serve ever ran on this store.
  ///
  /// - Throws: ``CLIError/unavailable(_:hint:)`` when the store records that its serve stopped
  ///   (playing against it would only retry "connection refused" for ever).
  static func url(_ store: Store) throws -> (url: String, note: String) {
    guard let status = try store.serveStatus() else {
      let url = "ws://127.0.0.1:8180/ocpp"
      return (url, "no 'evctl serve' recorded in this store; using the default \(url) (start one with evctl serve --demo, or pass --url)")
    }
    guard status.running else {
      throw CLIError.unavailable(
        "'evctl serve' is not running on this store: start it with evctl serve --demo",
        hint: "its last serve (pid \(status.pid) on \(status.host), listening on \(status.listen)) has stopped; "
          + "to play against another central system, pass --url")
    }
    var listen = status.listen
    if listen.hasPrefix("0.0.0.0:") { listen = "127.0.0.1:" + listen.dropFirst(8) }
    let url = "ws://\(listen)/ocpp"
    return (url, "using \(url), where this store's 'evctl serve' (pid \(status.pid)) listens")
  }
}
