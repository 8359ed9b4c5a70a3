import Foundation
import Testing

@testable import EvctlCore

/// Which stations need a new certificate: per station the certificate that expires last decides
/// (and gives the serial), on SQLite and PostgreSQL alike (serve's housekeeping asks every 30 s).
@Suite struct CertificateExpiryTests {
  func add(_ store: Store, station: Int, source: String, serial: String, notAfter: String, state: String? = nil) throws {
    try store.db.run(
      """
      INSERT INTO station_certificates (station_id, source, certificate_type, serial, not_after, state, first_seen_at, last_seen_at)
      VALUES (?, ?, 'ChargePointCertificate', ?, ?, ?, ?, ?)
      """, [station, source, serial, notAfter, state, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"])
  }

  @Test func theLastExpiringCertificateOfEachStationDecides() throws {
    let store = try makeStore()
    let old = try store.createStation(identity: "CP-OLD", name: "Old").id
    let renewed = try store.createStation(identity: "CP-NEW", name: "Renewed").id
    let rejected = try store.createStation(identity: "CP-REJ", name: "Rejected").id
    try add(store, station: old, source: "issued", serial: "A1", notAfter: "2026-11-01T00:00:00Z")
    try add(store, station: old, source: "handshake", serial: "A2", notAfter: "2026-12-01T00:00:00Z")
    try add(store, station: old, source: "installed", serial: "A3", notAfter: "2030-01-01T00:00:00Z")
    try add(store, station: renewed, source: "issued", serial: "B1", notAfter: "2026-11-01T00:00:00Z")
    try add(store, station: renewed, source: "issued", serial: "B2", notAfter: "2028-01-01T00:00:00Z")
    try add(store, station: rejected, source: "issued", serial: "C1", notAfter: "2026-10-01T00:00:00Z")
    try add(store, station: rejected, source: "issued", serial: "C2", notAfter: "2029-01-01T00:00:00Z", state: "rejected")

    let expiring = try store.stationsWithExpiringCertificates(before: Timestamp(parsing: "2027-01-01T00:00:00Z")!)
    #expect(expiring.map(\.identity) == ["CP-OLD", "CP-REJ"])
    #expect(expiring.map(\.serial) == ["A2", "C1"])
    #expect(expiring.first?.notAfter == Timestamp(parsing: "2026-12-01T00:00:00Z"))
    #expect(try store.stationsWithValidCertificates(after: Timestamp(parsing: "2027-01-01T00:00:00Z")!) == [renewed])
  }
}
