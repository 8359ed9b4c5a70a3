import EvctlCore
import EvctlTestSupport

@testable import EvctlServer

/// Builds a masked client frame, as a station would send it.
func clientFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, mask: [UInt8] = [1, 2, 3, 4])
  -> [UInt8]
{
  var out: [UInt8] = [(fin ? 0x80 : 0) | opcode]
  if payload.count < 126 {
    out.append(0x80 | UInt8(payload.count))
  } else if payload.count <= 0xFFFF {
    out += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
  } else {
    out.append(0x80 | 127)
    for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((payload.count >> shift) & 0xFF)) }
  }
  out += mask
  for (index, byte) in payload.enumerated() { out.append(byte ^ mask[index & 3]) }
  return out
}

func text(_ string: String) -> [UInt8] { clientFrame(1, Array(string.utf8)) }

let upgradeRequest = """
  GET /ocpp/CP-1 HTTP/1.1\r
  Host: localhost\r
  Upgrade: websocket\r
  Connection: Upgrade\r
  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
  Sec-WebSocket-Version: 13\r
  Sec-WebSocket-Protocol: ocpp1.6\r
  \r

  """

/// A central system with one station, CP-1, and one token, over a fresh store on the test
/// backend (``TestBackend``: in memory on SQLite, a database of its own on PostgreSQL).
func makeCentral() throws -> CentralSystem {
  let store = try TestBackend.makeStore()
  try store.createStation(identity: "CP-1", name: "One", connectors: 2)
  try store.createUser(email: "eva@x.io", firstName: "Eva", lastName: "Berg")
  try store.addToken(idTag: "GOOD", userEmail: "eva@x.io")
  return CentralSystem(store: store, configuration: ServerConfiguration())
}

/// A store for a running ``Server``, as `serve` opens it: a SQLite file in `directory` (WAL, the
/// checkpointer), or a fresh database of its own on PostgreSQL (``TestBackend``).
func makeServeStore(directory: String) throws -> Store {
  TestBackend.isPostgreSQL ? try TestBackend.makeStore() : try Store(.path(directory + "/e.db"))
}

extension ConnectionSession {
  /// Hands `bytes` to the session inside one transaction, as serve's loop does with each batch:
  /// the session runs every CALL under a savepoint, which PostgreSQL allows only in a transaction
  /// (SQLite opens one by itself). A thrown error rolls the batch back, as in the loop.
  func receiveBatch(_ bytes: [UInt8], now: Timestamp) throws -> [SessionEvent] {
    try central.store.atomically { try receive(bytes, now: now) }
  }
}

/// Decodes the server frames in `bytes` (unmasked).
func serverFrames(_ bytes: [UInt8]) -> [WebSocketFrame] {
  var buffer = bytes
  var frames: [WebSocketFrame] = []
  while buffer.count >= 2 {
    let opcode = WebSocketOpcode(rawValue: buffer[0] & 0x0F)!
    var length = Int(buffer[1] & 0x7F)
    var offset = 2
    if length == 126 {
      length = Int(buffer[2]) << 8 | Int(buffer[3])
      offset = 4
    }
    frames.append(WebSocketFrame(fin: buffer[0] & 0x80 != 0, opcode: opcode,
                                 payload: Array(buffer[offset..<offset + length])))
    buffer.removeFirst(offset + length)
  }
  return frames
}
