/// A WebSocket opcode (RFC 6455 §5.2).
public enum WebSocketOpcode: UInt8, Sendable {
  case continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10

  var isControl: Bool { rawValue >= 8 }
}

/// One decoded frame, payload already unmasked.
public struct WebSocketFrame: Equatable, Sendable {
  public var fin: Bool
  public var opcode: WebSocketOpcode
  public var payload: [UInt8]

  /// Creates a frame.
  public init(fin: Bool = true, opcode: WebSocketOpcode, payload: [UInt8]) {
    self.fin = fin
    self.opcode = opcode
    self.payload = payload
  }
}

/// A WebSocket close status code (RFC 6455 §7.4.1).
public struct CloseCode: RawRepresentable, Equatable, Sendable {
  public var rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  public static let normal = CloseCode(rawValue: 1000)
  public static let goingAway = CloseCode(rawValue: 1001)
  public static let protocolError = CloseCode(rawValue: 1002)
  public static let unsupportedData = CloseCode(rawValue: 1003)
  public static let invalidPayload = CloseCode(rawValue: 1007)
  public static let policyViolation = CloseCode(rawValue: 1008)
  public static let messageTooBig = CloseCode(rawValue: 1009)
  public static let internalError = CloseCode(rawValue: 1011)

  /// Whether a peer may send this code in a close frame (RFC 6455 §7.4.1, §7.4.2 and the IANA
  /// registry): 1000–1003, 1007–1014 and 3000–4999. 1004, 1005, 1006 and 1015 are reserved and
  /// never sent; anything below 1000 or from 5000 is invalid.
  public var isValidOnTheWire: Bool {
    switch rawValue {
    case 1000...1003, 1007...1014, 3000...4999: return true
    default: return false
    }
  }
}

/// Why a frame stream was refused; each maps to the close code to send.
public struct WebSocketError: Error, Equatable, Sendable {
  public var code: CloseCode
  public var reason: String
}

/// Decodes client frames from a growing byte buffer (RFC 6455 §5).
///
/// Frames from a client must be masked and frames from a server must not be (RFC 6455 §5.1);
/// reserved bits must be clear; control frames must be final and at most 125 bytes; a frame longer
/// than ``maxPayload`` is refused with 1009.
public struct WebSocketFrameDecoder: Sendable {
  public var maxPayload: Int
  /// Whether the frames come from a client (masked: `serve`) or a server (unmasked: `simulate`).
  public var fromClient: Bool

  /// Creates a decoder for frames a client sends (`fromClient`, the default) or a server sends.
  public init(maxPayload: Int = 1 << 20, fromClient: Bool = true) {
    self.maxPayload = maxPayload
    self.fromClient = fromClient
  }

  /// Returns a frame and removes its bytes, or `nil` when more bytes are needed.
  public func decode(_ buffer: inout [UInt8]) throws(WebSocketError) -> WebSocketFrame? {
    guard buffer.count >= 2 else { return nil }
    let first = buffer[0]
    let second = buffer[1]
    guard first & 0x70 == 0 else {
      throw WebSocketError(code: .protocolError, reason: "reserved bits set")
    }
    guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
      throw WebSocketError(code: .protocolError, reason: "unknown opcode \(first & 0x0F)")
    }
    let fin = first & 0x80 != 0
    guard (second & 0x80 != 0) == fromClient else {
      throw WebSocketError(
        code: .protocolError,
        reason: fromClient ? "client frames must be masked" : "server frames must not be masked")
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
      guard value <= UInt64(Int32.max) else {
        throw WebSocketError(code: .messageTooBig, reason: "frame too large")
      }
      length = Int(value)
      offset = 10
    }
    if opcode.isControl {
      guard fin, length <= 125 else {
        throw WebSocketError(code: .protocolError, reason: "invalid control frame")
      }
    }
    guard length <= maxPayload else {
      throw WebSocketError(code: .messageTooBig, reason: "message larger than \(maxPayload) bytes")
    }
    guard fromClient else {
      guard buffer.count >= offset + length else { return nil }
      let payload = Array(buffer[offset..<(offset + length)])
      buffer.removeFirst(offset + length)
      return WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
    }
    guard buffer.count >= offset + 4 + length else { return nil }
    let mask = [buffer[offset], buffer[offset + 1], buffer[offset + 2], buffer[offset + 3]]
    let start = offset + 4
    var payload = [UInt8](repeating: 0, count: length)
    buffer.withUnsafeBufferPointer { source in
      for index in 0..<length { payload[index] = source[start + index] ^ mask[index & 3] }
    }
    buffer.removeFirst(start + length)
    return WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
  }
}

/// Encodes frames: unmasked from a server, masked with `mask` from a client (RFC 6455 §5.1, §5.3).
public enum WebSocketFrameEncoder {
  /// The bytes of one final frame; `mask` (a client's) masks the payload.
  public static func encode(_ opcode: WebSocketOpcode, _ payload: [UInt8], mask: UInt32? = nil) -> [UInt8] {
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    var out: [UInt8] = [0x80 | opcode.rawValue]
    out.reserveCapacity(payload.count + 14)
    if payload.count < 126 {
      out.append(maskBit | UInt8(payload.count))
    } else if payload.count <= 0xFFFF {
      out += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
    } else {
      out.append(maskBit | 127)
      for shift in stride(from: 56, through: 0, by: -8) {
        out.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF))
      }
    }
    guard let mask else { return out + payload }
    let key = [UInt8(mask >> 24), UInt8(mask >> 16 & 0xFF), UInt8(mask >> 8 & 0xFF), UInt8(mask & 0xFF)]
    out += key
    let start = out.count
    out += payload
    out.withUnsafeMutableBufferPointer { buffer in
      for index in 0..<payload.count { buffer[start + index] ^= key[index & 3] }
    }
    return out
  }

  /// A close frame with a status code and a short reason.
  public static func close(_ code: CloseCode, reason: String = "") -> [UInt8] {
    let text = Array(reason.utf8.prefix(123))
    return encode(.close, [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)] + text)
  }
}

/// What the message assembler produced from one frame.
public enum WebSocketEvent: Equatable, Sendable {
  case text(String)
  case ping([UInt8])
  case pong([UInt8])
  case close(CloseCode?)
}

/// Reassembles fragmented messages and checks UTF-8 (RFC 6455 §5.4, §8.1).
///
/// Control frames may arrive between fragments; the total message size is capped.
public struct WebSocketMessageAssembler: Sendable {
  public var maxMessage: Int
  private var fragments: [UInt8] = []
  private var inMessage = false
  private var isText = true

  /// Creates an assembler.
  public init(maxMessage: Int = 1 << 20) { self.maxMessage = maxMessage }

  /// Feeds one frame; returns an event when a message or control frame is complete.
  public mutating func receive(_ frame: WebSocketFrame) throws(WebSocketError) -> WebSocketEvent? {
    switch frame.opcode {
    case .ping: return .ping(frame.payload)
    case .pong: return .pong(frame.payload)
    case .close:
      guard frame.payload.count != 1 else {
        throw WebSocketError(code: .protocolError, reason: "close frame with a one-byte payload")
      }
      if frame.payload.count >= 2 {
        let code = CloseCode(rawValue: UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]))
        guard code.isValidOnTheWire else {
          throw WebSocketError(code: .protocolError, reason: "invalid close code \(code.rawValue)")
        }
        guard String(validating: Array(frame.payload.dropFirst(2)), as: UTF8.self) != nil else {
          throw WebSocketError(code: .invalidPayload, reason: "close reason is not UTF-8")
        }
        return .close(code)
      }
      return .close(nil)
    case .text, .binary:
      guard !inMessage else {
        throw WebSocketError(code: .protocolError, reason: "new message inside a fragmented one")
      }
      isText = frame.opcode == .text
      fragments = frame.payload
      inMessage = !frame.fin
    case .continuation:
      guard inMessage else {
        throw WebSocketError(code: .protocolError, reason: "continuation without a message")
      }
      fragments += frame.payload
      inMessage = !frame.fin
    }
    guard fragments.count <= maxMessage else {
      throw WebSocketError(code: .messageTooBig, reason: "message larger than \(maxMessage) bytes")
    }
    if inMessage { return nil }
    let message = fragments
    fragments = []
    guard isText else {
      throw WebSocketError(code: .unsupportedData, reason: "OCPP-J messages are text")
    }
    guard let text = String(validating: message, as: UTF8.self) else {
      throw WebSocketError(code: .invalidPayload, reason: "invalid UTF-8")
    }
    return .text(text)
  }
}
