import EvctlCore

/// Where an upload's bytes go as they arrive (a file on disk in serve).
public protocol UploadSink: AnyObject {
  /// Appends bytes.
  ///
  /// - Throws: ``FileWriteError`` when they cannot be written.
  func write(_ bytes: [UInt8]) throws
  /// Completes the file and returns where it went.
  func finish() throws -> String
  /// Removes what was written; idempotent.
  func abort()
}

/// Why an upload body was refused part-way.
enum UploadFailure: Error {
  case tooLarge(limit: Int)
  case malformed(String)
  case write(any Error)
}

/// Reads an upload body as it arrives, framed by Content-Length or chunked transfer coding,
/// takes the file out of a `multipart/form-data` body on the fly, and streams it to a sink: the
/// body is never held in memory whole.
final class UploadReceiver {
  enum Framing: Equatable {
    case length(Int)
    case chunked
  }

  private enum ChunkState {
    case size
    case data(remaining: Int)
    case dataEnd
    case trailer
  }

  let framing: Framing
  let limit: Int
  private var chunkState = ChunkState.size
  private var consumed = 0
  /// File bytes written so far (after unwrapping).
  private(set) var written = 0
  private var multipart: MultipartStream?
  private let open: (String?) throws -> UploadSink
  private(set) var sink: UploadSink?
  private(set) var fileName: String?

  /// - Parameter open: creates the sink for the file name the body names (multipart), if any.
  init(framing: Framing, limit: Int, boundary: String?, open: @escaping (String?) throws -> UploadSink) {
    self.framing = framing
    self.limit = limit
    self.open = open
    multipart = boundary.map(MultipartStream.init)
  }

  /// Consumes what `buffer` holds of the body; `true` once the body is complete.
  func consume(_ buffer: inout [UInt8]) throws(UploadFailure) -> Bool {
    switch framing {
    case .length(let total):
      let take = min(total - consumed, buffer.count)
      let piece = Array(buffer.prefix(take))
      buffer.removeFirst(take)
      consumed += take
      try deliver(piece)
      return consumed == total
    case .chunked:
      return try consumeChunked(&buffer)
    }
  }

  private func consumeChunked(_ buffer: inout [UInt8]) throws(UploadFailure) -> Bool {
    while true {
      switch chunkState {
      case .size:
        guard let line = Self.takeLine(&buffer) else {
          if buffer.count > 1024 { throw .malformed("chunk size line too long") }
          return false
        }
        let hex = line.split(separator: ";", maxSplits: 1).first.map(String.init)?.trimmingCharacters(in: " \t") ?? ""
        guard !hex.isEmpty, hex.count <= 15, hex.allSatisfy(\.isHexDigit), let size = Int(hex, radix: 16) else {
          throw .malformed("invalid chunk size '\(PrintableText.escaped(hex))'")
        }
        chunkState = size == 0 ? .trailer : .data(remaining: size)
      case .data(let remaining):
        guard !buffer.isEmpty else { return false }
        let take = min(remaining, buffer.count)
        let piece = Array(buffer.prefix(take))
        buffer.removeFirst(take)
        try deliver(piece)
        chunkState = take == remaining ? .dataEnd : .data(remaining: remaining - take)
      case .dataEnd:
        guard buffer.count >= 2 else { return false }
        guard buffer[0] == 13, buffer[1] == 10 else { throw .malformed("chunk not followed by CRLF") }
        buffer.removeFirst(2)
        chunkState = .size
      case .trailer:
        guard let line = Self.takeLine(&buffer) else {
          if buffer.count > 8192 { throw .malformed("trailer too long") }
          return false
        }
        if line.isEmpty { return true }
      }
    }
  }

  private static func takeLine(_ buffer: inout [UInt8]) -> String? {
    guard let end = MultipartDecoder.find([13, 10], in: buffer, from: 0) else { return nil }
    let line = String(decoding: buffer[..<end], as: UTF8.self)
    buffer.removeFirst(end + 2)
    return line
  }

  private func deliver(_ raw: [UInt8]) throws(UploadFailure) {
    guard !raw.isEmpty else { return }
    var pieces: [(name: String?, bytes: [UInt8])] = [(nil, raw)]
    if multipart != nil {
      do {
        pieces = try multipart!.feed(raw)
      } catch {
        throw .malformed("malformed multipart body")
      }
    }
    for piece in pieces where !piece.bytes.isEmpty {
      written += piece.bytes.count
      if written > limit { throw .tooLarge(limit: limit) }
      do {
        if sink == nil {
          fileName = piece.name
          sink = try open(piece.name)
        }
        try sink!.write(piece.bytes)
      } catch {
        throw .write(error)
      }
    }
  }

  /// Finishes the file once the body is complete; `nil` path when the body held no file bytes.
  func finish() throws(UploadFailure) -> String {
    if let multipart, !multipart.sawFile { throw .malformed("malformed multipart body") }
    do {
      if sink == nil { sink = try open(fileName) }
      return try sink!.finish()
    } catch {
      throw .write(error)
    }
  }

  /// Drops a partial file.
  func abort() { sink?.abort() }

  /// How many body bytes are still to come when it was refused part-way (chunked: the rest of
  /// the cap); `nil` when unknown.
  var unread: Int? {
    switch framing {
    case .length(let total): return total - consumed
    case .chunked: return max(0, limit - written)
    }
  }
}

/// The first file of a `multipart/form-data` body, taken out as the body streams in.
struct MultipartStream {
  private enum State { case preamble, headers, data, done }

  private let delimiter: [UInt8]
  private var state = State.preamble
  private var held: [UInt8] = []
  private var name: String?
  /// Whether a part's headers were read (the body was multipart at all).
  private(set) var sawFile = false
  private var emitted = 0

  init(boundary: String) { delimiter = Array(("--" + boundary).utf8) }

  /// The file bytes in `bytes` (with the part's file name); bytes that could begin the closing
  /// delimiter are held back until the next call.
  mutating func feed(_ bytes: [UInt8]) throws -> [(name: String?, bytes: [UInt8])] {
    held += bytes
    var out: [(String?, [UInt8])] = []
    while true {
      switch state {
      case .preamble:
        guard let at = MultipartDecoder.find(delimiter, in: held, from: 0) else {
          if held.count > delimiter.count { held.removeFirst(held.count - delimiter.count) }
          return out
        }
        held.removeFirst(at + delimiter.count)
        state = .headers
      case .headers:
        guard let end = MultipartDecoder.find([13, 10, 13, 10], in: held, from: 0) else {
          if held.count > 16_384 { throw UploadFailure.malformed("part headers too long") }
          return out
        }
        let head = String(decoding: held[..<end], as: UTF8.self)
        if head.hasPrefix("--") {  // the closing delimiter
          state = .done
          continue
        }
        held.removeFirst(end + 4)
        name = nil
        if let range = head.range(of: "filename=\"") {
          let rest = head[range.upperBound...]
          name = rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
        }
        sawFile = true
        emitted = 0
        state = .data
      case .data:
        let closing = [13, 10] + delimiter
        if let at = MultipartDecoder.find(closing, in: held, from: 0) {
          let piece = Array(held[..<at])
          out.append((name, piece))
          emitted += piece.count
          held.removeFirst(at + 2)
          // An empty part without a file name (a form field) is skipped; the first real one is the file.
          state = (emitted == 0 && name == nil) ? .preamble : .done
          continue
        }
        let safe = held.count - (closing.count - 1)
        if safe > 0 {
          out.append((name, Array(held[..<safe])))
          emitted += safe
          held.removeFirst(safe)
        }
        return out
      case .done:
        held.removeAll()
        return out
      }
    }
  }
}
