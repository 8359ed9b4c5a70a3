import EvctlCore

extension Commands {
  static let reservation: CommandSpec = CommandSpec(
    "reservation", aliases: ["reservations"], abstract: "Reserve connectors for a token (ReserveNow)",
    subcommands: [reservationList, reservationCreate, reservationCancel])

  static let reservationList: CommandSpec = CommandSpec(
    "list", aliases: ["ls"], abstract: "List reservations",
    arguments: [
      .option("station", value: "identity", help: "Only this station", completion: .stations),
      .flag("active", help: "Only requested or active reservations"),
    ]
  ) { inv in
    let store = try inv.context.openStore()
    let visible = Set(try store.stations().map(\.id))
    let stationID = try inv.arguments.option("station").map { try store.station($0).id }
    let rows = try store.reservationRows(stationID: stationID, activeOnly: inv.arguments.flag("active"))
      .filter { visible.contains($0.int("station_id") ?? -1) }
    let columns: [Column<Row>] = [
      Column("id") { $0.string("id") }, Column("station") { $0.string("identity") },
      Column("connector") { $0.string("connector_id") }, Column("id_tag") { $0.string("id_tag") },
      Column("expires_at") { $0.string("expires_at") }, Column("state") { $0.string("state") },
      Column("status", brief: false) { $0.string("status") },
      Column("transaction_id", brief: false) { $0.string("transaction_id") },
      Column("requested_by", brief: false) { $0.string("requested_by") },
    ]
    inv.context.console.writeOut(inv.context.renderer().list(rows, columns: columns) { row in
      ["id": .from(row.int("id")), "station": .from(row.string("identity")),
       "connector_id": .from(row.int("connector_id")), "id_tag": .from(row.string("id_tag")),
       "expires_at": .from(row.string("expires_at")), "state": .from(row.string("state")),
       "status": .from(row.string("status")), "transaction_id": .from(row.int("transaction_id")),
       "requested_by": .from(row.string("requested_by"))]
    })
  }

  static let reservationCreate: CommandSpec = CommandSpec(
    "create", abstract: "Reserve a connector until a time",
    arguments: [
      .option("station", value: "identity", help: "The station", required: true, completion: .stations),
      .option("connector", value: "number", help: "The connector (0 if the station allows it)", required: true),
      .option("id-tag", value: "id-tag", help: "Who may charge", required: true, completion: .tokens),
      .option("expires", value: "time", help: "Until when; points into the future (30m = in 30 minutes, 18:00, 2026-12-24T18:00:00Z)", required: true),
      .option("timeout", value: "duration", help: "Wait this long for the answer; default 30s"),
    ],
    examples: [.init("Hold connector 1 for half an hour", "evctl reservation create --station CP-001 --connector 1 --id-tag 04A1B2C3 --expires 30m")]
  ) { inv in
    let store = try inv.context.openStore()
    let station = try store.station(inv.arguments.option("station")!)
    guard let connector = try inv.int("connector"), connector >= 0 else {
      throw UsageError(message: "--connector must be 0 or more", commandPath: inv.arguments.path)
    }
    let expires = try inv.time("expires", pointing: .future)!
    guard expires > store.clock() else { throw StoreError.invalid("--expires must be in the future") }
    let idTag = try IdTagCanonicalizer.canonical(inv.arguments.option("id-tag")!)
    let parent = try? store.token(idTag).parentIDTag
    try store.require(.remoteCommand)
    let id = try store.createReservation(
      stationID: station.id, connectorID: connector, idTag: idTag, parentIDTag: parent ?? nil,
      expires: expires)
    var payload: [String: JSONValue] = [
      "connectorId": .int(Int64(connector)), "expiryDate": .string(expires.iso8601),
      "idTag": .string(idTag), "reservationId": .int(Int64(id)),
    ]
    if let parent = parent ?? nil { payload["parentIdTag"] = .string(parent) }
    do {
      let command = try Remote.sendOne(
        inv, store: store, station: station.identity, action: "ReserveNow", payload: .object(payload),
        timeout: try inv.seconds("timeout") ?? 30)
      if command.state != .accepted {
        try store.rejectReservation(
          id, status: command.status ?? command.error ?? command.state.rawValue, onlyRequested: true)
      }
      Remote.render([command], offline: [], queued: false, inv: inv)
      if command.state == .accepted { inv.context.confirm("reservation", String(id), "active") }
      try Remote.exitCode([command], offline: [], queued: false)
    } catch let error as StoreError {
      try store.rejectReservation(id, status: error.description, onlyRequested: false)
      throw error
    }
  }

  static let reservationCancel: CommandSpec = CommandSpec(
    "cancel", abstract: "Cancel a reservation (CancelReservation)",
    arguments: [
      .positional("id", help: "The reservation id"),
      .option("timeout", value: "duration", help: "Wait this long for the answer; default 30s"),
    ]
  ) { inv in
    let store = try inv.context.openStore()
    guard let id = Int(inv.required("id")),
      let row = try store.reservationRow(id)
    else { throw StoreError.notFound(kind: "reservation", name: inv.required("id")) }
    guard ["requested", "active"].contains(row.string("state") ?? "") else {
      throw StoreError.conflict("reservation \(id) is \(row.string("state") ?? "closed"); nothing to cancel")
    }
    let command = try Remote.sendOne(
      inv, store: store, station: row.string("identity")!, action: "CancelReservation",
      payload: ["reservationId": .int(Int64(id))], timeout: try inv.seconds("timeout") ?? 30)
    Remote.render([command], offline: [], queued: false, inv: inv)
    try Remote.exitCode([command], offline: [], queued: false)
  }
}
