/// Salted, slow password hashes in the form `pbkdf2-sha256$ITERATIONS$SALT$KEY` (hex).
public enum PasswordHash {
  /// Iterations for operator passwords (people choose weak ones).
  public static let operatorIterations = 210_000
  /// Iterations for station keys, which are at least 16 random bytes and checked on every connect.
  public static let stationIterations = 1_000

  /// Returns a new hash of `password`.
  public static func make(_ password: [UInt8], iterations: Int) -> String {
    let salt = Crypto.randomBytes(16)
    let key = Crypto.pbkdf2(password: password, salt: salt, iterations: iterations)
    return "pbkdf2-sha256$\(iterations)$\(Crypto.hex(salt))$\(Crypto.hex(key))"
  }

  /// Whether `password` matches `hash`; compares in constant time.
  public static func verify(_ password: [UInt8], against hash: String) -> Bool {
    let parts = hash.split(separator: "$").map(String.init)
    guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]),
      let salt = Crypto.unhex(parts[2]), let key = Crypto.unhex(parts[3])
    else { return false }
    let derived = Crypto.pbkdf2(password: password, salt: salt, iterations: iterations)
    return Crypto.constantTimeEqual(derived, key)
  }

  /// Returns the SHA-256 hex digest of a high-entropy secret (API tokens, sessions).
  public static func secretDigest(_ secret: String) -> String {
    Crypto.hex(Crypto.sha256(Array(secret.utf8)))
  }
}
