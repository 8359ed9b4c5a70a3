/// One value of a SQLite row or statement argument.
public enum SQLiteValue: Equatable, Sendable {
  case null
  case integer(Int64)
  case real(Double)
  case text(String)
  case blob([UInt8])

  /// The value as a string, or `nil` for NULL.
  public var string: String? {
    switch self {
    case .null: return nil
    case .integer(let value): return String(value)
    case .real(let value): return String(value)
    case .text(let value): return value
    case .blob(let bytes): return String(decoding: bytes, as: UTF8.self)
    }
  }

  /// The value as an integer, or `nil` for NULL and non-numbers.
  public var int: Int? {
    switch self {
    case .integer(let value): return Int(value)
    case .real(let value): return Int(value)
    case .text(let value): return Int(value)
    default: return nil
    }
  }

  /// The value as a double, or `nil` for NULL and non-numbers.
  public var double: Double? {
    switch self {
    case .integer(let value): return Double(value)
    case .real(let value): return value
    case .text(let value): return Double(value)
    default: return nil
    }
  }

  /// The value as a boolean: non-zero integers are true.
  public var bool: Bool { (int ?? 0) != 0 }
}

/// Types that can be bound as a statement argument.
public protocol SQLiteBindable {
  /// The value to bind.
  var sqliteValue: SQLiteValue { get }
}

extension Int: SQLiteBindable {
  public var sqliteValue: SQLiteValue { .integer(Int64(self)) }
}
extension Int64: SQLiteBindable {
  public var sqliteValue: SQLiteValue { .integer(self) }
}
extension Double: SQLiteBindable {
  public var sqliteValue: SQLiteValue { .real(self) }
}
extension String: SQLiteBindable {
  public var sqliteValue: SQLiteValue { .text(self) }
}
extension Bool: SQLiteBindable {
  public var sqliteValue: SQLiteValue { .integer(self ? 1 : 0) }
}
extension SQLiteValue: SQLiteBindable {
  public var sqliteValue: SQLiteValue { self }
}
extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
  public var sqliteValue: SQLiteValue { self?.sqliteValue ?? .null }
}
