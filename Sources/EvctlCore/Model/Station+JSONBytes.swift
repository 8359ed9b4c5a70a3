/// ``Station/json`` written straight into bytes: the same text as `station.json.pretty` (keys
/// sorted, two-space indent), without a dictionary per station or sorting its keys. `station
/// list -o json` writes 20,000 stations this way (issue 15 item 7); `StationJSONBytesTests`
/// checks it against ``JSONValue/pretty``.
extension Station {
  /// Appends the station's JSON object as ``JSONValue/pretty`` would write it nested `level`
  /// deep (the first brace is not indented: the caller places it).
  public func writeJSON(into out: inout [UInt8], level: Int = 0) {
    let keys = level == 1 ? Station.keysAtLevel1 : Station.keys(level: level)
    out.append(0x7B)
    // In `String`'s order of the keys, as the JSON writer sorts them.
    out += keys[0]; Station.text(address, &out)
    out += keys[1]; Station.text(isPublic ? "public" : "private", &out)
    out += keys[2]; Station.text(chargeBoxSerialNumber, &out)
    out += keys[3]; Station.boolean(connected, &out)
    out += keys[4]; Station.integer(connectorCount, &out)
    out += keys[5]; Station.text(createdAt.iso8601, &out)
    out += keys[6]; Station.text(description, &out)
    out += keys[7]; Station.text(externalID, &out)
    out += keys[8]; Station.text(firmwareVersion, &out)
    out += keys[9]; Station.text(groupPath, &out)
    out += keys[10]; Station.integer(groupID, &out)
    out += keys[11]; Station.boolean(hasPassword, &out)
    out += keys[12]; Station.integer(heartbeatInterval, &out)
    out += keys[13]; Station.text(iccid, &out)
    out += keys[14]; Station.integer(id, &out)
    out += keys[15]; Station.text(identity, &out)
    out += keys[16]; Station.text(imsi, &out)
    out += keys[17]; Station.text(lastBootAt?.iso8601, &out)
    out += keys[18]; Station.text(lastSeenAt?.iso8601, &out)
    out += keys[19]; Station.number(latitude, &out)
    out += keys[20]; Station.number(longitude, &out)
    out += keys[21]; Station.number(maxCurrent, &out)
    out += keys[22]; Station.text(meterSerialNumber, &out)
    out += keys[23]; Station.text(meterType, &out)
    out += keys[24]; Station.text(model, &out)
    out += keys[25]; Station.text(name, &out)
    out += keys[26]; Station.text(registrationPolicy.rawValue, &out)
    out += keys[27]; Station.text(registrationStatus, &out)
    out += keys[28]; Station.integer(securityProfile, &out)
    out += keys[29]; Station.text(serialNumber, &out)
    out += keys[30]; Station.text(state, &out)
    out += keys[31]; Station.text(stateDetail, &out)
    out += keys[32]; Station.text(updatedAt.iso8601, &out)
    out += keys[33]; Station.text(uuid, &out)
    out += keys[34]; Station.text(vendor, &out)
    out += keys[35]
  }

  /// The members' names in the order ``writeJSON(into:level:)`` writes them.
  static let jsonKeyOrder = [
    "address", "availability", "charge_box_serial_number", "connected", "connectors", "created_at",
    "description", "external_id", "firmware_version", "group", "group_id", "has_password",
    "heartbeat_interval", "iccid", "id", "identity", "imsi", "last_boot_at", "last_seen_at",
    "latitude", "longitude", "max_current", "meter_serial_number", "meter_type", "model", "name",
    "registration_policy", "registration_status", "security_profile", "serial_number", "state",
    "state_detail", "updated_at", "uuid", "vendor",
  ]

  /// What goes before each value at `level` (`,` newline, indent, quoted key, `: `), and last the
  /// newline and indent before the closing brace.
  static func keys(level: Int) -> [[UInt8]] {
    let inner = [UInt8](repeating: 0x20, count: 2 * (level + 1))
    var keys = jsonKeyOrder.enumerated().map { index, key -> [UInt8] in
      var bytes: [UInt8] = index == 0 ? [0x0A] : [0x2C, 0x0A]
      bytes += inner
      JSONValue.writeString(key, into: &bytes)
      return bytes + [0x3A, 0x20]
    }
    keys.append([0x0A] + [UInt8](repeating: 0x20, count: 2 * level) + [0x7D])
    return keys
  }

  private static let keysAtLevel1 = keys(level: 1)
  private static let nullBytes = Array("null".utf8)
  private static let trueBytes = Array("true".utf8)
  private static let falseBytes = Array("false".utf8)

  private static func text(_ value: String?, _ out: inout [UInt8]) {
    if let value { JSONValue.writeString(value, into: &out) } else { out += nullBytes }
  }

  private static func integer(_ value: Int?, _ out: inout [UInt8]) {
    if let value { JSONValue.writeInteger(Int64(value), into: &out) } else { out += nullBytes }
  }

  private static func number(_ value: Double?, _ out: inout [UInt8]) {
    JSONValue.from(value).write(into: &out, indent: 2, level: 0)
  }

  private static func boolean(_ value: Bool, _ out: inout [UInt8]) {
    out += value ? trueBytes : falseBytes
  }
}
