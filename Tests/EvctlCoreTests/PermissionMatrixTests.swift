import Testing

@testable import EvctlCore

/// Every cell of DESIGN §5's matrix: each role against each operation, through the Store.
@Suite struct PermissionMatrixTests {
  static let expected: [Role: Set<Operation>] = [
    .admin: Set(Operation.allCases),
    // Ensto: only admins edit stations; CTEK: only administrators create users.
    .basic: [.manageGroups, .manageUsers, .manageTokens, .remoteCommand],
    .support: [.updateStation, .updateFirmware, .remoteCommand],
  ]

  static let cells: [(Role, Operation)] = Role.allCases.flatMap { role in
    Operation.allCases.map { (role, $0) }
  }

  @Test(arguments: cells)
  func matrixCell(role: Role, operation: Operation) throws {
    let allowed = Self.expected[role]!.contains(operation)
    #expect(operation.isAllowed(for: role) == allowed)
    let store = try seededStore()
    store.actor = .operator(try store.createOperator(
      email: "\(role)@x.io", name: "R", role: role, baseGroup: nil, password: nil))
    for attempt in attempts(operation) {
      do {
        try attempt(store)
        #expect(allowed, "a \(role) operator was allowed to \(operation.rawValue)")
      } catch StoreError.forbidden {
        #expect(!allowed, "a \(role) operator was refused to \(operation.rawValue)")
      }
    }
  }

  /// Every store call that needs `operation` (several for editing a station).
  func attempts(_ operation: Operation) -> [(Store) throws -> Void] {
    switch operation {
    case .updateStation:
      return [
        attempt(operation)!,
        { try $0.updateConnector("CP-1", connector: 1, maxCurrent: 16) },
        {
          try $0.enqueueCommand(
            station: "CP-1", action: "ChangeConfiguration",
            payload: ["key": "HeartbeatInterval", "value": "300"], queue: true)
        },
      ]
    case .setCapacity:
      return [attempt(operation)!, { try $0.clearCapacity("HQ") }]
    default:
      return attempt(operation).map { [$0] } ?? []
    }
  }

  /// The store call that needs `operation`.
  func attempt(_ operation: Operation) -> ((Store) throws -> Void)? {
    switch operation {
    case .manageOperators:
      return { try $0.createOperator(email: "new@x.io", name: "N", role: .basic, baseGroup: nil, password: nil) }
    case .manageGroups: return { try $0.createGroup(name: "New", parent: "HQ") }
    case .addStation: return { try $0.createStation(identity: "NEW", name: "N") }
    case .removeStation: return { try $0.deleteStation("CP-1") }
    case .updateStation:
      return {
        var changes = StationChanges()
        changes.name = "Renamed"
        try $0.updateStation("CP-1", changes)
      }
    case .setCapacity: return { try $0.setCapacity("HQ", GroupCapacity(groupID: 0, maxCurrent: 63)) }
    case .createUser: return { try $0.createUser(email: "new@x.io", firstName: "A", lastName: "B") }
    case .manageUsers: return { try $0.updateUser("eva@x.io", phone: "+31 20 123") }
    case .removeUser: return { try $0.deleteUser("eva@x.io") }
    case .manageTokens: return { try $0.addToken(idTag: "NEWTAG", userEmail: "eva@x.io") }
    case .deleteToken: return { try $0.deleteToken("TAG1") }
    case .updateFirmware:
      return { try $0.enqueueCommand(station: "CP-1", action: "UpdateFirmware", payload: ["location": "https://fw.example.com/fw.bin", "retrieveDate": "2026-11-21T10:00:00Z"], queue: true) }
    case .remoteCommand:
      return { try $0.enqueueCommand(station: "CP-1", action: "Reset", payload: ["type": "Soft"], queue: true) }
    }
  }
}

func seededStore() throws -> Store {
  let store = try makeStore()
  try store.createGroup(name: "HQ", parent: nil, kind: .site)
  try store.createGroup(name: "Floor 1", parent: "HQ", kind: .floor)
  try store.createGroup(name: "Garage", parent: "HQ")
  try store.createGroup(name: "Elsewhere", parent: nil, kind: .site)
  try store.createStation(identity: "CP-1", name: "One", group: "HQ/Floor 1", connectors: 2)
  try store.createStation(identity: "CP-2", name: "Two", group: "Garage")
  try store.createStation(identity: "CP-9", name: "Far", group: "Elsewhere")
  try store.createUser(email: "eva@x.io", firstName: "Eva", lastName: "Berg", group: "HQ")
  try store.addToken(idTag: "TAG1", userEmail: "eva@x.io")
  try store.createOperator(email: "root@x.io", name: "Root", role: .admin, baseGroup: nil, password: nil)
  return store
}

@Suite struct DomainTests {
  func actingAsFloorOperator(_ store: Store) throws {
    store.actor = .operator(try store.createOperator(
      email: "floor@x.io", name: "F", role: .admin, baseGroup: "HQ/Floor 1", password: nil))
  }

  @Test func operatorsSeeOnlyTheirSubtree() throws {
    let store = try seededStore()
    try actingAsFloorOperator(store)
    #expect(try store.stations().map(\.identity) == ["CP-1"])
    #expect(try store.groups().map(\.path) == ["HQ/Floor 1"])
    #expect(throws: StoreError.notFound(kind: "station", name: "CP-2")) { try store.station("CP-2") }
  }

  @Test func operatorsCannotActOutsideTheirSubtree() throws {
    let store = try seededStore()
    try actingAsFloorOperator(store)
    #expect(throws: StoreError.self) { try store.createStation(identity: "X", name: "X", group: "Garage") }
    #expect(throws: StoreError.self) {
      try store.createOperator(email: "a@x.io", name: "A", role: .admin, baseGroup: "HQ", password: nil)
    }
    #expect(throws: StoreError.self) { try store.moveGroup("HQ/Floor 1", to: "Elsewhere") }
    try store.createStation(identity: "CP-3", name: "Three", group: "HQ/Floor 1")
  }

  @Test func basicOperatorsMayChangeTheirOwnNameAndPassword() throws {
    let store = try seededStore()
    let me = try store.createOperator(email: "b@x.io", name: "B", role: .basic, baseGroup: "HQ", password: nil)
    store.actor = .operator(me)
    try store.updateOperator("b@x.io", name: "Bea")
    try store.setOperatorPassword("b@x.io", password: "newpass123")
    #expect(throws: StoreError.self) { try store.updateOperator("b@x.io", role: .admin) }
    #expect(throws: StoreError.self) { try store.setOperatorPassword("root@x.io", password: "newpass123") }
  }

  @Test func nobodyRemovesTheLastActiveAdmin() throws {
    let store = try seededStore()
    #expect(throws: StoreError.self) { try store.deleteOperator("root@x.io") }
    #expect(throws: StoreError.self) { try store.setOperatorActive("root@x.io", active: false) }
    #expect(throws: StoreError.self) { try store.updateOperator("root@x.io", role: .basic) }
    try store.createOperator(email: "two@x.io", name: "Two", role: .admin, baseGroup: nil, password: nil)
    try store.deleteOperator("root@x.io")
    #expect(throws: StoreError.self) { try store.deleteOperator("two@x.io") }
  }
}
