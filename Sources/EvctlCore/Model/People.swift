/// A person who administers the network through evctl.
public struct Operator: Equatable, Sendable {
  public var id: Int
  public var email: String
  public var name: String
  public var role: Role
  public var baseGroupID: Int?
  public var baseGroupPath: String?
  public var active: Bool
  public var createdAt: Timestamp
  /// Mail about alarms in the base group: off, one per alarm, or a daily digest.
  public var alarmMail: AlarmMail = .off
  /// The local hour (0–23) of the daily digest.
  public var alarmMailHour: Int = 7
  /// Whether a password is set (an invited operator has none until they use their code).
  public var hasPassword: Bool = true

  /// The stable JSON form.
  public var json: JSONValue {
    [
      "id": .int(Int64(id)), "email": .string(email), "name": .string(name),
      "role": .string(role.rawValue), "base_group_id": .from(baseGroupID),
      "base_group": .from(baseGroupPath), "active": .bool(active), "created_at": .from(createdAt),
      "alarm_mail": .string(alarmMail.rawValue), "alarm_mail_hour": .int(Int64(alarmMailHour)),
      "password_set": .bool(hasPassword),
    ]
  }

  /// Checks the password policy: at least 8 characters with letters and digits.
  public static func validate(password: String) throws {
    let hasLetter = password.unicodeScalars.contains { $0.properties.isAlphabetic }
    let hasDigit = password.unicodeScalars.contains { ("0"..."9").contains($0) }
    guard password.count >= 8, hasLetter, hasDigit else {
      throw StoreError.invalid(
        "password too weak: use at least 8 characters with both letters and digits")
    }
  }
}

/// An access right: a charging user may charge at a group's stations or at one station.
public struct AccessRight: Equatable, Sendable {
  public var groupPath: String?
  public var stationIdentity: String?

  /// The stable JSON form.
  public var json: JSONValue {
    ["group": .from(groupPath), "station": .from(stationIdentity)]
  }
}

/// A driver who charges with RFID tokens.
public struct ChargingUser: Equatable, Sendable {
  public var id: Int
  public var email: String
  public var firstName: String
  public var lastName: String
  public var phone: String?
  public var groupID: Int?
  public var groupPath: String?
  public var tokenCount: Int
  public var access: [AccessRight]
  public var createdAt: Timestamp

  /// The stable JSON form.
  public var json: JSONValue {
    [
      "id": .int(Int64(id)), "email": .string(email), "first_name": .string(firstName),
      "last_name": .string(lastName), "phone": .from(phone), "group_id": .from(groupID),
      "group": .from(groupPath), "tokens": .int(Int64(tokenCount)),
      "access": .array(access.map(\.json)), "created_at": .from(createdAt),
    ]
  }

  /// Checks that an email address looks like one.
  public static func validate(email: String) throws {
    let parts = email.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
      !email.contains(where: { $0 == " " || $0 == "," })
    else { throw StoreError.invalid("invalid email address '\(email)'") }
  }
}
