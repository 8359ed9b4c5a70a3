import CCurl
import EvctlCore

/// Sends one message over SMTP with libcurl's easy API (blocking: run it off the event loop).
enum SMTPClient {
  /// Makes libcurl ready for threads; call once before the first ``send(_:settings:)``.
  static func initialise() {
    curl_global_init(Int(CURL_GLOBAL_DEFAULT))
  }

  /// Delivers `message` to its recipient.
  ///
  /// - Throws: ``SMTPFailure`` with libcurl's reason and the server's last reply code.
  static func send(_ message: MailMessage, settings: SMTPSettings) throws {
    guard let curl = curl_easy_init() else { throw SMTPFailure(message: "libcurl could not start") }
    defer { curl_easy_cleanup(curl) }
    var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    let recipients = curl_slist_append(nil, "<\(message.to)>")
    defer { curl_slist_free_all(recipients) }
    let source = MessageSource(bytes: message.rendered())
    let box = Unmanaged.passRetained(source)
    defer { box.release() }
    let result: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buffer in
      var setup = [
        evctl_curl_set_string(curl, CURLOPT_URL, settings.url),
        evctl_curl_set_string(curl, CURLOPT_MAIL_FROM, "<\(settings.from)>"),
        evctl_curl_set_list(curl, CURLOPT_MAIL_RCPT, recipients),
        evctl_curl_set_long(curl, CURLOPT_UPLOAD, 1),
        evctl_curl_set_long(curl, CURLOPT_NOSIGNAL, 1),
        evctl_curl_set_long(curl, CURLOPT_CONNECTTIMEOUT, 10),
        evctl_curl_set_long(curl, CURLOPT_TIMEOUT, settings.timeoutSeconds),
        evctl_curl_set_long(curl, CURLOPT_SSL_VERIFYPEER, 1),
        evctl_curl_set_long(curl, CURLOPT_SSL_VERIFYHOST, 2),
        evctl_curl_set_string(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps"),
        evctl_curl_set_pointer(curl, CURLOPT_ERRORBUFFER, buffer.baseAddress),
        evctl_curl_set_read_function(curl, { data, size, count, user in
          guard let data, let user else { return 0 }
          return Unmanaged<MessageSource>.fromOpaque(user).takeUnretainedValue()
            .read(into: data, capacity: size * count)
        }),
        evctl_curl_set_pointer(curl, CURLOPT_READDATA, box.toOpaque()),
      ]
      // A password never goes out in the clear: smtp:// then demands STARTTLS.
      let tlsLevel = settings.password == nil ? CURLUSESSL_TRY : CURLUSESSL_ALL
      setup.append(evctl_curl_set_long(curl, CURLOPT_USE_SSL, Int(tlsLevel.rawValue)))
      if let username = settings.username { setup.append(evctl_curl_set_string(curl, CURLOPT_USERNAME, username)) }
      if let password = settings.password { setup.append(evctl_curl_set_string(curl, CURLOPT_PASSWORD, password)) }
      if let ca = settings.caFile { setup.append(evctl_curl_set_string(curl, CURLOPT_CAINFO, ca)) }
      if let failed = setup.first(where: { $0 != CURLE_OK }) { return failed }
      return curl_easy_perform(curl)
    }
    guard result == CURLE_OK else {
      var reply = 0
      _ = withUnsafeMutablePointer(to: &reply) { evctl_curl_get_long(curl, CURLINFO_RESPONSE_CODE, $0) }
      let detail = String(decoding: errorBuffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
      let reason = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
      throw SMTPFailure(message: reason + (reply > 0 ? " (server replied \(reply))" : ""))
    }
  }
}

/// Why a mail was not delivered.
struct SMTPFailure: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}

/// The message's bytes, handed to libcurl's read callback piece by piece.
final class MessageSource {
  private let bytes: [UInt8]
  private var offset = 0

  init(bytes: [UInt8]) { self.bytes = bytes }

  func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
    let count = min(capacity, bytes.count - offset)
    guard count > 0 else { return 0 }
    bytes.withUnsafeBufferPointer { source in
      UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
    }
    offset += count
    return count
  }
}
