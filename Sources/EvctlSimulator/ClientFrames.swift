import EvctlServer

/// The client side of RFC 6455 framing: masked frames out, unmasked server frames in.
public enum ClientFrames {
  /// The bytes of one final, masked client frame (RFC 6455 §5.3).
  public static func encode(
    _ opcode: WebSocketOpcode, _ payload: [UInt8], mask: UInt32
  ) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(payload.count + 14)
    out.append(0x80 | opcode.rawValue)
    if payload.count < 126 {
      out.append(0x80 | UInt8(payload.count))
    } else if payload.count <= 0xFFFF {
      out += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
    } else {
      out.append(0x80 | 127)
      for shift in stride(from: 56, through: 0, by: -8) {
        out.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF))
      }
    }
    let key = [UInt8(mask >> 24), UInt8(mask >> 16 & 0xFF), UInt8(mask >> 8 & 0xFF), UInt8(mask & 0xFF)]
    out += key
    let start = out.count
    out += payload
    out.withUnsafeMutableBufferPointer { buffer in
      for index in 0..<payload.count { buffer[start + index] ^= key[index & 3] }
    }
    return out
  }

  /// A masked close frame with a status code.
  public static func close(_ code: CloseCode, mask: UInt32) -> [UInt8] {
    encode(.close, [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)], mask: mask)
  }

  /// Decodes one server frame and removes its bytes; `nil` when more bytes are needed.
  ///
  /// Server frames must not be masked (RFC 6455 §5.1); a masked one is a protocol error.
  public static func decode(
    _ buffer: inout [UInt8], maxPayload: Int = 1 << 22
  ) throws(ClientFrameError) -> WebSocketFrame? {
    guard buffer.count >= 2 else { return nil }
    let first = buffer[0]
    let second = buffer[1]
    guard first & 0x70 == 0 else {
      throw ClientFrameError(code: .protocolError, reason: "reserved bits set")
    }
    guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
      throw ClientFrameError(code: .protocolError, reason: "unknown opcode \(first & 0x0F)")
    }
    guard second & 0x80 == 0 else {
      throw ClientFrameError(code: .protocolError, reason: "server frames must not be masked")
    }
    var length = Int(second & 0x7F)
    var offset = 2
    if length == 126 {
      guard buffer.count >= 4 else { return nil }
      length = Int(buffer[2]) << 8 | Int(buffer[3])
      offset = 4
    } else if length == 127 {
      guard buffer.count >= 10 else { return nil }
      var value: UInt64 = 0
      for index in 2..<10 { value = value << 8 | UInt64(buffer[index]) }
      guard value <= UInt64(maxPayload) else {
        throw ClientFrameError(code: .messageTooBig, reason: "frame too large")
      }
      length = Int(value)
      offset = 10
    }
    guard length <= maxPayload else {
      throw ClientFrameError(code: .messageTooBig, reason: "frame too large")
    }
    guard buffer.count >= offset + length else { return nil }
    let payload = Array(buffer[offset..<(offset + length)])
    buffer.removeFirst(offset + length)
    return WebSocketFrame(fin: first & 0x80 != 0, opcode: opcode, payload: payload)
  }
}

/// Why a server frame was refused; `code` is the close code to answer with.
public struct ClientFrameError: Error, Equatable, Sendable {
  public var code: CloseCode
  public var reason: String
}
