/// Takes the first file out of a `multipart/form-data` body (RFC 7578), as stations that upload
/// diagnostics over HTTP POST send it.
public enum MultipartDecoder {
  /// The boundary from a `Content-Type` header, if it is multipart.
  public static func boundary(contentType: String?) -> String? {
    guard let contentType, contentType.lowercased().hasPrefix("multipart/") else { return nil }
    for part in contentType.split(separator: ";") {
      let pair = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: " \"") }
      if pair.count == 2, pair[0].lowercased() == "boundary" { return pair[1] }
    }
    return nil
  }

  /// The file name and bytes of the first part that has a body; `nil` when the body is malformed.
  public static func firstFile(_ body: [UInt8], boundary: String) -> (name: String?, bytes: [UInt8])? {
    let delimiter = Array(("--" + boundary).utf8)
    guard let first = find(delimiter, in: body, from: 0) else { return nil }
    var cursor = first + delimiter.count
    while cursor < body.count {
      guard let headEnd = find([13, 10, 13, 10], in: body, from: cursor) else { return nil }
      let head = String(decoding: body[cursor..<headEnd], as: UTF8.self)
      let start = headEnd + 4
      guard let next = find([13, 10] + delimiter, in: body, from: start) else { return nil }
      var name: String?
      if let range = head.range(of: "filename=\"") {
        let rest = head[range.upperBound...]
        name = rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
      }
      if name != nil || next > start { return (name, Array(body[start..<next])) }
      cursor = next + 2 + delimiter.count
    }
    return nil
  }

  static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
    guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
    var index = start
    let last = haystack.count - needle.count
    while index <= last {
      if haystack[index] == needle[0], haystack[index..<index + needle.count].elementsEqual(needle) {
        return index
      }
      index += 1
    }
    return nil
  }
}
