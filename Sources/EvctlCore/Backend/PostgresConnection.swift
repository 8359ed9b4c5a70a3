internal import CLibPQ
import Glibc

/// One PostgreSQL connection through libpq.
///
/// The URL goes to libpq unchanged, so `postgresql://` and `postgres://` URLs, the `PG*`
/// environment variables (`PGHOST`, `PGUSER`, `PGPASSWORD`, `PGSERVICE`, …) and `~/.pgpass` (or
/// `PGPASSFILE`) work exactly as they do for `psql`. Each session runs with `TimeZone = UTC` and
/// `DateStyle = ISO`. Like ``Connection``, one owner at a time.
public final class PostgresConnection: StoreBackend {
  let handle: OpaquePointer
  /// The statements seen on this connection, prepared on the server from their second use.
  var statements = PostgresStatementCache()
  /// How many parameterised statements were sent (queries and runs; savepoints and `execute`
  /// not counted): what tests and profiles count per CALL.
  public private(set) var statementsRun = 0
  /// The savepoints opened through ``openSavepoint(_:)``, sent only when a statement runs.
  var savepoints = PostgresSavepoints()
  /// The URL with its password hidden, for messages.
  public let displayName: String

  /// Connects to the database at `url`.
  ///
  /// - Throws: ``PostgresError`` with `isConnectionFailure` when libpq cannot connect.
  public init(url: String) throws {
    displayName = DatabaseLocation.redacting(url)
    // A server that does not answer fails after 10 s, unless the URL or PGCONNECT_TIMEOUT says
    // otherwise (the URL, expanded after our default, overrides it).
    var keywords = ["dbname"], values = [url]
    if getenv("PGCONNECT_TIMEOUT") == nil {
      keywords.insert("connect_timeout", at: 0)
      values.insert("10", at: 0)
    }
    let made = PostgresConnection.withCStrings(keywords) { k in
      PostgresConnection.withCStrings(values) { v in PQconnectdbParams(k, v, 1) }
    }
    guard let connection = made else {
      throw PostgresError(sqlState: nil, message: "out of memory", sql: nil, isConnectionFailure: true)
    }
    guard PQstatus(connection) == CONNECTION_OK else {
      let message = PostgresConnection.oneLine(String(cString: PQerrorMessage(connection)))
      PQfinish(connection)
      throw PostgresError(sqlState: nil, message: message, sql: nil, isConnectionFailure: true)
    }
    handle = connection
    try execute(sessionSettings)
  }

  /// What every session runs first.
  let sessionSettings =
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET client_encoding = 'UTF8'; SET client_min_messages = 'warning'"

  deinit { PQfinish(handle) }

  /// The libpq version, such as "15.18".
  public static var libraryVersion: String {
    let version = Int(PQlibVersion())
    return "\(version / 10_000).\(version % 10_000)"
  }

  /// The server's version number, such as 150018.
  public var serverVersion: Int { Int(PQserverVersion(handle)) }

  public var dialect: SQLDialect { .postgresql }

  public func execute(_ sql: String) throws {
    switch sql {
    case "BEGIN", "COMMIT", "ROLLBACK":
      // Every savepoint ends with the transaction: none is sent for it.
      savepoints.removeAll()
    default:
      try sendSavepoints()
    }
    let result = PQexec(handle, sql)
    defer { PQclear(result) }
    // `DISCARD ALL` / `DEALLOCATE ALL` drop the session's prepared statements.
    let upper = sql.uppercased()
    if upper.contains("DISCARD") || upper.contains("DEALLOCATE") { statements.removeAll() }
    try check(result, sql: sql)
  }

  @discardableResult
  public func query(_ sql: String, _ arguments: [any SQLiteBindable] = []) throws -> [Row] {
    let result = try send(sql, arguments)
    defer { PQclear(result) }
    return rows(of: result)
  }

  public func forEachRow(
    _ sql: String, _ arguments: [any SQLiteBindable] = [], _ body: (Row) throws -> Void
  ) throws {
    let plan = try planned(sql, arguments.count)
    let sent = withParameters(arguments) { values, lengths, formats in
      switch plan {
      case .unnamed(let text), .prepare(_, let text):
        PQsendQueryParams(handle, text, Int32(arguments.count), nil, values, lengths, formats, 0)
      case .prepared(let name):
        PQsendQueryPrepared(handle, name, Int32(arguments.count), values, lengths, formats, 0)
      }
    }
    guard sent == 1 else {
      throw PostgresError(sqlState: nil, message: lastMessage, sql: sql)
    }
    PQsetSingleRowMode(handle)
    var failure: (any Error)?
    var header: Header?
    // Every result must be read, even after a failure, before the connection takes new work.
    while let result = PQgetResult(handle) {
      defer { PQclear(result) }
      guard failure == nil else { continue }
      let status = PQresultStatus(result)
      if status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK {
        do {
          // Each row is a result of its own: read the column names and types once.
          let names = header ?? Header(result)
          header = names
          for row in rows(of: result, header: names) { try body(row) }
        } catch {
          failure = error
          // Stop the server from sending the rest.
          if let cancel = PQgetCancel(handle) {
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(cancel, &buffer, 256)
            PQfreeCancel(cancel)
          }
        }
      } else {
        do { try check(result, sql: sql) } catch {
          failure = error
          forgetIfStale(sql, error)
        }
      }
    }
    if let failure {
      // A cancelled query leaves the transaction aborted; the caller's rollback clears it.
      throw failure
    }
  }

  @discardableResult
  public func run(_ sql: String, _ arguments: [any SQLiteBindable] = []) throws -> Int {
    let result = try send(sql, arguments)
    defer { PQclear(result) }
    return Int(String(cString: PQcmdTuples(result))) ?? 0
  }

  public var isInTransaction: Bool { PQtransactionStatus(handle) != PQTRANS_IDLE }

  public func transaction<T>(_ body: () throws -> T) throws -> T {
    if isInTransaction { return try body() }
    try execute("BEGIN")
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }

  // MARK: Internals

  /// Runs `sql` with `arguments` as a prepared statement from its second use on (see
  /// ``PostgresStatementCache``) and returns its successful result.
  private func send(_ sql: String, _ arguments: [any SQLiteBindable]) throws -> OpaquePointer? {
    statementsRun &+= 1
    let idle = !isInTransaction
    do {
      return try sendOnce(sql, arguments)
    } catch let error as PostgresError where idle && isConnected && PostgresConnection.isStale(error) {
      // Its prepared statement was gone or outdated; nothing ran, and no transaction was open to
      // abort: once more, prepared afresh.
      return try sendOnce(sql, arguments)
    }
  }

  private func sendOnce(_ sql: String, _ arguments: [any SQLiteBindable]) throws -> OpaquePointer? {
    let plan = try planned(sql, arguments.count)
    let result = withParameters(arguments) { values, lengths, formats in
      switch plan {
      case .unnamed(let text), .prepare(_, let text):
        PQexecParams(handle, text, Int32(arguments.count), nil, values, lengths, formats, 0)
      case .prepared(let name):
        PQexecPrepared(handle, name, Int32(arguments.count), values, lengths, formats, 0)
      }
    }
    do {
      try check(result, sql: sql)
    } catch {
      PQclear(result)
      forgetIfStale(sql, error)
      throw error
    }
    return result
  }

  /// The cache's plan for `sql`, with the statement prepared on the server when this is its
  /// second use (then `.prepared`).
  private func planned(_ sql: String, _ count: Int) throws -> PostgresStatementCache.Plan {
    try sendSavepoints()
    deallocateDropped()
    let plan = statements.plan(sql)
    guard case .prepare(let name, let text) = plan else { return plan }
    // Preparing in an aborted transaction fails; run it unnamed to get the statement's own error.
    guard PQtransactionStatus(handle) != PQTRANS_INERROR else { return .unnamed(text: text) }
    let result = PQprepare(handle, name, text, Int32(count), nil)
    defer { PQclear(result) }
    do {
      try check(result, sql: sql)
    } catch {
      // Parsing failed (such as a syntax error): the statement's own error, as unprepared.
      statements.forget(sql)
      throw error
    }
    statements.prepared(sql, as: name)
    return .prepared(name: name)
  }

  /// Sends the savepoints a statement about to run needs (see ``PostgresSavepoints``).
  private func sendSavepoints() throws {
    guard !savepoints.isEmpty else { return }
    guard PQtransactionStatus(handle) != PQTRANS_IDLE else {
      // The transaction ended: its savepoints went with it.
      savepoints.removeAll()
      return
    }
    guard let sql = savepoints.beforeStatement() else { return }
    let result = PQexec(handle, sql)
    defer { PQclear(result) }
    try check(result, sql: sql)
    savepoints.sent()
  }

  /// Deallocates the prepared statements the cache dropped, when the transaction allows it (an
  /// aborted one refuses every command; they wait for the next statement then).
  private func deallocateDropped() {
    let names = statements.toDeallocate
    guard !names.isEmpty, PQtransactionStatus(handle) != PQTRANS_INERROR, isConnected else { return }
    let result = PQexec(handle, names.map { "DEALLOCATE \($0)" }.joined(separator: "; "))
    defer { PQclear(result) }
    if PQresultStatus(result) == PGRES_COMMAND_OK { statements.deallocated(names) }
  }

  /// Whether `error` says a prepared statement is gone (26000) or its cached plan no longer fits
  /// the schema (0A000, "cached plan must not change result type").
  private static func isStale(_ error: PostgresError) -> Bool {
    error.sqlState == "26000" || error.sqlState == "0A000"
  }

  private func forgetIfStale(_ sql: String, _ error: any Error) {
    if let error = error as? PostgresError, PostgresConnection.isStale(error) { statements.forget(sql) }
  }

  /// Calls `body` with libpq's parameter arrays: text for everything but blobs (binary bytea).
  private func withParameters<T>(
    _ arguments: [any SQLiteBindable],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> T
  ) -> T {
    var buffers: [UnsafeMutablePointer<CChar>?] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []
    for argument in arguments {
      switch argument.sqliteValue {
      case .null:
        buffers.append(nil); lengths.append(0); formats.append(0)
      case .integer(let value):
        buffers.append(strdup(String(value))); lengths.append(0); formats.append(0)
      case .real(let value):
        buffers.append(strdup(PostgresConnection.text(of: value))); lengths.append(0); formats.append(0)
      case .text(let value):
        buffers.append(strdup(value)); lengths.append(0); formats.append(0)
      case .blob(let bytes):
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
        bytes.withUnsafeBytes { raw in
          if let base = raw.baseAddress { memcpy(buffer, base, bytes.count) }
        }
        buffers.append(buffer); lengths.append(Int32(bytes.count)); formats.append(1)
      }
    }
    defer { for buffer in buffers { free(buffer) } }
    let values = buffers.map { UnsafePointer($0) }
    return values.withUnsafeBufferPointer { v in
      lengths.withUnsafeBufferPointer { l in
        formats.withUnsafeBufferPointer { f in body(v.baseAddress, l.baseAddress, f.baseAddress) }
      }
    }
  }

  private static func text(of value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
    return String(value)
  }

  /// A result's column names and types.
  private struct Header {
    var columns: [String: Int] = [:]
    var types: [UInt32] = []

    init(_ result: OpaquePointer?) {
      for field in 0..<Int(PQnfields(result)) {
        let name = String(cString: PQfname(result, Int32(field)))
        if columns[name] == nil { columns[name] = field }
        types.append(PQftype(result, Int32(field)))
      }
    }
  }

  private func rows(of result: OpaquePointer?, header: Header? = nil) -> [Row] {
    let count = Int(PQntuples(result))
    guard count > 0 else { return [] }
    let header = header ?? Header(result)
    let fields = header.types.count
    let columns = header.columns, types = header.types
    var rows: [Row] = []
    rows.reserveCapacity(count)
    for row in 0..<count {
      var values: [SQLiteValue] = []
      values.reserveCapacity(fields)
      for field in 0..<fields {
        if PQgetisnull(result, Int32(row), Int32(field)) == 1 {
          values.append(.null)
          continue
        }
        let text = String(cString: PQgetvalue(result, Int32(row), Int32(field)))
        values.append(PostgresValues.value(text, type: types[field]))
      }
      rows.append(Row(values: values, columns: columns))
    }
    return rows
  }

  private var lastMessage: String { PostgresConnection.oneLine(String(cString: PQerrorMessage(handle))) }

  private func check(_ result: OpaquePointer?, sql: String) throws {
    guard let result else { throw PostgresError(sqlState: nil, message: lastMessage, sql: sql) }
    let status = PQresultStatus(result)
    if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_SINGLE_TUPLE
      || status == PGRES_EMPTY_QUERY
    {
      return
    }
    let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
    let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
    let message = primary ?? PostgresConnection.oneLine(String(cString: PQresultErrorMessage(result)))
    if PQstatus(handle) != CONNECTION_OK {
      throw PostgresError(sqlState: state, message: message, sql: sql, isConnectionFailure: true)
    }
    throw PostgresError(sqlState: state, message: message, sql: sql)
  }

  /// Calls `body` with a NULL-terminated array of C strings.
  private static func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let copies = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
  }

  public static func oneLine(_ text: String) -> String {
    text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
      .map { $0.trimmingCharacters(in: " \t") }
      .filter { !$0.isEmpty }
      .joined(separator: "; ")
  }
}

extension Substring {
  fileprivate func trimmingCharacters(in set: String) -> String {
    var slice = self[...]
    while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
    while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
    return String(slice)
  }
}
