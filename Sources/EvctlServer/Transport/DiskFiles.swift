import Glibc

/// Files under one folder: `DIR/NAME` is published, uploads go to `DIR/uploads/STATION/NAME`.
///
/// Published are the regular, non-hidden files directly in `DIR` whose real path stays inside
/// `DIR` (a symlink out of it is not followed), except anything ``forbidden`` names and anything
/// that looks like a database, a WAL or a private key.
public final class DiskFiles: FileService {
  public let directory: String
  /// The real path of ``directory``, symlinks resolved.
  public let realDirectory: String
  /// Real paths never served whatever their name: the store, its WAL, the login session.
  private let forbidden: Set<String>

  /// Uses (and creates) `directory`.
  ///
  /// - Parameter protected: paths (the store, its WAL and journal, key files) that must not be
  ///   inside `directory`.
  /// - Throws: ``FileWriteError`` when the folder cannot be created, ``UnsafeFilesDirectory``
  ///   when it holds a protected path, a database, its WAL or a private key.
  public init(directory: String, protected: [String] = []) throws {
    self.directory = directory
    for path in [directory, directory + "/uploads"] where mkdir(path, 0o755) != 0 && errno != EEXIST {
      throw FileWriteError(operation: "create \(path)", errno: errno)
    }
    guard let real = DiskFiles.realPath(directory) else {
      throw FileWriteError(operation: "resolve \(directory)", errno: errno)
    }
    realDirectory = real
    var forbidden: Set<String> = []
    for path in protected {
      let resolved = DiskFiles.realPath(path) ?? path
      forbidden.insert(resolved)
      if resolved.hasPrefix(real + "/") { throw UnsafeFilesDirectory(path: resolved, why: "it holds \(resolved)") }
    }
    self.forbidden = forbidden
    for name in DiskFiles.entries(real) {
      let path = real + "/" + name
      if let what = DiskFiles.sensitiveContent(path) {
        throw UnsafeFilesDirectory(path: path, why: "\(path) is \(what)")
      }
    }
  }

  /// The names that `GET /files/NAME` serves, sorted.
  public func publishedNames() -> [String] {
    DiskFiles.entries(realDirectory).filter { resolve($0) != nil }.sorted()
  }

  /// The real path of a published name, or `nil` when the name is not in the published set.
  private func resolve(_ name: String) -> String? {
    guard isSafeFileName(name), let real = DiskFiles.realPath(directory + "/" + name),
      real.hasPrefix(realDirectory + "/"), !real.dropFirst(realDirectory.count + 1).contains("/"),
      !forbidden.contains(real)
    else { return nil }
    var info = stat()
    guard stat(real, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
      DiskFiles.sensitiveContent(real) == nil  // a database or key copied in after the start
    else { return nil }
    return real
  }

  public func published(_ name: String) -> FileBody? {
    guard let path = resolve(name) else { return nil }
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
    guard fd >= 0 else { return nil }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
      Glibc.close(fd)
      return nil
    }
    return DiskFileBody(fd: fd, count: Int(info.st_size))
  }

  public func beginUpload(station: String, name: String) throws -> UploadSink {
    let folder = directory + "/uploads/" + station
    if mkdir(folder, 0o755) != 0 && errno != EEXIST {
      throw FileWriteError(operation: "create \(folder)", errno: errno)
    }
    var path = folder + "/" + name
    var counter = 1
    var fd: Int32 = -1
    while true {
      fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
      if fd >= 0 { break }
      guard errno == EEXIST else { throw FileWriteError(operation: "create \(path)", errno: errno) }
      counter += 1
      path = folder + "/\(counter)-" + name
    }
    return DiskUploadSink(fd: fd, path: path)
  }

  public func freeUploadBytes() -> Int? {
    var info = statvfs()
    guard statvfs(directory + "/uploads", &info) == 0 else { return nil }
    let free = UInt64(info.f_bavail) &* UInt64(info.f_frsize)
    return free > UInt64(Int.max) ? Int.max : Int(free)
  }

  static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  static func entries(_ directory: String) -> [String] {
    guard let handle = opendir(directory) else { return [] }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// What makes a file unfit to sit among published files: a SQLite database or WAL, a key.
  static func sensitiveContent(_ path: String) -> String? {
    let lower = path.lowercased()
    for suffix in [".key", ".p12", ".pfx", "-wal", "-shm", "-journal"] where lower.hasSuffix(suffix) {
      return "a key or database file (\(suffix))"
    }
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else { return nil }
    defer { Glibc.close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
    var head = [UInt8](repeating: 0, count: 4096)
    let count = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count > 0 else { return nil }
    let bytes = Array(head.prefix(count))
    if bytes.starts(with: Array("SQLite format 3\0".utf8)) { return "a SQLite database" }
    if bytes.count >= 4, bytes[0] == 0x37, bytes[1] == 0x7F, bytes[2] == 0x06, bytes[3] & 0xFE == 0x82 {
      return "a SQLite write-ahead log"
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if text.contains("PRIVATE KEY-----") { return "a private key" }
    return nil
  }
}

/// A published file read from disk with `pread`, chunk by chunk.
final class DiskFileBody: FileBody {
  private var fd: Int32
  private var offset = 0
  let count: Int

  init(fd: Int32, count: Int) {
    self.fd = fd
    self.count = count
  }

  deinit { close() }

  func read(upTo limit: Int) throws -> [UInt8] {
    let wanted = min(limit, count - offset)
    guard wanted > 0, fd >= 0 else { return [] }
    var chunk = [UInt8](repeating: 0, count: wanted)
    while true {
      let got = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, off_t(offset)) }
      if got < 0 && errno == EINTR { continue }
      guard got > 0 else {
        throw FileWriteError(operation: "read a published file", errno: got < 0 ? errno : EIO)
      }
      offset += got
      return got == wanted ? chunk : Array(chunk.prefix(got))
    }
  }

  func close() {
    if fd >= 0 { Glibc.close(fd) }
    fd = -1
  }
}

/// `--files-dir` would expose what must stay private.
public struct UnsafeFilesDirectory: Error, CustomStringConvertible {
  public let path: String
  public let why: String
  public var description: String { "refusing to publish the folder: \(why)" }
}

/// An upload being written to disk; removed again unless finished.
final class DiskUploadSink: UploadSink {
  private var fd: Int32
  let path: String

  init(fd: Int32, path: String) {
    self.fd = fd
    self.path = path
  }

  deinit { abort() }

  func write(_ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else {
        let error = FileWriteError(operation: "write \(path)", errno: written < 0 ? errno : ENOSPC)
        abort()
        throw error
      }
      offset += written
    }
  }

  func finish() throws -> String {
    guard fd >= 0 else { throw FileWriteError(operation: "write \(path)", errno: EBADF) }
    let result = Glibc.close(fd)
    fd = -1
    guard result == 0 else {
      let error = FileWriteError(operation: "close \(path)", errno: errno)
      unlink(path)
      throw error
    }
    return path
  }

  func abort() {
    guard fd >= 0 else { return }
    Glibc.close(fd)
    fd = -1
    unlink(path)
  }
}
