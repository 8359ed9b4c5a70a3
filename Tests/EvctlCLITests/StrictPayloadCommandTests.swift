import EvctlCore
import Testing

@testable import EvctlCLI

/// Issue 9 item 15 through the CLI: a payload past an OCPP 1.6 limit is refused with exit 65
/// before anything is queued, whether or not the station is connected.
@Suite struct StrictPayloadCommandTests {
  @Test(arguments: [
    ("station data-transfer CP-1 --vendor \(String(repeating: "v", count: 256))", "'vendorId'", "maxLength 255"),
    ("station data-transfer CP-1 --vendor x --message-id \(String(repeating: "m", count: 51))", "'messageId'", "maxLength 50"),
    ("station config get CP-1 \(String(repeating: "k", count: 51))", "'key[]'", "maxLength 50"),
    ("station firmware update CP-1 --location 'not a uri'", "'location'", "absolute URI"),
    ("station diagnostics CP-1 --location /tmp/x", "'location'", "absolute URI"),
  ])
  func payloadsPastASchemaLimitAreRefused(_ line: String, _ field: String, _ limit: String) throws {
    let box = try Sandbox()
    box.run("station create CP-1 --name One")
    let result = box.run(line)
    #expect(result.code == .dataError, "\(result.err)")
    #expect(result.err.contains(field) && result.err.contains(limit), "\(result.err)")
    let store = try box.openStore()
    #expect(try store.db.queryOne("SELECT count(*) AS n FROM commands")?.int("n") == 0)
  }
}
