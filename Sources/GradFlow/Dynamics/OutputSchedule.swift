import Glibc

/// The times at which a run records a row of the trajectory: t = 0, then `count` times up to
/// `tFinal`, log-spaced from `firstTime` (small initialisations sit on a plateau for a long time, so
/// every decade gets the same number of rows) or uniform.
public struct OutputSchedule: Sendable, Codable, Equatable {
    public enum Spacing: String, Sendable, Codable, CaseIterable {
        case log
        case uniform
    }

    public var tFinal: Double
    public var count: Int
    public var spacing: Spacing
    /// The first positive output time of a log schedule; nil for `min(1e-2, tFinal/count)`.
    public var firstTime: Double?
    /// Explicit positive output times (increasing; the last is the horizon), overriding count and spacing.
    /// `gradflow compare` uses it to record the flow at exactly the descent's times kη.
    public var explicitTimes: [Double]?

    public init(tFinal: Double, count: Int = 200, spacing: Spacing = .log, firstTime: Double? = nil) {
        self.tFinal = tFinal
        self.count = count
        self.spacing = spacing
        self.firstTime = firstTime
    }

    /// - Throws: `GradFlowError.invalidConfiguration` for a non-positive horizon or count.
    public func validate() throws {
        guard tFinal.isFinite, tFinal > 0 else {
            throw GradFlowError.invalidConfiguration(field: .tFinal, value: "\(tFinal)", reason: "must be a finite number > 0")
        }
        guard count >= 1 else {
            throw GradFlowError.invalidConfiguration(field: .outputTimes, value: "\(count)", reason: "must be at least 1")
        }
        if let t = firstTime {
            guard t.isFinite, t > 0, t <= tFinal else {
                throw GradFlowError.invalidConfiguration(field: .firstOutputTime, value: "\(t)", reason: "must be in (0, t-final]")
            }
        }
    }

    /// A schedule at the given positive, increasing times.
    public init(times: [Double]) {
        self.init(tFinal: times.last ?? 0, count: max(times.count, 1))
        explicitTimes = times
    }

    /// The smallest output time the integrators step to: √(smallest normal number) ≈ 1.49e-154. CVODE and ARKODE
    /// multiply times and step sizes together (the initial step estimate, the interpolation tolerance), so below
    /// it they fail with CV_ILL_INPUT / ARK_ILL_INPUT ("tstop is behind current t", "trouble interpolating").
    public static let smallestTime = Double.leastNormalMagnitude.squareRoot()

    /// Checks that the output times the integrators are given are usable: every time after t = 0 at least
    /// `smallestTime` (no underflow, no denormal) and finite, and each strictly after the one
    /// before (a log schedule from a `firstTime` next to `tFinal` can round to equal times). Call it after
    /// `validate()` and the memory check: it computes the `count` times one at a time (no array).
    /// - Throws: `GradFlowError.invalidConfiguration` naming `firstTime` when it was given and drives the log
    ///   schedule, `tFinal` otherwise.
    public func validateTimes() throws {
        let field: ConfigurationField = firstTime != nil && spacing == .log && explicitTimes == nil ? .firstOutputTime : .tFinal
        let value = field == .firstOutputTime ? firstTime ?? tFinal : tFinal
        func refuse(_ reason: ConfigurationText) -> GradFlowError {
            .invalidConfiguration(field: field, value: "\(value)", reason: reason)
        }
        let fix: ConfigurationText = field == .firstOutputTime ? "give a larger \(field: .firstOutputTime)" : "give a larger \(field: .tFinal)"
        let n = explicitTimes?.count ?? count
        guard n >= 1 else { return }
        var previous = 0.0
        for i in 1...n {
            let t = explicitTimes.map { $0[i - 1] } ?? time(i)
            guard t.isFinite else {
                throw refuse("the output time t_\(i) = \(t) is not a finite number")
            }
            guard t >= Self.smallestTime else {
                throw refuse("the output time t_\(i) = \(t) is below \(Self.smallestTime) (the square root of the smallest normal number), "
                             + "where the integrators' step-size estimates underflow; " + fix)
            }
            guard t > previous else {
                throw refuse("the output times collapse: t_\(i) = \(t) is not after t_\(i - 1) = \(previous) in floating point; "
                             + (field == .firstOutputTime ? "give a smaller \(field: .firstOutputTime) or fewer \(field: .outputTimes)"
                                                           : "give fewer \(field: .outputTimes)"))
            }
            previous = t
        }
    }

    /// `[0, t_1, …, t_count = tFinal]`, strictly increasing.
    public func times() -> [Double] {
        if let explicitTimes { return [0] + explicitTimes.filter { $0 > 0 } }
        return [0.0] + (1...max(count, 1)).map(time)
    }

    /// The output time t_i, 1 ≤ i ≤ count (t_count = tFinal).
    private func time(_ i: Int) -> Double {
        switch spacing {
        case .uniform:
            let product = tFinal * Double(i)
            // t-final · i overflows near the largest doubles: divide first there (the same times elsewhere, bit for bit).
            return product.isFinite ? product / Double(count) : tFinal * (Double(i) / Double(count))
        case .log:
            if count == 1 || i == count { return tFinal }
            let first = firstTime ?? min(1e-2, tFinal / Double(count))
            let quotient = tFinal / first
            // The quotient overflows for a huge t-final over a tiny first time: take the logarithms apart there.
            let ratio = quotient.isFinite ? log(quotient) : log(tFinal) - log(first)
            let exponent = ratio * Double(i - 1) / Double(count - 1)
            let growth = exp(exponent)
            // exp overflows before the time does for a tiny first time and a huge horizon: add the logarithms there.
            return growth.isFinite ? first * growth : exp(log(first) + exponent)
        }
    }
}
