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
    switch self {
    case .null: out += Array("null".utf8)
    case .bool(let value): out += Array((value ? "true" : "false").utf8)
    case .int(let value): out += Array(String(value).utf8)
    case .double(let value):
      if value.isFinite {
        if value == value.rounded(), abs(value) < 1e15 {
          out += Array(String(Int64(value)).utf8)
        } else {
          out += Array(String(value).utf8)
        }
      } else {
        out += Array("null".utf8)
      }
    case .string(let value): JSONValue.writeString(value, into: &out)
    case .array(let elements):
      guard !elements.isEmpty else {
        out += [0x5B, 0x5D]
        return
      }
      out.append(0x5B)
      for (offset, element) in elements.enumerated() {
        if offset > 0 { out.append(0x2C) }
        JSONValue.newline(&out, indent: indent, level: level + 1)
        element.write(into: &out, indent: indent, level: level + 1)
      }
      JSONValue.newline(&out, indent: indent, level: level)
      out.append(0x5D)
    case .object(let members):
      guard !members.isEmpty else {
        out += [0x7B, 0x7D]
        return
      }
      out.append(0x7B)
      for (offset, key) in members.keys.sorted().enumerated() {
        if offset > 0 { out.append(0x2C) }
        JSONValue.newline(&out, indent: indent, level: level + 1)
        JSONValue.writeString(key, into: &out)
        out.append(0x3A)
        if indent != nil { out.append(0x20) }
        members[key]!.write(into: &out, indent: indent, level: level + 1)
      }
      JSONValue.newline(&out, indent: indent, level: level)
      out.append(0x7D)
    }
  }

  static func newline(_ out: inout [UInt8], indent: Int?, level: Int) {
    guard let indent else { return }
    out.append(0x0A)
    out += [UInt8](repeating: 0x20, count: indent * level)
  }

  static func writeString(_ value: String, into out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    out.append(0x22)
    for byte in value.utf8 {
      switch byte {
      case 0x22: out += [0x5C, 0x22]
      case 0x5C: out += [0x5C, 0x5C]
      case 0x0A: out += [0x5C, 0x6E]
      case 0x0D: out += [0x5C, 0x72]
      case 0x09: out += [0x5C, 0x74]
      case 0x00..<0x20:
        out += [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
      default: out.append(byte)
      }
    }
    out.append(0x22)
  }
}
