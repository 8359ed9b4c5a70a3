import EvctlServer

/// The client side of RFC 6455 framing, on the server's codec: masked frames out, unmasked server
/// frames in.
public enum ClientFrames {
  /// The bytes of one final, masked client frame (RFC 6455 §5.3).
  public static func encode(
    _ opcode: WebSocketOpcode, _ payload: [UInt8], mask: UInt32
  ) -> [UInt8] {
    WebSocketFrameEncoder.encode(opcode, payload, mask: mask)
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
    do {
      return try WebSocketFrameDecoder(maxPayload: maxPayload, fromClient: false).decode(&buffer)
    } catch {
      throw ClientFrameError(code: error.code, reason: error.reason)
    }
  }
}

/// Why a server frame was refused; `code` is the close code to answer with.
public struct ClientFrameError: Error, Equatable, Sendable {
  public var code: CloseCode
  public var reason: String
}
