import Testing

@testable import EvctlCore

@Suite struct IntegerSetTests {
  /// Counts what `Set` counts, through growth and with keys that share their low bits.
  @Test func countsDistinctKeysAsSetDoes() {
    var fast = IntegerSet()
    var reference = Set<Int>()
    var generator = SystemRandomNumberGenerator()
    for round in 0..<20_000 {
      let key = round % 3 == 0 ? (round % 500) << 31 : Int.random(in: 0..<5_000, using: &generator)
      fast.insert(key)
      reference.insert(key)
      #expect(fast.count == reference.count)
    }
    var union = IntegerSet()
    union.insert(1)
    union.insert(Int.max)
    union.formUnion(fast)
    #expect(union.count == reference.union([1, Int.max]).count)
  }
}
