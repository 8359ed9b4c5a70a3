extension JSONValue {
  /// The compact JSON text, keys sorted, as bytes (OCPP frames).
  public var compactBytes: [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(128)
    write(into: &out, indent: nil, level: 0)
    return out
  }

  /// The compact JSON text, keys sorted.
  public var compact: String { String(decoding: compactBytes, as: UTF8.self) }

  /// The JSON text indented by two spaces, keys sorted: byte-stable output for scripts.
  public var pretty: String {
    var out: [UInt8] = []
    write(into: &out, indent: 2, level: 0)
    return String(decoding: out, as: UTF8.self)
  }

  func write(into out: inout [UInt8], indent: Int?, level: Int) {
    var orders: KeyOrders?
    write(into: &out, indent: indent, level: level, orders: &orders)
  }

  /// Writes the value; `orders` remembers the key order of objects met in arrays, from the first
  /// array of more than one element on (`nil` until then: a single object is just sorted).
  func write(into out: inout [UInt8], indent: Int?, level: Int, orders: inout KeyOrders?) {
    switch self {
    case .null: JSONValue.append("null", to: &out)
    case .bool(let value): JSONValue.append(value ? "true" : "false", to: &out)
    case .int(let value): JSONValue.writeInteger(value, into: &out)
    case .double(let value):
      if value.isFinite {
        if value == value.rounded(), abs(value) < 1e15 {
          JSONValue.writeInteger(Int64(value), into: &out)
        } else {
          JSONValue.append(String(value), to: &out)
        }
      } else {
        JSONValue.append("null", to: &out)
      }
    case .string(let value): JSONValue.writeString(value, into: &out)
    case .array(let elements):
      guard !elements.isEmpty else {
        out += [0x5B, 0x5D]
        return
      }
      out.append(0x5B)
      if elements.count > 1, orders == nil { orders = KeyOrders() }
      for (offset, element) in elements.enumerated() {
        if offset > 0 { out.append(0x2C) }
        JSONValue.newline(&out, indent: indent, level: level + 1)
        element.write(into: &out, indent: indent, level: level + 1, orders: &orders)
      }
      JSONValue.newline(&out, indent: indent, level: level)
      out.append(0x5D)
    case .object(let members):
      guard !members.isEmpty else {
        out += [0x7B, 0x7D]
        return
      }
      out.append(0x7B)
      // Sorted once as (key, value) pairs: no second lookup of each key.
      let sorted = orders?.sorted(members) ?? members.sorted(by: { $0.key < $1.key })
      for (offset, member) in sorted.enumerated() {
        if offset > 0 { out.append(0x2C) }
        JSONValue.newline(&out, indent: indent, level: level + 1)
        JSONValue.writeString(member.key, into: &out)
        out.append(0x3A)
        if indent != nil { out.append(0x20) }
        member.value.write(into: &out, indent: indent, level: level + 1, orders: &orders)
      }
      JSONValue.newline(&out, indent: indent, level: level)
      out.append(0x7D)
    }
  }

  static func newline(_ out: inout [UInt8], indent: Int?, level: Int) {
    guard let indent else { return }
    out.append(0x0A)
    out.append(contentsOf: repeatElement(0x20, count: indent * level))
  }

  /// Appends the UTF-8 of `text` without an intermediate array.
  static func append(_ text: String, to out: inout [UInt8]) {
    var text = text
    text.withUTF8 { out.append(contentsOf: $0) }
  }

  /// Appends the decimal digits of `value` without formatting a `String` first.
  static func writeInteger(_ value: Int64, into out: inout [UInt8]) {
    if value < 0 { out.append(0x2D) }
    var magnitude = value.magnitude
    var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes: room for 20 digits
    var count = 0
    withUnsafeMutableBytes(of: &digits) { buffer in
      repeat {
        buffer[31 - count] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
        magnitude /= 10
        count += 1
      } while magnitude > 0
      out.append(contentsOf: buffer[(32 - count)...])
    }
  }

  static func writeString(_ value: String, into out: inout [UInt8]) {
    out.append(0x22)
    var text = value
    text.withUTF8 { bytes in
      // Runs that need no escape are copied at once.
      var start = 0
      var index = 0
      while index < bytes.count {
        let byte = bytes[index]
        index += 1
        guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index - 1]))
        start = index
        switch byte {
        case 0x22: out += [0x5C, 0x22]
        case 0x5C: out += [0x5C, 0x5C]
        case 0x0A: out += [0x5C, 0x6E]
        case 0x0D: out += [0x5C, 0x72]
        case 0x09: out += [0x5C, 0x74]
        default:
          out += [0x5C, 0x75, 0x30, 0x30, hexDigit(byte >> 4), hexDigit(byte & 0xF)]
        }
      }
      out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
    }
    out.append(0x22)
  }

  private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }
}

/// The sorted keys of objects written earlier in one document, by key count: the elements of an
/// array of objects of one shape (20,000 stations) are sorted once, not once each.
struct KeyOrders {
  private var byCount: [Int: [String]] = [:]

  /// The members in key order (as `String`'s `<` sorts). When the keys remembered for this count
  /// are all present, the key sets are equal and that order is reused; otherwise they are sorted
  /// and remembered.
  mutating func sorted(_ members: [String: JSONValue]) -> [(key: String, value: JSONValue)] {
    if let keys = byCount[members.count] {
      var pairs: [(key: String, value: JSONValue)] = []
      pairs.reserveCapacity(keys.count)
      for key in keys {
        guard let value = members[key] else { break }
        pairs.append((key, value))
      }
      if pairs.count == keys.count { return pairs }
    }
    let pairs = members.sorted(by: { $0.key < $1.key })
    byCount[members.count] = pairs.map(\.key)
    return pairs
  }
}
