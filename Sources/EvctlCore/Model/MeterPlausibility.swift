/// Range checks for the numbers stations report about energy.
///
/// Readings are stored as sent; these checks decide whether reports may use them. A session whose
/// readings fail is shown with its raw values, flagged, and left out of energy sums.
public enum MeterPlausibility {
  /// The largest meter register taken as real: 10^12 Wh (1 TWh), far above any charger's life.
  public static let maximumRegisterWh: Double = 1e12
  /// The most energy one session is taken to deliver: 10^7 Wh (10 MWh; 350 kW for over a day).
  public static let maximumSessionWh: Double = 1e7

  /// Why a register reading cannot be true, or `nil`.
  /// `text` is the number as sent, when it was an integer; it is made only when there is a
  /// problem (reports check millions of readings).
  public static func registerProblem(
    _ wh: Double, name: String, text: @autoclosure () -> String? = nil
  ) -> String? {
    guard wh.isFinite else { return "\(name) is not a finite number" }
    guard wh >= 0 else { return "\(name) \(text() ?? format(wh)) Wh is negative" }
    guard wh <= maximumRegisterWh else { return "\(name) \(text() ?? format(wh)) Wh is beyond any meter" }
    return nil
  }

  /// Checks a session's readings; returns the energy in Wh, or why it is implausible.
  public static func energy(meterStart: Int, meterStop: Int?, maxEnergyWh: Double?) -> Result<Double?, Implausible> {
    if let problem = registerProblem(Double(meterStart), name: "meterStart", text: String(meterStart)) { return .failure(Implausible(problem)) }
    let end: Double
    if let meterStop {
      if let problem = registerProblem(Double(meterStop), name: "meterStop", text: String(meterStop)) { return .failure(Implausible(problem)) }
      guard meterStop >= meterStart else {
        return .failure(Implausible("meterStop \(meterStop) Wh is below meterStart \(meterStart) Wh (meter replaced?)"))
      }
      end = Double(meterStop)
    } else if let maxEnergyWh {
      if let problem = registerProblem(maxEnergyWh, name: "energy reading") { return .failure(Implausible(problem)) }
      end = maxEnergyWh
    } else {
      return .success(nil)
    }
    let energy = end - Double(meterStart)
    if meterStop == nil, energy < 0 {
      return .failure(Implausible("energy reading \(format(end)) Wh is below meterStart \(meterStart) Wh"))
    }
    guard energy <= maximumSessionWh else {
      return .failure(Implausible("\(format(energy)) Wh in one session is beyond any charger"))
    }
    return .success(energy)
  }

  /// A reason a session's readings were refused for sums.
  public struct Implausible: Error, Equatable, Sendable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
  }

  static func format(_ value: Double) -> String {
    if value.isFinite, abs(value) < 9e15, value == value.rounded() { return String(Int64(value)) }
    return String(value)
  }
}
