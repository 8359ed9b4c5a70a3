/// How `evctl serve` answers a station's BootNotification.
public enum RegistrationPolicy: String, CaseIterable, Sendable {
  case accept, pending, reject

  /// The OCPP `RegistrationStatus` this policy answers with.
  public var ocppStatus: String {
    switch self {
    case .accept: return "Accepted"
    case .pending: return "Pending"
    case .reject: return "Rejected"
    }
  }
}

/// A charging station (an OCPP charge point) and what it last reported about itself.
public struct Station: Equatable, Sendable {
  public var id: Int
  public var identity: String
  public var name: String
  public var description: String?
  public var groupID: Int?
  public var groupPath: String?
  public var hasPassword: Bool
  /// The security profile it must connect with (``SecurityProfile``, 0–3).
  public var securityProfile: Int = SecurityProfile.basic.rawValue
  public var heartbeatInterval: Int
  public var isPublic: Bool
  public var registrationPolicy: RegistrationPolicy
  public var registrationStatus: String?
  public var vendor: String?
  public var model: String?
  public var serialNumber: String?
  public var chargeBoxSerialNumber: String?
  public var firmwareVersion: String?
  public var iccid: String?
  public var imsi: String?
  public var meterType: String?
  public var meterSerialNumber: String?
  public var lastBootAt: Timestamp?
  public var lastSeenAt: Timestamp?
  public var connected: Bool
  public var connectorCount: Int
  /// `online`, `charging`, `faulted`, `offline`, `never_connected`, or `unknown` when the store
  /// says connected but its `serve` is not running.
  public var state: String
  /// Why the state is what it is, when that is not obvious ("serve not running since T").
  public var stateDetail: String? = nil
  public var createdAt: Timestamp
  public var updatedAt: Timestamp
  /// Where it stands (CTEK's station address) and its coordinates in degrees.
  public var address: String? = nil
  public var latitude: Double? = nil
  public var longitude: Double? = nil
  /// An id an external system gave it, set by an operator; unique among stations.
  public var externalID: String? = nil
  /// A UUID evctl generated for it, stable for its life (for external services).
  public var uuid: String? = nil
  /// The most the whole station may draw per phase, in amperes (Alfen `Station-MaxCurrent`):
  /// smart charging shares it between the station's connectors.
  public var maxCurrent: Double? = nil

  /// The stable JSON form.
  public var json: JSONValue {
    var object: [String: JSONValue] = [
      "id": .int(Int64(id)), "identity": .string(identity), "name": .string(name),
      "description": .from(description), "group_id": .from(groupID), "group": .from(groupPath),
      "has_password": .bool(hasPassword), "heartbeat_interval": .int(Int64(heartbeatInterval)),
      "availability": .string(isPublic ? "public" : "private"),
      "registration_policy": .string(registrationPolicy.rawValue),
      "registration_status": .from(registrationStatus), "vendor": .from(vendor),
      "model": .from(model), "serial_number": .from(serialNumber),
      "charge_box_serial_number": .from(chargeBoxSerialNumber),
      "firmware_version": .from(firmwareVersion), "iccid": .from(iccid), "imsi": .from(imsi),
      "meter_type": .from(meterType), "meter_serial_number": .from(meterSerialNumber),
      "last_boot_at": .from(lastBootAt), "last_seen_at": .from(lastSeenAt),
      "connected": .bool(connected), "connectors": .int(Int64(connectorCount)),
      "state": .string(state), "state_detail": .from(stateDetail), "created_at": .from(createdAt), "updated_at": .from(updatedAt),
      "security_profile": .int(Int64(securityProfile)),
    ]
    object["address"] = .from(address)
    object["latitude"] = .from(latitude)
    object["longitude"] = .from(longitude)
    object["external_id"] = .from(externalID)
    object["uuid"] = .from(uuid)
    object["max_current"] = .from(maxCurrent)
    return .object(object)
  }

  /// Checks an identity: 1–48 letters, digits, `-`, `_` or `.`.
  ///
  /// - Throws: ``StoreError/invalid(_:)`` with the Ensto wording.
  public static func validate(identity: String) throws {
    guard !identity.isEmpty, identity.utf8.count <= 48 else {
      throw StoreError.invalid(
        "invalid station identity '\(identity)': it must be 1 to 48 characters long")
    }
    let allowed = identity.unicodeScalars.allSatisfy {
      ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
        || $0 == "-" || $0 == "_" || $0 == "."
    }
    guard allowed else {
      throw StoreError.invalid(
        "identifier contains forbidden characters: '\(identity)' (use letters, digits, '-', '_' and '.')")
    }
  }
}

/// A connector of a station (OCPP connectorId ≥ 1) with its configuration and last status.
public struct Connector: Equatable, Sendable {
  public var stationIdentity: String
  public var connectorID: Int
  public var type: String?
  public var maxCurrent: Double?
  public var mode: String
  public var parkingSpace: String?
  public var status: String?
  public var errorCode: String?
  public var info: String?
  public var statusAt: Timestamp?
  /// An id an external system gave it, set by an operator; unique among connectors.
  public var externalID: String? = nil
  /// A UUID evctl generated for it (CTEK's connector UUID for external services).
  public var uuid: String? = nil

  /// The stable JSON form.
  public var json: JSONValue {
    [
      "station": .string(stationIdentity), "connector_id": .int(Int64(connectorID)),
      "type": .from(type), "max_current": .from(maxCurrent), "mode": .string(mode),
      "parking_space": .from(parkingSpace), "status": .from(status),
      "error_code": .from(errorCode), "info": .from(info), "status_at": .from(statusAt),
      "external_id": .from(externalID), "uuid": .from(uuid),
    ]
  }
}
