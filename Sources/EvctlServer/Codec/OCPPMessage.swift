import EvctlCore

/// An OCPP-J RPC message [J16 §4.2].
public enum OCPPMessage: Equatable, Sendable {
  /// `[2, id, action, payload]`.
  case call(id: JSONValue, action: String, payload: JSONValue)
  /// `[3, id, payload]`.
  case result(id: JSONValue, payload: JSONValue)
  /// `[4, id, code, description, details]`.
  case error(id: JSONValue, code: String, description: String, details: JSONValue)

  /// The wire form.
  public var json: JSONValue {
    switch self {
    case .call(let id, let action, let payload): return [2, id, .string(action), payload]
    case .result(let id, let payload): return [3, id, payload]
    case .error(let id, let code, let description, let details):
      return [4, id, .string(code), .string(description), details]
    }
  }

  /// The compact wire bytes.
  public var bytes: [UInt8] { json.compactBytes }
}

/// Why a text message is not a usable OCPP-J message; answered with a CALLERROR.
public struct OCPPFrameError: Error, Equatable, Sendable {
  /// The id to answer with: the message's own when it could be read, else `""`.
  public var id: JSONValue
  public var code: String
  public var description: String
}

/// Decodes OCPP-J envelopes leniently: `null` payloads become `{}`, numeric ids are echoed as sent.
public enum OCPPMessageDecoder {
  /// Decodes a text message; returns `nil` for message types 1.6 says to ignore.
  public static func decode(_ text: String) throws(OCPPFrameError) -> OCPPMessage? {
    let value: JSONValue
    do {
      value = try JSONValue.parse(Array(text.utf8))
    } catch {
      throw OCPPFrameError(id: "", code: "FormationViolation", description: "frame is not JSON: \(error)")
    }
    guard case .array(let items) = value, items.count >= 3 else {
      throw OCPPFrameError(
        id: "", code: "FormationViolation",
        description: "an OCPP-J frame is a JSON array [type, id, ...]")
    }
    let id = items[1]
    guard id.stringValue.map({ !$0.isEmpty && $0.utf8.count <= 36 }) ?? isNumber(id) else {
      throw OCPPFrameError(
        id: id.stringValue != nil ? id : "", code: "FormationViolation",
        description: "message id must be a string of 1 to 36 characters")
    }
    guard let type = items[0].intValue else {
      throw OCPPFrameError(id: id, code: "FormationViolation", description: "message type is not a number")
    }
    switch type {
    case 2:
      guard items.count >= 4, let action = items[2].stringValue else {
        throw OCPPFrameError(
          id: id, code: "FormationViolation", description: "a CALL is [2, id, action, payload]")
      }
      let payload = items[3].isNull ? JSONValue.object([:]) : items[3]
      guard payload.objectValue != nil else {
        throw OCPPFrameError(id: id, code: "FormationViolation", description: "payload must be an object")
      }
      return .call(id: id, action: action, payload: payload)
    case 3:
      return .result(id: id, payload: items[2].isNull ? .object([:]) : items[2])
    case 4:
      let code = items[2].stringValue ?? "GenericError"
      let description = items.count > 3 ? (items[3].stringValue ?? "") : ""
      let details = items.count > 4 ? items[4] : .object([:])
      return .error(id: id, code: code, description: description, details: details)
    default:
      return nil
    }
  }

  static func isNumber(_ value: JSONValue) -> Bool {
    switch value {
    case .int, .double: return true
    default: return false
    }
  }

}
