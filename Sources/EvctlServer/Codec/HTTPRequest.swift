/// The head of an HTTP/1.1 request.
public struct HTTPRequest: Equatable, Sendable {
  public var method: String
  public var target: String
  public var version: String
  /// Header values by lower-case name; repeated headers are joined with ", ".
  public var headers: [String: String]

  /// The value of a header, by case-insensitive name.
  public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Turns a growing byte buffer into an ``HTTPRequest`` head.
///
/// The decoder never touches a socket: feed it bytes, and it either returns a request (consuming
/// its bytes) or `nil` to say "need more data".
public struct HTTPRequestDecoder: Sendable {
  /// Why a request head was refused.
  public enum Failure: Error, Equatable {
    case headTooLarge(limit: Int)
    case malformedRequestLine
    case malformedHeader
  }

  /// The longest head accepted.
  public var maxHeadBytes: Int

  /// Creates a decoder.
  public init(maxHeadBytes: Int = 16_384) { self.maxHeadBytes = maxHeadBytes }

  /// Returns a request and removes its bytes from `buffer`, or `nil` when more bytes are needed.
  public func decode(_ buffer: inout [UInt8]) throws(Failure) -> HTTPRequest? {
    guard let end = HTTPRequestDecoder.headEnd(buffer) else {
      if buffer.count > maxHeadBytes { throw .headTooLarge(limit: maxHeadBytes) }
      return nil
    }
    guard end <= maxHeadBytes else { throw .headTooLarge(limit: maxHeadBytes) }
    let head = String(decoding: buffer[..<end], as: UTF8.self)
    buffer.removeFirst(end + 4)
    var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
    let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: true)
    guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else {
      throw .malformedRequestLine
    }
    var headers: [String: String] = [:]
    for line in lines where !line.isEmpty {
      guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
        throw .malformedHeader
      }
      let name = line[..<colon].lowercased()
      guard !name.contains(" ") else { throw .malformedHeader }
      let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t")
      if let existing = headers[name] {
        headers[name] = existing + ", " + value
      } else {
        headers[name] = value
      }
    }
    return HTTPRequest(
      method: String(requestLine[0]), target: String(requestLine[1]),
      version: String(requestLine[2]), headers: headers)
  }

  static func headEnd(_ buffer: [UInt8]) -> Int? {
    guard buffer.count >= 4 else { return nil }
    var index = 0
    while index + 3 < buffer.count {
      if buffer[index] == 13, buffer[index + 1] == 10, buffer[index + 2] == 13,
        buffer[index + 3] == 10
      {
        return index
      }
      index += 1
    }
    return nil
  }
}

extension String {
  func trimmingCharacters(in set: String) -> String {
    let characters = Set(set)
    var slice = Substring(self)
    while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
    while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
    return String(slice)
  }
}
