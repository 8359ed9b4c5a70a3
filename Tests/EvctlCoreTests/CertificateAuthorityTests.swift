import Foundation
import Testing

@testable import EvctlCore

/// evctl's CA through OpenSSL: names, a root beside the store, station certificates and the CSR
/// check SignCertificate relies on (issue 12 item 3). CSRs come from the `openssl` command.
@Suite struct CertificateAuthorityTests {
  func folder() throws -> String {
    let path = NSTemporaryDirectory() + "evctl-ca-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  func csr(in folder: String, cn: String, key: [String] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]) throws -> CertificateRequest {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = ["req", "-new"] + key + ["-nodes", "-keyout", folder + "/k.pem", "-out", folder + "/r.csr", "-subj", "/O=ACME/CN=\(cn)"]
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return try CertificateRequest(pem: try String(contentsOfFile: folder + "/r.csr", encoding: .utf8))
  }

  @Test func namesParseInBothFormsAndRefuseNonsense() throws {
    let name = try DistinguishedName(parsing: "CN=Root\\, Inc,O=ACME")
    #expect(name.commonName == "Root, Inc" && name.value("O") == "ACME")
    #expect(name.description == "CN=Root\\, Inc,O=ACME")
    #expect(try DistinguishedName(parsing: "/CN=CP-1/O=ACME") == DistinguishedName(parsing: "CN=CP-1,O=ACME"))
    #expect(throws: CertificateError.self) { try DistinguishedName(parsing: "CN") }
    #expect(throws: CertificateError.self) { try DistinguishedName(parsing: "XYZZY=1") }
    #expect(throws: CertificateError.self) { try DistinguishedName(parsing: "") }
  }

  @Test func aRootSignsStationCertificatesAndIsCreatedOnce() throws {
    let store = try folder() + "/evctl.db"
    let authority = try CertificateAuthority.createRoot(
      forStore: store, subject: try DistinguishedName(parsing: "CN=Test Root,O=ACME"), days: 30)
    #expect(authority.certificate.isAuthority && !authority.isIntermediate)
    #expect(throws: CertificateError.self) {
      try CertificateAuthority.createRoot(forStore: store, subject: try DistinguishedName(parsing: "CN=X"), days: 1)
    }
    let loaded = try #require(try CertificateAuthority.load(forStore: store))
    #expect(loaded.certificate.fingerprint == authority.certificate.fingerprint)
    let (certificate, key) = try loaded.issue(identity: "CP-1", days: 10)
    #expect(certificate.matches(key) && certificate.isSigned(by: authority.root) && !certificate.isAuthority)
    #expect(certificate.subject.description == "CN=CP-1,O=ACME")
    #expect(certificate.keyInfo.summary == "EC P-256")
    let days = (certificate.notAfter.milliseconds - Timestamp.now().milliseconds) / 86_400_000
    #expect(days == 9 || days == 10)
  }

  @Test func theCSRCheckWantsTheIdentityAValidSignatureAndAStrongKey() throws {
    let directory = try folder()
    let authority = try CertificateAuthority.createRoot(
      forStore: directory + "/evctl.db", subject: try DistinguishedName(parsing: "CN=Root"), days: 30)
    let good = try csr(in: directory, cn: "CP-1")
    #expect(CertificateAuthority.problem(with: good, identity: "cp-1") == nil)
    let signed = try authority.sign(good, identity: "CP-1")
    #expect(signed.isSigned(by: authority.certificate) && signed.subject.commonName == "CP-1")
    #expect(CertificateAuthority.problem(with: good, identity: "CP-2")?.contains("not the station identity") == true)
    let weak = try csr(in: directory, cn: "CP-1", key: ["-newkey", "rsa:1024"])
    #expect(CertificateAuthority.problem(with: weak, identity: "CP-1")?.contains("RSA 1024") == true)
    let strong = try csr(in: directory, cn: "CP-1", key: ["-newkey", "rsa:2048"])
    #expect(CertificateAuthority.problem(with: strong, identity: "CP-1") == nil)
    #expect(throws: CertificateError.self) { try CertificateRequest(pem: "garbage") }
  }
}
