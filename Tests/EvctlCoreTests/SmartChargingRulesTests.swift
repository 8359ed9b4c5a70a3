import Testing

@testable import EvctlCore

/// Issue 9's smart-charging rules: turns, handing on, export, profiles at now, the safe current.
@Suite struct SmartChargingRulesTests {
  let start = Timestamp(parsing: "2026-11-21T12:00:00Z")!

  func tree() throws -> GroupTree {
    let store = try makeStore()
    try store.createGroup(name: "Site", parent: nil)
    try store.createGroup(name: "Floor", parent: "Site")
    return try store.groupTree()
  }

  /// Plans every 5 s for `seconds`, feeding each plan's turns back like serve does; returns each
  /// car's limit at each step.
  func simulate(cars: Int, capacity: GroupCapacity, seconds: Int64) throws -> [[Int: Double]] {
    let tree = try tree()
    var charges = (1...cars).map { id in
      ActiveCharge(transactionID: id, groupID: 2, startedAt: start.adding(seconds: Int64(id)))
    }
    var steps: [[Int: Double]] = []
    for t in stride(from: Int64(0), through: seconds, by: 5) {
      let now = start.adding(seconds: t + 10)
      let plan = Allocator.allocate(capacities: [capacity], suspended: [], tree: tree, readings: [:],
                                    charges: charges, now: now)
      steps.append(plan.mapValues(\.limit))
      for index in charges.indices {
        let allocation = plan[charges[index].transactionID]!
        charges[index].chargingSince = allocation.limit > 0 ? allocation.chargingSince : nil
        charges[index].pausedSince = allocation.limit == 0 ? allocation.pausedSince : nil
      }
    }
    return steps
  }

  @Test func aPausedCarStaysPausedAWholeTurnAndEachBoundaryChangesEachCarOnce() throws {
    let steps = try simulate(
      cars: 3, capacity: GroupCapacity(groupID: 1, maxCurrent: 16, safeCurrent: 8, alternateSeconds: 60),
      seconds: 600)
    for car in 1...3 {
      let paused = steps.map { $0[car]! == 0 }
      // Runs of pauses last a whole turn (12 steps of 5 s), except a run cut off by the end.
      var run = 0
      var runs: [Int] = []
      for value in paused {
        if value { run += 1 } else if run > 0 { runs.append(run); run = 0 }
      }
      #expect(runs.allSatisfy { $0 >= 12 }, "car \(car) paused for \(runs.map { $0 * 5 }) s")
      #expect(!runs.isEmpty, "car \(car) never took a turn out")
      // Changes between paused and charging: at most one per 60 s.
      let changes = zip(paused, paused.dropFirst()).filter { $0 != $1 }.count
      #expect(changes <= 600 / 60 + 1, "car \(car) changed \(changes) times")
    }
    // Always two cars charging, one waiting.
    #expect(steps.allSatisfy { $0.values.filter { $0 == 0 }.count == 1 })
  }

  @Test func exportIsHeadroomAndAMeterThatIncludesTheChargersHasTheirDrawTakenOut() throws {
    let tree = try tree()
    let now = start
    let car = ActiveCharge(transactionID: 1, groupID: 2, startedAt: now, measured: [10, 10, 10])
    let export = LoadReading(currents: [-10, -10, -10], validUntil: now.adding(seconds: 60))
    var capacity = GroupCapacity(groupID: 1, maxCurrent: 16)
    var plan = Allocator.allocate(capacities: [capacity], suspended: [], tree: tree, readings: [1: export],
                                  charges: [car], now: now)
    #expect(plan[1]?.limit == 26)
    // The meter at the grid connection reads 14 A, of which our car draws 10: other load is 4 A.
    capacity.meterIncludesChargers = true
    let meter = LoadReading(currents: [14, 14, 14], validUntil: now.adding(seconds: 60))
    plan = Allocator.allocate(capacities: [capacity], suspended: [], tree: tree, readings: [1: meter],
                              charges: [car], now: now)
    #expect(plan[1]?.limit == 12)
  }

  @Test func expiredReadingsNameTheSafeCurrent() throws {
    let tree = try tree()
    let expired = LoadReading(currents: [3, 3, 3], validUntil: start.adding(seconds: -30))
    let plan = Allocator.allocate(
      capacities: [GroupCapacity(groupID: 1, maxCurrent: 32, safeCurrent: 8)], suspended: [], tree: tree,
      readings: [1: expired], charges: [ActiveCharge(transactionID: 1, groupID: 2, startedAt: start)], now: start)
    #expect(plan[1]?.limit == 8)
    #expect(plan[1]?.note.contains("safe current (readings expired at 2026-11-21T11:59:30") == true)
  }

  @Test func aCarCappedByAProfileSaysWhich() throws {
    let plan = Allocator.allocate(
      capacities: [GroupCapacity(groupID: 1, maxCurrent: 32)], suspended: [], tree: try tree(), readings: [:],
      charges: [ActiveCharge(transactionID: 1, groupID: 2, startedAt: start, maximum: 6, maximumSource: "profile 12"),
                ActiveCharge(transactionID: 2, groupID: 2, startedAt: start)], now: start)
    #expect(plan[1]?.note == "capped by profile 12")
    #expect(plan[2]?.limit == 26)
  }

  @Test func aTimeVaryingProfileIsReadAtNowWithItsRecurrency() throws {
    let now = start
    let stepping = ChargingProfile(
      id: 5, name: "site", purpose: .chargePointMax, kind: .absolute, stackLevel: 0, unit: "A",
      periods: [SchedulePeriod(startPeriod: 0, limit: 16), SchedulePeriod(startPeriod: 3600, limit: 6)],
      startSchedule: now.adding(seconds: -7200))
    #expect(stepping.limit(at: now, transactionStart: nil, installedAt: nil) == 6)
    #expect(stepping.limit(at: now.adding(seconds: -5000), transactionStart: nil, installedAt: nil) == 16)
    #expect(stepping.limit(at: now.adding(seconds: -8000), transactionStart: nil, installedAt: nil) == nil)
    // Daily from 06:00: 10 A until 18:00, then 20 A; at 12:00 on a later day, 10 A; at 20:00, 20 A.
    let daily = ChargingProfile(
      id: 6, name: "daily", purpose: .txDefault, kind: .recurring, recurrency: "Daily", stackLevel: 0,
      unit: "A", periods: [SchedulePeriod(startPeriod: 0, limit: 10), SchedulePeriod(startPeriod: 43_200, limit: 20)],
      startSchedule: Timestamp(parsing: "2026-11-01T06:00:00Z")!)
    #expect(daily.limit(at: now, transactionStart: nil, installedAt: nil) == 10)
    #expect(daily.limit(at: now.adding(seconds: 8 * 3600), transactionStart: nil, installedAt: nil) == 20)
    // Relative: from the transaction's start; watts become amperes.
    let relative = ChargingProfile(
      id: 7, name: "rel", purpose: .txProfile, kind: .relative, stackLevel: 0, unit: "W",
      periods: [SchedulePeriod(startPeriod: 0, limit: 11_040), SchedulePeriod(startPeriod: 600, limit: 4140)])
    #expect(relative.limit(at: now, transactionStart: now.adding(seconds: -60), installedAt: nil) == 16)
    #expect(relative.limit(at: now, transactionStart: now.adding(seconds: -900), installedAt: nil) == 6)
  }

  @Test func unusedCurrentIsHandedOnAfterTheWindowAndGivenBack() {
    let t0 = start
    var state = HandOn()
    // Limit 16 A, the car draws 4 A: after the window its limit goes down to 6 A (draw + 2).
    state = state.next(draw: 4, limit: 16, minimum: 6, windowSeconds: 180, now: t0)
    #expect(state.cap == nil && state.underdrawSince == t0)
    state = state.next(draw: 4, limit: 16, minimum: 6, windowSeconds: 180, now: t0.adding(seconds: 100))
    #expect(state.cap == nil)
    state = state.next(draw: 4, limit: 16, minimum: 6, windowSeconds: 180, now: t0.adding(seconds: 180))
    #expect(state.cap == 6)
    // Never below 6 A, even when the car draws nothing.
    #expect(HandOn(underdrawSince: t0).next(draw: 0, limit: 16, minimum: 3, windowSeconds: 10,
                                            now: t0.adding(seconds: 20)).cap == 6)
    // A car that draws close to its limit is not capped at all.
    #expect(HandOn().next(draw: 14, limit: 16, minimum: 6, windowSeconds: 1, now: t0).underdrawSince == nil)
    // Drawing its lowered limit again: the cap goes.
    #expect(state.next(draw: 5.5, limit: 6, minimum: 6, windowSeconds: 180, now: t0.adding(seconds: 200)) == HandOn())
    // Handing on off.
    #expect(HandOn().next(draw: 0, limit: 16, minimum: 6, windowSeconds: 0, now: t0) == HandOn())
  }

  @Test func capacityChangesMergeAndRemoveOnlyWhatIsNamed() throws {
    let store = try makeStore()
    try store.createGroup(name: "Site", parent: nil)
    var first = CapacityChanges()
    first.maxCurrent = 16
    first.safeCurrent = 8
    first.alternateSeconds = 60
    try store.setCapacity("Site", changes: first)
    var raise = CapacityChanges()
    raise.maxCurrent = 20
    let raised = try store.setCapacity("Site", changes: raise)
    #expect(raised.maxCurrent == 20 && raised.safeCurrent == 8 && raised.alternateSeconds == 60)
    var clear = CapacityChanges()
    clear.clearSafeCurrent = true
    #expect(try store.setCapacity("Site", changes: clear).safeCurrent == nil)
    // The first set needs a maximum.
    try store.createGroup(name: "Other", parent: nil)
    #expect(throws: StoreError.self) { try store.setCapacity("Other", changes: CapacityChanges()) }
    // Below IEC 61851's 6 A only with the test-bench flag; every change bumps the counter.
    let before = try store.allocationChangeCount()
    var low = CapacityChanges()
    low.minCurrent = 3
    #expect(throws: StoreError.self) { try store.setCapacity("Site", changes: low) }
    low.allowBelowIECMinimum = true
    #expect(try store.setCapacity("Site", changes: low).minCurrent == 3)
    #expect(try store.allocationChangeCount() == before + 1)
    try store.reportLoad("Site", currents: [-10, -10, -10], validForSeconds: 60)
    #expect(try store.loadReadings().values.first?.currents == [-10, -10, -10])
  }
}
