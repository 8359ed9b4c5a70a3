import EvctlCore

/// What a run measured: connections, CALLs and their latencies, errors by kind.
public struct SimulatorStats: Sendable {
  public var startedAt: Double = 0
  public var endedAt: Double = 0
  public var established = 0
  public var reconnects = 0
  public var heldAtEnd = 0
  /// The most TLS handshakes under way at once (wss://; bounded by `maxTLSHandshakes`).
  public var maxHandshakesInFlight = 0
  public var firstConnectAt: Double?
  public var allConnectedAt: Double?
  public var callsSent = 0
  public var callsOK = 0
  public var errors: [String: Int] = [:]
  var connectMillis: [Float] = []
  /// (sent at, latency ms, action index) of every answered CALL.
  var latencies: [(sentAt: Double, millis: Float, action: UInt8)] = []
  var actions: [String] = []
  var actionIndex: [String: UInt8] = [:]
  var stations = 0

  mutating func connected(connectSeconds: Double, first: Bool, at: Double) {
    if first {
      established += 1
      connectMillis.append(Float(connectSeconds * 1000))
      if established == stations { allConnectedAt = at }
    }
  }

  mutating func sent(_ action: String) { callsSent += 1 }

  mutating func answered(_ action: String, seconds: Double, sentAt: Double, ok: Bool = true) {
    if ok { callsOK += 1 }
    let index: UInt8
    if let known = actionIndex[action] {
      index = known
    } else {
      index = UInt8(truncatingIfNeeded: actions.count)
      actions.append(action)
      actionIndex[action] = index
    }
    if ok { latencies.append((sentAt, Float(seconds * 1000), index)) }
  }

  mutating func abandoned(_ action: String) { errors["abandoned on disconnect", default: 0] += 1 }

  mutating func count(_ kind: String) { errors[kind, default: 0] += 1 }

  /// Percentiles of a list of milliseconds: n, mean, p50, p95, p99, max.
  static func summary(_ values: [Float]) -> JSONValue {
    guard !values.isEmpty else { return ["n": 0] }
    let sorted = values.sorted()
    func percentile(_ p: Double) -> JSONValue {
      let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
      return round3(Double(sorted[max(0, min(sorted.count - 1, rank))]))
    }
    let mean = sorted.reduce(0.0) { $0 + Double($1) } / Double(sorted.count)
    return ["n": .int(Int64(sorted.count)), "mean": round3(mean), "p50": percentile(50),
            "p95": percentile(95), "p99": percentile(99), "max": round3(Double(sorted.last!))]
  }

  static func round3(_ value: Double) -> JSONValue { .double((value * 1000).rounded() / 1000) }

  /// The summary, with the field names of `loadgen.py`'s (`connections`, `steady`, `whole_run`,
  /// `errors`, `error_total`), plus `reconnects`.
  public func json(stations: Int, ratePerStation: Double?, duration: Double?, ramp: Double, warmup: Double,
                   url: String) -> JSONValue {
    let steadyStart = (allConnectedAt ?? (startedAt + ramp)) + warmup
    let window = max(0.001, endedAt - steadyStart)
    let steady = latencies.filter { $0.sentAt >= steadyStart }
    var byAction: [String: JSONValue] = [:]
    for (index, action) in actions.enumerated() {
      let values = steady.filter { $0.action == UInt8(index) }.map(\.millis)
      if !values.isEmpty { byAction[action] = Self.summary(values) }
    }
    let errorTotal = errors.values.reduce(0, +)
    return [
      "tool": "evctl-simulate", "version": "1.0", "url": .string(url), "scenario": "heartbeat",
      "stations": .int(Int64(stations)), "rate_per_station": .from(ratePerStation),
      "duration_s": .from(duration), "ramp_s": .double(ramp), "procs": 1,
      "connections": [
        "established": .int(Int64(established)), "held_at_end": .int(Int64(heldAtEnd)),
        "all_connected": .bool(established == stations),
        "time_to_all_connected_s": allConnectedAt.map { Self.round3($0 - startedAt) } ?? .null,
        "connect_ms": Self.summary(connectMillis),
        "max_tls_handshakes_in_flight": .int(Int64(maxHandshakesInFlight)),
      ],
      "steady": [
        "window_s": Self.round3(window), "calls_ok": .int(Int64(steady.count)),
        "msgs_per_s": .double((Double(steady.count) / window * 10).rounded() / 10),
        "latency_ms": Self.summary(steady.map(\.millis)), "by_action_ms": .object(byAction),
      ],
      "whole_run": [
        "calls_sent": .int(Int64(callsSent)), "calls_ok": .int(Int64(callsOK)),
        "latency_ms": Self.summary(latencies.map(\.millis)),
      ],
      "errors": .object(errors.mapValues { .int(Int64($0)) }),
      "error_total": .int(Int64(errorTotal)),
      "reconnects": .int(Int64(reconnects)),
    ]
  }
}
