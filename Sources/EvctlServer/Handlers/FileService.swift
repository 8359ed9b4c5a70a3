/// Where `serve --files-dir` keeps firmware images to hand out and diagnostics it receives.
///
/// The session decides what to do with a request; an implementation of this protocol does the
/// file I/O (``DiskFiles`` on disk, an in-memory one in tests).
public protocol FileService: AnyObject {
  /// The bytes of a firmware image or other published file; `nil` when there is none.
  func published(_ name: String) -> [UInt8]?
  /// Stores an upload from a station, returning where it went.
  func storeUpload(station: String, name: String, bytes: [UInt8]) throws -> String
}

/// A single path segment that cannot climb out of its folder.
func isSafeFileName(_ name: String) -> Bool {
  !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\\")
    && !name.hasPrefix(".") && name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
}
