/// Errors a caller can act on; each maps to one exit status in the CLI.
public enum StoreError: Error, Equatable, CustomStringConvertible, Sendable {
  /// The named object does not exist.
  case notFound(kind: String, name: String)
  /// An object with that identifier already exists.
  case alreadyExists(kind: String, name: String, hint: String? = nil)
  /// A value is not acceptable; the message says which and why.
  case invalid(String)
  /// The acting operator may not do this.
  case forbidden(String)
  /// The operation conflicts with the current state (for example a non-empty group).
  case conflict(String)
  /// Bad rows in an input file, as `FILE:LINE: reason` lines.
  case badInput([String])
  /// The database file was written by a newer evctl.
  case schemaTooNew(found: Int, supported: Int)
  /// The operation is not built.
  case notSupported(String)
  /// Something needed is not reachable now: an offline station, no running server.
  case unavailable(String)

  public var description: String {
    switch self {
    case .notFound(let kind, let name): return "\(kind) '\(name)' not found"
    case .alreadyExists(let kind, let name, _): return "\(kind) '\(name)' already exists"
    case .invalid(let message), .forbidden(let message), .conflict(let message):
      return message
    case .badInput(let lines): return lines.joined(separator: "\n")
    case .schemaTooNew(let found, let supported):
      return "database schema version \(found) is newer than this evctl supports (\(supported))"
    case .notSupported(let what): return "\(what) is not supported"
    case .unavailable(let message): return message
    }
  }
}
