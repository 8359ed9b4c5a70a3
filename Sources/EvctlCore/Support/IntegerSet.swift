/// A set of non-negative integers by open addressing with a multiplicative hash, for counting
/// distinct keys over millions of rows, where `Set`'s seeded SipHash per insert costs more than
/// the rest of the row's work. Keys come from the store (ids), not from an attacker who could
/// choose them to collide; `Set` stays the choice everywhere else.
struct IntegerSet {
  private static let empty = -1
  private var slots = [Int](repeating: IntegerSet.empty, count: 16)
  /// The number of distinct keys inserted.
  private(set) var count = 0

  /// Adds `key` (≥ 0).
  mutating func insert(_ key: Int) {
    precondition(key >= 0, "IntegerSet holds non-negative keys")
    let mask = slots.count - 1
    var index = Int(truncatingIfNeeded: (UInt(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    while true {
      let slot = slots[index]
      if slot == key { return }
      if slot == IntegerSet.empty { break }
      index = (index + 1) & mask
    }
    slots[index] = key
    count += 1
    if count * 2 > slots.count { grow() }
  }

  /// Adds every key of `other`.
  mutating func formUnion(_ other: IntegerSet) {
    for key in other.slots where key != IntegerSet.empty { insert(key) }
  }

  private mutating func grow() {
    let old = slots
    slots = [Int](repeating: IntegerSet.empty, count: old.count * 2)
    count = 0
    for key in old where key != IntegerSet.empty { insert(key) }
  }
}
