/// Handing on unused current (Alfen's SLB): a car that draws clearly less than its limit for a
/// while gets its limit lowered toward its draw, never below its minimum, so the rest goes to
/// cars that are capped; when it draws (nearly) all of its lowered limit again, it gets it back.
public struct HandOn: Equatable, Sendable {
  /// Since when the car has drawn clearly less than its limit.
  public var underdrawSince: Timestamp?
  /// The lowered maximum, while current is handed on.
  public var cap: Double?

  /// "Clearly less": more than this many amperes below the limit (Alfen: 3 A).
  public static let threshold = 3.0
  /// A lowered limit is the draw plus this margin, so a car can show it wants more.
  public static let margin = 2.0

  /// Creates a state.
  public init(underdrawSince: Timestamp? = nil, cap: Double? = nil) {
    self.underdrawSince = underdrawSince
    self.cap = cap
  }

  /// The next state, from the car's highest measured phase current `draw` (`nil`: never
  /// measured), the limit it was last given, its minimum and the window (`0`: handing on off).
  public func next(draw: Double?, limit: Double?, minimum: Double, windowSeconds: Int64, now: Timestamp) -> HandOn {
    guard windowSeconds > 0, let draw, let limit, limit > 0 else { return HandOn() }
    if let cap {
      // Drawing (nearly) all of the lowered limit: the car wants more; give it back.
      if draw >= cap - HandOn.margin / 2 { return HandOn() }
      return HandOn(underdrawSince: underdrawSince, cap: min(cap, lowered(draw, minimum)))
    }
    guard limit - draw > HandOn.threshold else { return HandOn() }
    let since = underdrawSince ?? now
    if now.milliseconds - since.milliseconds >= windowSeconds * 1000 {
      let lowered = lowered(draw, minimum)
      return lowered < limit - 0.05 ? HandOn(underdrawSince: since, cap: lowered) : HandOn(underdrawSince: since)
    }
    return HandOn(underdrawSince: since)
  }

  /// When the window of a car that under-draws ends, for serve to replan then.
  public func windowEnds(windowSeconds: Int64) -> Timestamp? {
    guard cap == nil, let underdrawSince, windowSeconds > 0 else { return nil }
    return underdrawSince.adding(seconds: windowSeconds)
  }

  private func lowered(_ draw: Double, _ minimum: Double) -> Double {
    max(minimum, GroupCapacity.iecMinimumCurrent, ((draw + HandOn.margin) * 10).rounded(.up) / 10)
  }
}
