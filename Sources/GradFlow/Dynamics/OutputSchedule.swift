import Foundation

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

    /// `[0, t_1, …, t_count = tFinal]`, strictly increasing.
    public func times() -> [Double] {
        if let explicitTimes { return [0] + explicitTimes.filter { $0 > 0 } }
        var result = [0.0]
        switch spacing {
        case .uniform:
            for i in 1...count { result.append(tFinal * Double(i) / Double(count)) }
        case .log:
            let first = firstTime ?? min(1e-2, tFinal / Double(count))
            if count == 1 { return [0, tFinal] }
            let ratio = log(tFinal / first)
            for i in 0..<count { result.append(first * exp(ratio * Double(i) / Double(count - 1))) }
            result[count] = tFinal
        }
        return result
    }
}
