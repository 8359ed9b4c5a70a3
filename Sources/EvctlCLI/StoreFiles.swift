import Foundation
import Glibc

/// Creates the store's folder and file with private modes, and checks them later.
enum StoreFiles {
  /// Creates the store file at `path`, mode 0600 (a stricter umask wins). Its folder must exist,
  /// except the default XDG folder, which is created mode 0700.
  static func create(_ path: String, isDefault: Bool) throws {
    let folder = (path as NSString).deletingLastPathComponent
    if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
      guard isDefault else {
        throw CLIError.notFound(
          "no folder '\(folder)' for the store at \(path)",
          hint: "create the folder first, or check --db and EVCTL_DB for a typo")
      }
      try makeFolders(folder)
    }
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    if fd < 0, errno != EEXIST {
      throw CLIError.io("cannot create '\(path)': \(String(cString: strerror(errno)))")
    }
    if fd >= 0 { close(fd) }
  }

  /// `mkdir -p` with mode 0700 for each folder it makes.
  static func makeFolders(_ folder: String) throws {
    var current = folder.hasPrefix("/") ? "" : "."
    for part in folder.split(separator: "/") {
      current += "/" + part
      if mkdir(current, 0o700) != 0, errno != EEXIST {
        throw CLIError.io("cannot create folder '\(current)': \(String(cString: strerror(errno)))")
      }
    }
  }

  /// Warnings for the store's folder and files when others than the owner may use them.
  static func looseModes(_ path: String) -> [String] {
    let folder = (path as NSString).deletingLastPathComponent
    var warnings: [String] = []
    for (file, wanted) in [(folder.isEmpty ? "." : folder, 0o700), (path, 0o600), (path + "-wal", 0o600),
                           (path + "-shm", 0o600), (path + ".ca", 0o700), (path + ".ca/key.pem", 0o600)] {
      var info = stat()
      guard stat(file, &info) == 0 else { continue }
      let mode = Int(info.st_mode) & 0o777
      if mode & 0o077 != 0 {
        warnings.append(
          "'\(file)' has mode \(String(mode, radix: 8, uppercase: false).leftPadded(4)); others may read it: chmod \(String(wanted, radix: 8)) '\(file)'")
      }
    }
    return warnings
  }
}

extension String {
  fileprivate func leftPadded(_ width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}
