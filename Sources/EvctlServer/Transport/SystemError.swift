import Glibc

/// A failed system call, with the `errno` it left behind.
public struct SystemError: Error, Equatable, CustomStringConvertible, Sendable {
  public let operation: String
  public let errno: Int32

  public var description: String {
    "\(operation) failed: \(SystemError.message(errno)) (errno \(errno))"
  }

  /// The C library's text for `errno`.
  public static func message(_ errno: Int32) -> String { String(cString: strerror(errno)) }
}

/// Calls `body` until it stops failing with `EINTR`; throws on any other `-1`.
@discardableResult
func syscall<T: FixedWidthInteger>(_ operation: String, _ body: () -> T) throws(SystemError) -> T {
  while true {
    let result = body()
    if result != -1 { return result }
    if errno == EINTR { continue }
    throw SystemError(operation: operation, errno: errno)
  }
}
