/// A JSON document, parsed and printed by evctl's own codec.
///
/// One type serves the CLI's `-o json` output (keys sorted, byte-stable) and the OCPP-J frames
/// of `evctl serve` (compact).
public enum JSONValue: Equatable, Sendable {
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// The member named `key` of an object; `nil` otherwise.
  public subscript(_ key: String) -> JSONValue? {
    if case .object(let members) = self { return members[key] }
    return nil
  }

  /// The element at `index` of an array; `nil` otherwise or out of range.
  public subscript(_ index: Int) -> JSONValue? {
    guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
    return elements[index]
  }

  /// The string, if this is a string.
  public var stringValue: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  /// The value as an integer, leniently: an integer, an integral decimal, or a numeric string
  /// (stations send all three [brief §5]); `nil` otherwise.
  public var intValue: Int? {
    switch self {
    case .int(let n): return Int(exactly: n)
    case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int(d)
    case .string(let s): return Int(s.trimmingSpaces)
    default: return nil
    }
  }

  /// The value as a number, leniently: an integer, a decimal, or a numeric string.
  public var doubleValue: Double? {
    switch self {
    case .int(let n): return Double(n)
    case .double(let d): return d
    case .string(let s): return Double(s.trimmingSpaces)
    default: return nil
    }
  }

  /// The elements, if this is an array.
  public var arrayValue: [JSONValue]? {
    if case .array(let value) = self { return value }
    return nil
  }

  /// The members, if this is an object.
  public var objectValue: [String: JSONValue]? {
    if case .object(let value) = self { return value }
    return nil
  }

  /// Whether this is `null`.
  public var isNull: Bool { self == .null }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
  ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int64) { self = .int(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(nilLiteral: ()) { self = .null }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
  }
}

extension JSONValue {
  /// Wraps an optional string, `null` when absent.
  public static func from(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
  /// Wraps an optional integer, `null` when absent.
  public static func from(_ value: Int?) -> JSONValue { value.map { .int(Int64($0)) } ?? .null }
  /// Wraps an optional double, `null` when absent.
  public static func from(_ value: Double?) -> JSONValue { value.map { .double($0) } ?? .null }
  /// Wraps an optional timestamp as ISO 8601 UTC text, `null` when absent.
  public static func from(_ value: Timestamp?) -> JSONValue {
    value.map { .string($0.iso8601) } ?? .null
  }
}
