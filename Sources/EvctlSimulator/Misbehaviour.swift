import EvctlCore

/// Field quirks of real chargers [ocpp16-brief §9], reproduced on purpose with `--misbehave` so
/// that operators can see a central system tolerate them.
public enum Misbehaviour: String, CaseIterable, Sendable {
  /// Numbers sent as JSON strings: `"connectorId": "1"`.
  case numbersAsStrings = "numbers-as-strings"
  /// Timestamps without a zone: `2026-12-03T10:00:00.000`.
  case zonelessTimes = "zone-less-times"
  /// No `Sec-WebSocket-Protocol` header in the upgrade request.
  case noSubprotocol = "no-subprotocol"
  /// Meter values as decimals with a comma for the point: `"12,5"`.
  case decimalCommas = "decimal-commas"

  /// Parses a comma-separated list; the unknown name, if any, is returned as the error.
  public static func parse(_ text: String) -> Result<Set<Misbehaviour>, Unknown> {
    var set: Set<Misbehaviour> = []
    for name in text.split(separator: ",") {
      guard let value = Misbehaviour(rawValue: String(name)) else { return .failure(Unknown(name: String(name))) }
      set.insert(value)
    }
    return .success(set)
  }

  public struct Unknown: Error, Sendable {
    public var name: String
  }

  /// Rewrites an outgoing payload with the quirks asked for.
  static func apply(_ quirks: Set<Misbehaviour>, to value: JSONValue, key: String = "") -> JSONValue {
    switch value {
    case .int(let number) where quirks.contains(.numbersAsStrings): return .string(String(number))
    case .double(let number) where quirks.contains(.numbersAsStrings): return .string(String(number))
    case .string(let text):
      if quirks.contains(.zonelessTimes), key == "timestamp" || key.hasSuffix("Time") || key == "expiryDate",
        text.hasSuffix("Z"), text.count >= 20
      {
        return .string(String(text.dropLast()))
      }
      if quirks.contains(.decimalCommas), key == "value", text.contains(".") {
        return .string(text.replacingOccurrences(of: Character("."), with: Character(",")))
      }
      return value
    case .array(let items): return .array(items.map { apply(quirks, to: $0, key: key) })
    case .object(let members):
      var out: [String: JSONValue] = [:]
      for (name, member) in members { out[name] = apply(quirks, to: member, key: name) }
      return .object(out)
    default: return value
    }
  }
}

extension String {
  func replacingOccurrences(of target: Character, with replacement: Character) -> String {
    String(map { $0 == target ? replacement : $0 })
  }
}
