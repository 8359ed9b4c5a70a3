import EvctlCore
import Foundation
import Glibc
import Testing

@testable import EvctlServer

/// One real socket round trip through the epoll transport on 127.0.0.1, port 0.
@Suite struct LoopbackTests {
  @Test(.timeLimit(.minutes(1))) func heartbeatOverARealSocket() throws {
    let directory = NSTemporaryDirectory() + "evctl-loop-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try makeServeStore(directory: directory)
    try store.createStation(identity: "CP-1", name: "One")
    var configuration = ServerConfiguration()
    configuration.host = "127.0.0.1"
    configuration.port = 0
    let server = try Server(central: CentralSystem(store: store, configuration: configuration))
    let port = server.port
    let stopper = server.stopper
    let box = UncheckedBox(server)
    let thread = Thread { try? box.value.run() }
    thread.start()
    defer { stopper.stop() }

    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    #expect(connected == 0)
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let wire = Array(upgradeRequest.utf8) + text(#"[2,"h1","Heartbeat",{}]"#)
    _ = wire.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while !String(decoding: received, as: UTF8.self).contains("currentTime") {
      let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if count <= 0 { break }
      received += chunk[0..<count]
    }
    let reply = String(decoding: received, as: UTF8.self)
    #expect(reply.hasPrefix("HTTP/1.1 101 Switching Protocols"))
    #expect(reply.contains(#"[3,"h1",{"currentTime":"#))
  }
}

/// Hands a value to one other thread in a test; the test never touches it again meanwhile.
final class UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
