import EvctlCore

extension Commands {
  static let stationServerCommands: [CommandSpec] = []
  static let serve: CommandSpec = CommandSpec("serve", abstract: "Run the OCPP 1.6J central system") { _ in
    throw StoreError.notSupported("serve")
  }
}
