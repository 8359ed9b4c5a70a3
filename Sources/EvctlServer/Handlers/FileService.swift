/// Where `serve --files-dir` keeps firmware images to hand out and diagnostics it receives.
///
/// The session decides what to do with a request; an implementation of this protocol does the
/// file I/O (``DiskFiles`` on disk, an in-memory one in tests).
public protocol FileService: AnyObject {
  /// A published firmware image or other file, to be read in chunks; `nil` when there is none.
  func published(_ name: String) -> FileBody?
  /// Starts an upload from a station: its bytes are written as they arrive.
  ///
  /// - Throws: ``FileWriteError`` when the file cannot be created.
  func beginUpload(station: String, name: String) throws -> UploadSink
  /// Free bytes where uploads go, for the disk-space check; `nil` when unknown.
  func freeUploadBytes() -> Int?
}

/// The body of a published file: the transport reads it in bounded chunks as the socket drains,
/// so a 200 MiB image never sits in memory and a slow download is never cut off.
public protocol FileBody: AnyObject {
  /// The size announced in Content-Length.
  var count: Int { get }
  /// The next bytes, at most `limit`; empty at the end.
  ///
  /// - Throws: ``FileWriteError`` when the file can no longer be read.
  func read(upTo limit: Int) throws -> [UInt8]
  /// Releases what the body holds (a file descriptor); idempotent.
  func close()
}

/// A file body held in memory.
public final class BytesBody: FileBody {
  private let bytes: [UInt8]
  private var offset = 0
  public var count: Int { bytes.count }

  /// A body of `bytes`.
  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  public func read(upTo limit: Int) throws -> [UInt8] {
    let end = min(bytes.count, offset + limit)
    defer { offset = end }
    return Array(bytes[offset..<end])
  }

  public func close() {}
}

/// A file operation that failed: answered with 507 when the disk is full, 500 otherwise.
public struct FileWriteError: Error, CustomStringConvertible {
  /// What was attempted, e.g. "create uploads/CP-1".
  public let operation: String
  /// The errno value.
  public let errno: Int32
  /// Whether the storage is full (ENOSPC, EDQUOT).
  public var isFull: Bool { errno == 28 || errno == 122 }
  public var description: String { "\(operation): \(SystemError.message(errno))" }

  /// An error for `operation` failing with `errno`.
  public init(operation: String, errno: Int32) {
    self.operation = operation
    self.errno = errno
  }
}

/// A single path segment that cannot climb out of its folder.
func isSafeFileName(_ name: String) -> Bool {
  !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\\")
    && !name.hasPrefix(".") && name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
}
