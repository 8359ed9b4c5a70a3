import EvctlCore
import EvctlTestSupport
import Foundation
import Glibc
import Testing

@testable import EvctlServer

/// A node that could not claim a command (another node had taken the station over) hands it out
/// again: when the station comes back to this node while the command is still queued, it is sent.
/// Only on PostgreSQL may another node hold a station, so this runs with `EVCTL_TEST_POSTGRES_URL`
/// (Tests/run.sh starts a cluster) and is skipped without it.
@Suite struct UnclaimedCommandTests {
  static let base = ProcessInfo.processInfo.environment["EVCTL_TEST_POSTGRES_URL"]

  func connectStation(port: UInt16) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var timeout = timeval(tv_sec: 15, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let wire = Array(upgradeRequest.utf8)
    _ = wire.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    return fd
  }

  /// Reads from `fd` until `marker` arrived (or the 15 s receive timeout).
  func read(_ fd: Int32, until marker: String) -> String {
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while !String(decoding: received, as: UTF8.self).contains(marker) {
      let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if count <= 0 { break }
      received += chunk[0..<count]
    }
    return String(decoding: received, as: UTF8.self)
  }

  @Test(.enabled(if: base != nil, "needs EVCTL_TEST_POSTGRES_URL: only on PostgreSQL may another node hold a station"),
        .timeLimit(.minutes(1)))
  func aCommandNotClaimedWhileAnotherNodeHeldTheStationIsSentWhenItIsBack() throws {
    let url = try TestBackend.createDatabase()
    defer { TestBackend.dropDatabase(url) }
    let store = try Store(postgresURL: url)
    let station = try store.createStation(identity: "CP-1", name: "One").id
    try store.registerNode(id: "node-b", host: "elsewhere", pid: 1, listen: "")
    var configuration = ServerConfiguration()
    configuration.host = "127.0.0.1"
    configuration.port = 0
    configuration.nodeID = "node-a"
    configuration.autoConfiguration = false
    let server = try Server(central: CentralSystem(store: try Store(postgresURL: url), configuration: configuration))
    let port = server.port
    let stopper = server.stopper
    let box = UncheckedBox(server)
    let thread = Thread { try? box.value.run() }
    thread.start()
    defer { stopper.stop() }

    let first = connectStation(port: port)
    defer { close(first) }
    #expect(read(first, until: "\r\n\r\n").hasPrefix("HTTP/1.1 101"))
    // The station reconnects to node B (as B records it), and a command is queued for it: node A
    // still has the old connection and tries, but may not claim it.
    _ = try store.holdStation(station, node: "node-b", at: .now())
    let command = try store.enqueueCommand(station: "CP-1", action: "ClearCache", payload: [:], queue: true)
    usleep(1_500_000)
    #expect(try store.command(command.id).state == .queued)
    // The station comes back to node A while the command is still queued: it is sent there.
    let second = connectStation(port: port)
    defer { close(second) }
    let wire = read(second, until: "ClearCache")
    #expect(wire.contains(#""evctl-\#(command.id)","ClearCache""#), "\(wire)")
  }
}
