import EvctlCore

/// A CALLERROR to answer with: code and description [J16 Table 7].
public struct CallError: Error, Equatable, Sendable {
  public var code: String
  public var description: String

  static func missing(_ field: String) -> CallError {
    CallError(code: "ProtocolError", description: "required field '\(field)' is missing")
  }
  static func type(_ field: String, _ expected: String) -> CallError {
    CallError(code: "TypeConstraintViolation", description: "'\(field)' must be \(expected)")
  }
  static func value(_ field: String, _ why: String) -> CallError {
    CallError(code: "PropertyConstraintViolation", description: "'\(field)' \(why)")
  }
}

/// Reads a CALL payload with the leniency of the brief §5: numbers as strings, times without a
/// zone, extra fields and unknown enum values are accepted and counted, not rejected.
public struct PayloadReader {
  public let fields: [String: JSONValue]
  /// How many lenient conversions were needed.
  public internal(set) var leniencies = 0

  /// Creates a reader over an object payload.
  public init(_ payload: JSONValue) { fields = payload.objectValue ?? [:] }

  /// A string field, at most `maxLength` characters.
  public mutating func string(_ key: String, required: Bool = false, maxLength: Int? = nil)
    throws(CallError) -> String?
  {
    guard let value = fields[key], !value.isNull else {
      if required { throw .missing(key) }
      return nil
    }
    let text: String
    switch value {
    case .string(let s): text = s
    case .int(let n):
      leniencies += 1
      text = String(n)
    default: throw .type(key, "a string")
    }
    if let maxLength, text.count > maxLength {
      throw CallError(
        code: "TypeConstraintViolation", description: "'\(key)' is longer than \(maxLength) characters")
    }
    return text
  }

  /// An integer field; a number sent as a string or as an integral decimal is accepted.
  public mutating func int(_ key: String, required: Bool = false) throws(CallError) -> Int? {
    guard let value = fields[key], !value.isNull else {
      if required { throw .missing(key) }
      return nil
    }
    switch value {
    case .int(let n): return Int(n)
    case .double(let d) where d == d.rounded() && abs(d) < 9e15:
      leniencies += 1
      return Int(d)
    case .string(let s):
      if let n = Int(s.trimmingSpaces) {
        leniencies += 1
        return n
      }
      if let d = Double(s.trimmingSpaces), d == d.rounded(), abs(d) < 9e15 {
        leniencies += 1
        return Int(d)
      }
      throw .type(key, "an integer")
    default: throw .type(key, "an integer")
    }
  }

  /// A decimal field; a number sent as a string is accepted.
  public mutating func double(_ key: String, required: Bool = false) throws(CallError) -> Double? {
    guard let value = fields[key], !value.isNull else {
      if required { throw .missing(key) }
      return nil
    }
    switch value {
    case .int(let n): return Double(n)
    case .double(let d): return d
    case .string(let s):
      guard let d = Double(s.trimmingSpaces) else { throw .type(key, "a number") }
      leniencies += 1
      return d
    default: throw .type(key, "a number")
    }
  }

  /// A date-time field; fractional seconds, offsets and a missing zone (UTC) are accepted.
  public mutating func timestamp(_ key: String, required: Bool = false) throws(CallError)
    -> (Timestamp, raw: String)?
  {
    guard let text = try string(key, required: required) else { return nil }
    guard let time = Timestamp(parsing: text) else { throw .type(key, "an ISO 8601 date-time") }
    if !(text.hasSuffix("Z") || text.hasSuffix("z") || text.dropFirst(19).contains("+")
      || text.dropFirst(19).contains("-"))
    {
      leniencies += 1
    }
    return (time, text)
  }

  /// An enumeration field, read case-insensitively: a value that matches a `known` one in another
  /// case is returned in the canonical spelling and counted as lenient; a value outside `known` is
  /// accepted as sent and counted.
  public mutating func enumeration(_ key: String, _ known: [String], required: Bool = false)
    throws(CallError) -> String?
  {
    guard let text = try string(key, required: required) else { return nil }
    return canonical(text, known)
  }

  /// The canonical spelling of `text` among `known`, counting a lenient match.
  public mutating func canonical(_ text: String, _ known: [String]) -> String {
    if known.contains(text) { return text }
    leniencies += 1
    let folded = text.lowercased()
    return known.first { $0.lowercased() == folded } ?? text
  }

  /// An array field.
  public func array(_ key: String, required: Bool = false) throws(CallError) -> [JSONValue]? {
    guard let value = fields[key], !value.isNull else {
      if required { throw .missing(key) }
      return nil
    }
    guard let items = value.arrayValue else { throw .type(key, "an array") }
    return items
  }
}
