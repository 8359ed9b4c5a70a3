import Foundation

/// Files under one folder: `DIR/NAME` is published, uploads go to `DIR/uploads/STATION/NAME`.
public final class DiskFiles: FileService {
  public let directory: String

  /// Uses (and creates) `directory`.
  public init(directory: String) throws {
    self.directory = directory
    try FileManager.default.createDirectory(
      atPath: directory + "/uploads", withIntermediateDirectories: true)
  }

  public func published(_ name: String) -> [UInt8]? {
    guard isSafeFileName(name) else { return nil }
    return FileManager.default.contents(atPath: directory + "/" + name).map { Array($0) }
  }

  public func storeUpload(station: String, name: String, bytes: [UInt8]) throws -> String {
    let folder = directory + "/uploads/" + station
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var path = folder + "/" + name
    var counter = 1
    while FileManager.default.fileExists(atPath: path) {
      counter += 1
      path = folder + "/\(counter)-" + name
    }
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
      throw CocoaError(.fileWriteUnknown)
    }
    return path
  }
}
