/// HTTP status codes and their reason phrases (RFC 9110 §15), for every status serve answers.
public enum HTTPStatus {
  /// The reason phrase of a status line: `411` → `Length Required`.
  public static func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 101: return "Switching Protocols"
    case 200: return "OK"
    case 201: return "Created"
    case 204: return "No Content"
    case 400: return "Bad Request"
    case 401: return "Unauthorized"
    case 403: return "Forbidden"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 408: return "Request Timeout"
    case 409: return "Conflict"
    case 411: return "Length Required"
    case 413: return "Content Too Large"
    case 414: return "URI Too Long"
    case 415: return "Unsupported Media Type"
    case 426: return "Upgrade Required"
    case 429: return "Too Many Requests"
    case 431: return "Request Header Fields Too Large"
    case 500: return "Internal Server Error"
    case 501: return "Not Implemented"
    case 503: return "Service Unavailable"
    case 507: return "Insufficient Storage"
    default:
      switch status / 100 {
      case 2: return "OK"
      case 4: return "Bad Request"
      default: return "Internal Server Error"
      }
    }
  }
}
