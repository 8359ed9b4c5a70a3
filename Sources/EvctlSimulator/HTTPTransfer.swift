import EvctlCore
import Glibc

/// A minimal blocking HTTP/1.1 client for firmware downloads and diagnostics uploads.
///
/// It blocks the simulator's loop while it runs (bounded by a 10 s timeout per socket operation);
/// firmware updates and diagnostics are rare, operator-triggered events.
enum HTTPTransfer {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// GETs a URL; returns the body on 2xx. `https://` goes through `tls` (the run's context,
  /// with its CA and client certificate).
  static func get(_ url: String, tls: TLSContext? = nil) throws(Failure) -> [UInt8] {
    let (status, body) = try exchange(url, method: "GET", body: nil, tls: tls)
    guard (200..<300).contains(status) else { throw Failure(description: "HTTP \(status)") }
    return body
  }

  /// PUTs bytes to a URL; succeeds on 2xx. With `credentials` (identity, password) it sends
  /// them as HTTP Basic auth, as serve's file service asks of stations that have a password.
  static func put(_ url: String, body: [UInt8], credentials: (String, [UInt8])? = nil, tls: TLSContext? = nil)
    throws(Failure)
  {
    let (status, _) = try exchange(url, method: "PUT", body: body, credentials: credentials, tls: tls)
    guard (200..<300).contains(status) else { throw Failure(description: "HTTP \(status)") }
  }

  static func exchange(_ url: String, method: String, body: [UInt8]?, credentials: (String, [UInt8])? = nil,
                       tls: TLSContext? = nil) throws(Failure) -> (Int, [UInt8])
  {
    let secure = url.hasPrefix("https://")
    guard url.hasPrefix("http://") || secure else {
      throw Failure(description: "only http:// and https:// locations are supported, not '\(url.prefix(10))…'")
    }
    let rest = url.dropFirst(secure ? 8 : 7)
    let slash = rest.firstIndex(of: "/") ?? rest.endIndex
    let authority = String(rest[..<slash])
    let path = slash == rest.endIndex ? "/" : String(rest[slash...])
    var host = authority
    var port: UInt16 = secure ? 443 : 80
    if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
      host = String(authority[..<colon])
      guard let value = UInt16(authority[authority.index(after: colon)...]) else {
        throw Failure(description: "invalid port in '\(url)'")
      }
      port = value
    }
    host = host.trimmed("[]")
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var result: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host == "localhost" ? "127.0.0.1" : host, String(port), &hints, &result) == 0,
      let first = result
    else { throw Failure(description: "cannot resolve '\(host)'") }
    defer { freeaddrinfo(result) }
    let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket failed") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    guard Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
      throw Failure(description: String(cString: strerror(errno)).lowercased())
    }
    var request = "\(method) \(path) HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\nUser-Agent: evctl-simulate\r\n"
    if let body { request += "Content-Type: text/plain\r\nContent-Length: \(body.count)\r\n" }
    if let (user, password) = credentials {
      request += "Authorization: Basic \(Crypto.base64(Array(user.utf8) + [58] + password))\r\n"
    }
    var bytes = Array((request + "\r\n").utf8)
    if let body { bytes += body }
    // The socket blocks (with timeouts), so a TLS handshake finishes or fails in one call.
    var session: TLSSession?
    if secure {
      let context: TLSContext
      do {
        context = try tls ?? TLSContext(caFile: nil, certificateFile: nil, keyFile: nil)
      } catch {
        throw Failure(description: "\(error)")
      }
      guard let made = context.session(fd: fd, host: host) else { throw Failure(description: "TLS: no session") }
      if case .failed(let why) = made.handshake() { throw Failure(description: "TLS: \(why)") }
      session = made
    }
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes { raw in
        session.map { $0.write(raw) } ?? write(fd, raw.baseAddress, raw.count)
      }
      guard written > 0 else { throw Failure(description: "write failed") }
      offset += written
    }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while response.count < 256 << 20 {
      let count = chunk.withUnsafeMutableBufferPointer { buffer in
        session.map { $0.read(buffer.baseAddress!, buffer.count) } ?? read(fd, buffer.baseAddress, buffer.count)
      }
      if count <= 0 { break }
      response += chunk[0..<count]
    }
    guard let end = ClientHandshake.headerEnd(response) else {
      throw Failure(description: "no HTTP response")
    }
    let head = String(decoding: response[..<end], as: UTF8.self)
    let parts = head.split(separator: " ", maxSplits: 2)
    guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "bad HTTP response") }
    var payload = Array(response[(end + 4)...])
    if head.lowercased().contains("transfer-encoding: chunked") { payload = dechunk(payload) }
    return (status, payload)
  }

  static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var index = 0
    while index < bytes.count {
      guard let lineEnd = (index..<(bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 })
      else { break }
      let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
      guard let size = Int(sizeText, radix: 16), size > 0 else { break }
      let start = lineEnd + 2
      guard start + size <= bytes.count else { break }
      out += bytes[start..<(start + size)]
      index = start + size + 2
    }
    return out
  }
}

extension Simulator {
  /// Downloading → Downloaded → Installing → reboot → Installed after the next boot.
  func firmwareUpdate(_ station: SimStation, location: String) {
    station.firmwareStatus = "Downloading"
    call(station, "FirmwareStatusNotification", ["status": "Downloading"])
    flush(station)
    do {
      let image = try HTTPTransfer.get(location, tls: tlsContext)
      emit(station, .note("firmware downloaded: \(image.count) bytes from \(location)"))
      station.firmwareStatus = "Downloaded"
      call(station, "FirmwareStatusNotification", ["status": "Downloaded"])
      station.firmwareStatus = "Installing"
      call(station, "FirmwareStatusNotification", ["status": "Installing"])
      station.firmwareStatus = "Installed"
      station.rebootAt = now + 1
      station.reportInstalled = true
    } catch {
      emit(station, .note("firmware download failed: \(error)"))
      station.firmwareStatus = "DownloadFailed"
      call(station, "FirmwareStatusNotification", ["status": "DownloadFailed"])
    }
  }

  /// Uploading → Uploaded (or UploadFailed), with a generated text file.
  func uploadDiagnostics(_ station: SimStation, location: String) {
    station.diagnosticsStatus = "Uploading"
    call(station, "DiagnosticsStatusNotification", ["status": "Uploading"])
    flush(station)
    var text = "evctl simulate diagnostics\nidentity: \(station.identity)\ngenerated: \(wallClock())\n"
    for (index, connector) in station.connectors.enumerated() {
      text += "connector \(index): \(connector.status) energy \(Int(connector.energyWh)) Wh\n"
    }
    for name in station.configuration.order { text += "\(name)=\(station.configuration[name] ?? "")\n" }
    var target = location
    if target.hasSuffix("/") { target += diagnosticsFileName(station) }
    do {
      try HTTPTransfer.put(target, body: Array(text.utf8), credentials: options.password.map { (station.identity, $0) },
                           tls: tlsContext)
      station.diagnosticsStatus = "Uploaded"
    } catch {
      emit(station, .note("diagnostics upload failed: \(error)"))
      station.diagnosticsStatus = "UploadFailed"
    }
    call(station, "DiagnosticsStatusNotification", ["status": .string(station.diagnosticsStatus)])
  }
}
