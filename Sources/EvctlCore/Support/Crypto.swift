internal import COpenSSL

/// Hashing and randomness from OpenSSL; evctl writes no cryptography of its own.
public enum Crypto {
  /// Returns `count` cryptographically secure random bytes.
  public static func randomBytes(_ count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    let ok = bytes.withUnsafeMutableBytes { RAND_bytes($0.baseAddress, Int32(count)) }
    precondition(ok == 1, "OpenSSL RAND_bytes failed")
    return bytes
  }

  /// Returns the SHA-256 digest of `bytes`.
  public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: 32)
    bytes.withUnsafeBufferPointer { input in
      _ = SHA256(input.baseAddress, input.count, &digest)
    }
    return digest
  }

  /// Returns the SHA-1 digest of `bytes` (for the WebSocket handshake only).
  public static func sha1(_ bytes: [UInt8]) -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: 20)
    bytes.withUnsafeBufferPointer { input in
      _ = SHA1(input.baseAddress, input.count, &digest)
    }
    return digest
  }

  /// Derives a key with PBKDF2-HMAC-SHA256.
  public static func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
    var key = [UInt8](repeating: 0, count: 32)
    let ok = password.withUnsafeBufferPointer { pw in
      salt.withUnsafeBufferPointer { s in
        pw.withMemoryRebound(to: CChar.self) { pwChars in
          PKCS5_PBKDF2_HMAC(
            pwChars.baseAddress, Int32(pw.count), s.baseAddress, Int32(s.count),
            Int32(iterations), EVP_sha256(), 32, &key)
        }
      }
    }
    precondition(ok == 1, "OpenSSL PKCS5_PBKDF2_HMAC failed")
    return key
  }

  /// Compares two byte strings in time that does not depend on where they differ.
  public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { pa in
      b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 }
    }
  }

  /// Lowercase hexadecimal text of `bytes`.
  public static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Decodes hexadecimal text; `nil` when it is not an even run of hex digits.
  public static func unhex(_ text: String) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count % 2 == 0 else { return nil }
    var out = [UInt8]()
    out.reserveCapacity(chars.count / 2)
    var index = 0
    while index < chars.count {
      guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
      out.append(high << 4 | low)
      index += 2
    }
    return out
  }

  private static func nibble(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: return c - 48
    case 65...70: return c - 55
    case 97...102: return c - 87
    default: return nil
    }
  }

  /// Standard Base64 of `bytes`, with padding.
  public static func base64(_ bytes: [UInt8]) -> String {
    let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out = [UInt8]()
    var index = 0
    while index + 2 < bytes.count {
      let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
      out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)],
              table[Int(n & 63)]]
      index += 3
    }
    let rest = bytes.count - index
    if rest == 1 {
      let n = UInt32(bytes[index]) << 16
      out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], 61, 61]
    } else if rest == 2 {
      let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
      out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], 61]
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Decodes standard Base64; `nil` when the text is not valid Base64.
  public static func unbase64(_ text: String) -> [UInt8]? {
    var values: [UInt8] = []
    for c in text.utf8 {
      switch c {
      case 65...90: values.append(c - 65)
      case 97...122: values.append(c - 71)
      case 48...57: values.append(c + 4)
      case 43: values.append(62)
      case 47: values.append(63)
      case 61: continue
      default: return nil
      }
    }
    guard values.count % 4 != 1 else { return nil }
    var out: [UInt8] = []
    var index = 0
    while index < values.count {
      let chunk = values[index..<min(index + 4, values.count)]
      var n: UInt32 = 0
      for (offset, v) in chunk.enumerated() { n |= UInt32(v) << (18 - 6 * offset) }
      out.append(UInt8(n >> 16 & 0xFF))
      if chunk.count > 2 { out.append(UInt8(n >> 8 & 0xFF)) }
      if chunk.count > 3 { out.append(UInt8(n & 0xFF)) }
      index += 4
    }
    return out
  }
}
