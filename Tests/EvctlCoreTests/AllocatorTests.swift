import Testing

@testable import EvctlCore

@Suite struct AllocatorTests {
  let now = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  /// Site (1) with Floor (2) and Garage (3) below it.
  func tree() throws -> GroupTree {
    let store = try makeStore()
    try store.createGroup(name: "Site", parent: nil)
    try store.createGroup(name: "Floor", parent: "Site")
    try store.createGroup(name: "Garage", parent: "Site")
    return try store.groupTree()
  }

  func car(_ id: Int, group: Int = 2, phases: [Int] = [1, 2, 3], max: Double? = nil, minimum: Double = 6,
           charging: Int64? = nil, paused: Int64? = nil) -> ActiveCharge {
    ActiveCharge(
      transactionID: id, groupID: group, startedAt: now.adding(seconds: Int64(-3600 + id)), phases: phases,
      minimum: minimum, maximum: max, chargingSince: charging.map { now.adding(seconds: -$0) },
      pausedSince: paused.map { now.adding(seconds: -$0) })
  }

  func plan(_ capacities: [GroupCapacity], _ cars: [ActiveCharge], suspended: Set<Int> = [],
            readings: [Int: LoadReading] = [:]) throws -> [Int: Double] {
    Allocator.allocate(capacities: capacities, suspended: suspended, tree: try tree(), readings: readings,
                       charges: cars, now: now).mapValues(\.limit)
  }

  @Test func sharesFairlyWithinCapacity() throws {
    #expect(try plan([GroupCapacity(groupID: 1, maxCurrent: 32)], [car(1), car(2), car(3)]) == [1: 10.6, 2: 10.6, 3: 10.6])
  }

  @Test func respectsEachCarsOwnMaximumAndGivesTheRestToOthers() throws {
    let limits = try plan([GroupCapacity(groupID: 1, maxCurrent: 40)], [car(1, max: 10), car(2), car(3)])
    #expect(limits == [1: 10, 2: 15, 3: 15])
  }

  @Test func nestedCapacitiesAllHold() throws {
    let limits = try plan(
      [GroupCapacity(groupID: 1, maxCurrent: 40), GroupCapacity(groupID: 2, maxCurrent: 12)],
      [car(1, group: 2), car(2, group: 2), car(3, group: 3)])
    #expect(limits == [1: 6, 2: 6, 3: 28])
  }

  @Test func whenMinimumsDoNotFitCarsTakeTurns() throws {
    let limits = try plan([GroupCapacity(groupID: 1, maxCurrent: 16)], [car(1), car(2), car(3)])
    #expect(limits.values.filter { $0 == 0 }.count == 1)
    #expect(limits.values.reduce(0, +) <= 16)
    #expect(limits.values.filter { $0 > 0 }.allSatisfy { $0 >= 6 })
  }

  @Test func theWaitingCarGetsTheTurnOfOneWhoseTimeIsUp() throws {
    let capacity = [GroupCapacity(groupID: 1, maxCurrent: 12, alternateSeconds: 900)]
    // Car 1 has charged 20 minutes, car 2 for 5; car 3 has waited 15 minutes.
    let limits = try plan(capacity, [car(1, charging: 1200), car(2, charging: 300), car(3, paused: 900)])
    #expect(limits == [1: 0, 2: 6, 3: 6])
    // Nobody waiting: a car whose turn is over simply keeps charging.
    #expect(try plan(capacity, [car(1, charging: 1200), car(2, charging: 300)]) == [1: 6, 2: 6])
  }

  @Test func singlePhaseCarsOnlyLoadTheirPhase() throws {
    let capacity = [GroupCapacity(groupID: 1, maxCurrent: 16)]
    let limits = try plan(capacity, [car(1, phases: [1]), car(2, phases: [2]), car(3, phases: [1])])
    #expect(limits == [1: 8, 2: 16, 3: 8])
  }

  @Test func otherLoadFromAValidReadingLeavesLessAndStaleReadingsFallBackToTheSafeCurrent() throws {
    let capacity = [GroupCapacity(groupID: 1, maxCurrent: 32, safeCurrent: 10)]
    let fresh = LoadReading(currents: [20, 10, 10], validUntil: now.adding(seconds: 60))
    #expect(try plan(capacity, [car(1), car(2)], readings: [1: fresh]) == [1: 6, 2: 6])
    let stale = LoadReading(currents: [0, 0, 0], validUntil: now.adding(seconds: -1))
    #expect(try plan(capacity, [car(1)], readings: [1: stale]) == [1: 10])
  }

  @Test func aPowerCapLimitsTheCurrent() throws {
    // 11 kW on three phases is 15.9 A per phase.
    #expect(try plan([GroupCapacity(groupID: 1, maxCurrent: 32, maxPowerKW: 11)], [car(1)]) == [1: 15.9])
  }

  @Test func suspendedGroupsPauseEveryCar() throws {
    let limits = try plan([GroupCapacity(groupID: 1, maxCurrent: 32)], [car(1), car(2, group: 3)], suspended: [3])
    #expect(limits == [1: 32, 2: 0])
    let notes = Allocator.allocate(capacities: [], suspended: [1], tree: try tree(), readings: [:],
                                   charges: [car(1)], now: now)
    #expect(notes[1]?.note == "paused: group suspended")
  }

  @Test func carsThatNeedFourteenAmperesGetIt() throws {
    let limits = try plan([GroupCapacity(groupID: 1, maxCurrent: 20)], [car(1, minimum: 14), car(2)])
    #expect(limits == [1: 14, 2: 6])
  }

  @Test func roundingNeverExceedsCapacity() throws {
    let limits = try plan([GroupCapacity(groupID: 1, maxCurrent: 20)], [car(1), car(2), car(3)])
    #expect(limits.values.reduce(0, +) <= 20)
    #expect(limits.values.allSatisfy { ($0 * 10).rounded() == $0 * 10 })
  }

  /// Issue 16 item 5: a station-level maximum current holds for the sum of its connectors.
  @Test func aStationsMaximumIsSharedByItsConnectors() throws {
    func onStation(_ car: ActiveCharge, _ station: Int, max: Double?) -> ActiveCharge {
      var car = car
      car.stationID = station
      car.stationMaximum = max
      return car
    }
    let cars = [onStation(car(1), 7, max: 20), onStation(car(2), 7, max: 20), onStation(car(3), 8, max: nil)]
    let result = Allocator.allocate(
      capacities: [GroupCapacity(groupID: 1, maxCurrent: 63)], suspended: [], tree: try tree(), readings: [:],
      charges: cars, now: now)
    #expect(result.mapValues(\.limit) == [1: 10, 2: 10, 3: 43])
    #expect(result[1]!.note == "share of the station's maximum (20 A)")
    // Too little for both minimums: the station's cars take turns.
    let tight = cars.map { onStation($0, $0.stationID!, max: $0.stationID == 7 ? 10 : nil) }
    let limits = try plan([GroupCapacity(groupID: 1, maxCurrent: 63)], tight)
    #expect(limits[1]! + limits[2]! <= 10 && (limits[1] == 0) != (limits[2] == 0))
  }
}
