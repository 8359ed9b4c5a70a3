/// An RFID token (an OCPP idTag) owned by a charging user.
public struct Token: Equatable, Sendable {
  public var id: Int
  public var idTag: String
  public var rawIDTag: String
  public var userID: Int
  public var userEmail: String
  public var name: String?
  public var validFrom: Timestamp?
  public var validTo: Timestamp?
  public var blocked: Bool
  public var parentIDTag: String?
  public var allowConcurrent: Bool
  public var createdAt: Timestamp

  /// The token's status now, ignoring station access (for listings).
  public func status(at now: Timestamp) -> String {
    if blocked { return "blocked" }
    if let validTo, validTo <= now { return "expired" }
    if let validFrom, validFrom > now { return "not_yet_valid" }
    return "valid"
  }

  /// The stable JSON form.
  public func json(at now: Timestamp) -> JSONValue {
    [
      "id": .int(Int64(id)), "id_tag": .string(idTag), "raw_id_tag": .string(rawIDTag),
      "user": .string(userEmail), "name": .from(name), "valid_from": .from(validFrom),
      "valid_to": .from(validTo), "blocked": .bool(blocked), "parent_id_tag": .from(parentIDTag),
      "allow_concurrent": .bool(allowConcurrent), "status": .string(status(at: now)),
      "created_at": .from(createdAt),
    ]
  }
}

/// Turns what an operator typed or a reader printed into the one stored idTag form.
///
/// IdTags are OCPP CiString20: case-insensitive, at most 20 characters [S16 §7.28]. The canonical
/// form is upper case. A hex UID written with separators (`04:a1:b2`), with `0x`, or given in
/// decimal (`dec:` prefix or `decimal: true`) becomes the plain upper-case hex of its bytes,
/// byte 0 first [S16 §3.9], so the same card is one token however it was written down.
public enum IdTagCanonicalizer {
  /// Returns the canonical idTag.
  ///
  /// - Throws: ``StoreError/invalid(_:)`` when the result is empty, too long, or not printable ASCII.
  public static func canonical(_ raw: String, decimal: Bool = false) throws -> String {
    var text = raw.trimmingSpaces
    var isDecimal = decimal
    if text.lowercased().hasPrefix("dec:") {
      text = String(text.dropFirst(4))
      isDecimal = true
    }
    let result: String
    if isDecimal {
      guard let value = UInt64(text) else {
        throw StoreError.invalid("invalid decimal UID '\(raw)': expected digits only")
      }
      var hex = String(value, radix: 16, uppercase: true)
      if hex.count % 2 == 1 { hex = "0" + hex }
      let width = hex.count <= 8 ? 8 : (hex.count <= 14 ? 14 : hex.count)
      result = String(repeating: "0", count: width - hex.count) + hex
    } else if text.lowercased().hasPrefix("0x") {
      result = String(text.dropFirst(2)).uppercased()
      guard Crypto.unhex(result) != nil else {
        throw StoreError.invalid("invalid hex UID '\(raw)'")
      }
    } else if let joined = joinedHexBytes(text) {
      result = joined
    } else {
      result = text.uppercased()
    }
    guard !result.isEmpty else { throw StoreError.invalid("id tag must not be empty") }
    guard result.count <= 20 else {
      throw StoreError.invalid(
        "id tag '\(raw)' is longer than 20 characters (OCPP IdToken is CiString20)")
    }
    guard result.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
      throw StoreError.invalid("id tag '\(raw)' must be printable ASCII without spaces")
    }
    return result
  }

  private static func joinedHexBytes(_ text: String) -> String? {
    for separator in [":", "-", " "] as [Unicode.Scalar]
    where text.unicodeScalars.contains(separator) {
      let parts = text.split(separator: Character(separator)).map(String.init)
      guard parts.count > 1, parts.allSatisfy({ $0.count == 2 && Crypto.unhex($0) != nil }) else {
        return nil
      }
      return parts.joined().uppercased()
    }
    return nil
  }
}

extension String {
  /// The string without leading and trailing spaces, tabs and line breaks.
  public var trimmingSpaces: String {
    let scalars = unicodeScalars
    let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
    guard let first = scalars.firstIndex(where: { !isSpace($0) }),
      let last = scalars.lastIndex(where: { !isSpace($0) })
    else { return "" }
    return String(scalars[first...last])
  }
}
