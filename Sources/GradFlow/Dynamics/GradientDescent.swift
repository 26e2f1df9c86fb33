import COpenBLAS
import FoundationEssentials
import Glibc

/// Settings of gradient descent `W ← W − η∇R(W)`.
public struct DescentSettings: Sendable, Codable, Equatable {
    /// η.
    public var learningRate: Double
    /// K, the most steps.
    public var steps: Int
    /// Divergence: R − R_min above `divergenceFactor · max(R(W(0)), 1)`, or a non-finite value.
    public var divergenceFactor: Double

    /// The most steps a run may take: 10^10 (at a microsecond a step, the smallest networks' speed, almost
    /// three hours; most networks take far longer). More is refused, not clamped.
    public static let maximumSteps = 10_000_000_000

    public init(learningRate: Double, steps: Int = 100_000, divergenceFactor: Double = 1e6) {
        self.learningRate = learningRate
        self.steps = steps
        self.divergenceFactor = divergenceFactor
    }

    public func validate() throws {
        guard learningRate.isFinite, learningRate > 0 else {
            throw GradFlowError.invalidConfiguration(field: .learningRate, value: "\(learningRate)", reason: "must be a finite number > 0")
        }
        guard steps >= 1 else {
            throw GradFlowError.invalidConfiguration(field: .descentSteps, value: "\(steps)", reason: "must be at least 1")
        }
        try Self.checkStepCount(steps, field: .descentSteps)
        guard (Double(steps) * learningRate).isFinite else {
            throw GradFlowError.invalidConfiguration(field: .learningRate, value: "\(learningRate)",
                                                reason: "the horizon K·η = \(steps)·η is not a finite time")
        }
        guard divergenceFactor.isFinite, divergenceFactor > 1 else {
            throw GradFlowError.invalidConfiguration(field: .divergenceFactor, value: "\(divergenceFactor)", reason: "must be > 1")
        }
    }

    /// Refuses a step count above `maximumSteps`, naming `field`.
    public static func checkStepCount(_ steps: Int, field: ConfigurationField) throws {
        guard steps <= maximumSteps else {
            throw GradFlowError.invalidConfiguration(field: field, value: "\(steps)",
                                                reason: "more than the \(maximumSteps) steps gradient descent takes at most")
        }
    }

    /// ⌈t-final/η⌉ for the horizon `tFinal` and step η, refused above `maximumSteps` (it is not clamped):
    /// `schedule.tFinal 1e+300 descent.learningRate 1e-10: needs K = ⌈t-final/η⌉ ≈ 1e+310 steps, more than the 10000000000 …`.
    /// Both must be finite and positive (checked by the caller).
    public static func stepCount(tFinal: Double, learningRate eta: Double) throws -> Int {
        let ratio = tFinal / eta
        guard ratio.isFinite, ratio <= Double(maximumSteps) else {
            let exponent = Glibc.log10(tFinal) - Glibc.log10(eta)  // finite where the ratio is not
            let approx = ratio.isFinite ? String(printf: "%.3g", ratio)
                : String(printf: "%.3ge+%d", Glibc.pow(10, exponent - exponent.rounded(.down)), Int(exponent.rounded(.down)))
            throw GradFlowError.invalidConfiguration(
                field: .tFinal, value: "\(tFinal) \(field: .learningRate) \(eta)",
                reason: "needs K = ⌈t-final/η⌉ ≈ \(approx) steps, more than the \(maximumSteps) that gradient descent takes at most; "
                    + "give a smaller \(field: .tFinal), a larger \(field: .learningRate), or \(field: .descentSteps)")
        }
        return max(1, Int(ratio.rounded(.up)))
    }

    /// The output steps: 0, then `count` steps up to `steps`, log-spaced (rounded, duplicates removed)
    /// or uniform. Time is t = k·η.
    public func outputSteps(count: Int, spacing: OutputSchedule.Spacing) -> [Int] {
        var result: Set<Int> = [0, steps]
        for i in 1...max(count, 1) {
            let fraction = Double(i) / Double(max(count, 1))
            switch spacing {
            case .uniform: result.insert(Int((fraction * Double(steps)).rounded()))
            case .log: result.insert(Int(Glibc.exp(fraction * Glibc.log(Double(steps))).rounded()))
            }
        }
        return result.filter { $0 >= 0 && $0 <= steps }.sorted()
    }
}

/// The outcome of a gradient-descent run.
public struct GradientDescentResult: Sendable {
    /// Steps taken.
    public var steps: Int
    public var finalTime: Double
    public var finalWeights: [Double]
    public var finalEvaluation: RiskEvaluation
    public var stopReason: StopReason
    /// Rows recorded.
    public var samples: Int
    /// Wall-clock seconds per step of the inner loop (observer calls excluded).
    public var secondsPerStep: Double
    /// The settings it ran with (η, the most steps, the divergence factor).
    public var settings: DescentSettings
}

/// Full-batch gradient descent `θ ← θ − η∇R(θ)` on any `DifferentiableRisk`, with the time of step k taken
/// as t = kη so that it compares with gradient flow.
///
/// The inner loop reuses the risk's gradient (one sweep), checks the excess risk of the same sweep for the
/// loss tolerance and for divergence, and takes the step with one `daxpy`: nothing is allocated per step.
/// With `trackDrift` it also accumulates MATH.md §5's exact η² change of the Lemma 1 matrices,
/// `η²(G_kG_kᵀ − G_{k+1}ᵀG_{k+1})`: from the rank-one factors for `DeepLinearRisk` (≈ 2Σm_k² flops per step),
/// otherwise from the step `S = −ηG` itself, `S_kS_kᵀ − S_{k+1}ᵀS_{k+1}` (two `dsyrk`, ≈ 2Σm_k²m_{k−1} flops;
/// the formula holds for every linear network, MATH.md §6.1).
public final class GradientDescent {
    public let risk: any DifferentiableRisk
    public let shape: NetworkShape
    public let settings: DescentSettings

    public init(risk: any DifferentiableRisk, shape: NetworkShape, settings: DescentSettings) {
        precondition(risk.parameterCount == shape.parameterCount)
        self.risk = risk
        self.shape = shape
        self.settings = settings
    }

    /// The number of doubles of the accumulated drift: Σ_{k=1}^{L−1} m_k².
    public var driftCount: Int { shape.depth < 2 ? 0 : (1..<shape.depth).map { shape.widths[$0] * shape.widths[$0] }.reduce(0, +) }

    /// Adds `S_kS_kᵀ − S_{k+1}ᵀS_{k+1}` (k = 1…L−1) of the step S into the upper triangles of `accumulator`.
    private func accumulateDrift(step: UnsafePointer<Double>, into accumulator: UnsafeMutablePointer<Double>) {
        var offset = 0
        for k in 1..<shape.depth {
            let m = Int32(shape.rows(k))
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, m, Int32(shape.columns(k)), 1, step + shape.offset(k),
                        Int32(shape.columns(k)), 1, accumulator + offset, m)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, m, Int32(shape.rows(k + 1)), -1, step + shape.offset(k + 1),
                        Int32(shape.columns(k + 1)), 1, accumulator + offset, m)
            offset += shape.rows(k) * shape.rows(k)
        }
    }

    /// Where a resumed descent continues: θ at step `step` (already observed), the drift accumulated up to
    /// it, and R(θ(0)) of the original start (the divergence level). The continued run is bit-identical to
    /// the uninterrupted one.
    public struct Start: Sendable {
        public var step: Int
        public var drift: [Double]
        public var initialLoss: Double
        public init(step: Int, drift: [Double], initialLoss: Double) {
            self.step = step
            self.drift = drift
            self.initialLoss = initialLoss
        }
    }

    /// Runs from θ(0) (or, with `start`, from θ at `start.step`). `observe` gets the step, the time, the
    /// weights, the risk there, and (with `trackDrift`) the accumulated η² drift up to that step; it may throw
    /// to stop the run. `shouldStop` is asked every 64 steps: true throws `GradFlowError.interrupted`.
    public func run(
        from initialWeights: [Double], start: Start? = nil, outputSteps: [Int], lossTolerance: Double?, trackDrift: Bool,
        events: (any TrajectoryEvents)? = nil, shouldStop: () -> Bool = { false },
        observe: (_ step: Int, _ time: Double, _ weights: [Double], _ evaluation: RiskEvaluation,
                  _ predictedDrift: UnsafeBufferPointer<Double>?) throws -> Void
    ) throws -> GradientDescentResult {
        try settings.validate()
        let p = risk.parameterCount
        guard initialWeights.count == p else {
            throw GradFlowError.invalidConfiguration(field: .initWeightsFile, value: "\(initialWeights.count) weights",
                                                reason: "the network has P = \(p) parameters")
        }
        let eta = settings.learningRate
        var theta = initialWeights
        var step = [Double](repeating: 0, count: p)
        var drift = [Double](repeating: 0, count: trackDrift ? driftCount : 0)
        if let start, trackDrift {
            guard start.drift.count == driftCount else {
                throw GradFlowError.invalidConfiguration(field: .resumePath, value: "\(start.drift.count) drift values",
                                                    reason: "the network needs \(driftCount)")
            }
            drift = start.drift
        }
        let linear = risk as? DeepLinearRisk
        let outputs = Set(outputSteps)
        let initial = risk.evaluate(at: theta)
        let divergenceLevel = settings.divergenceFactor * max(start?.initialLoss ?? initial.loss, 1)
        var samples = 0, loopTime = 0.0
        var last = initial
        var stop = StopReason.horizon
        var k = start?.step ?? 0
        var lastRecorded = Double(k) * eta
        // Event functions after every step; a sign change between steps k and k + 1 is placed by linear
        // interpolation in t = kη.
        let eventCount = events?.eventCount ?? 0
        var previousEvents = [Double](repeating: 0, count: eventCount), currentEvents = previousEvents
        if let events, eventCount > 0 {
            theta.withUnsafeBufferPointer { t in previousEvents.withUnsafeMutableBufferPointer { events.eventValues(at: t, into: $0) } }
        }
        var clock = Date()
        while true {
            if k % 64 == 0, shouldStop() { throw GradFlowError.interrupted(time: lastRecorded) }
            theta.withUnsafeBufferPointer { t in step.withUnsafeMutableBufferPointer { risk.gradient(at: t, into: $0, scale: -eta) } }
            let excess = risk.excessRiskOfLastGradient()
            let diverged = !excess.isFinite || excess > divergenceLevel
            let converged = !diverged && lossTolerance.map { $0 > 0 && excess <= $0 } ?? false  // 0: never stop on the loss
            let observed = start.map { k == $0.step } ?? false  // a resumed run's first step was recorded already
            if !observed, outputs.contains(k) || diverged || converged || k == settings.steps {
                loopTime += Date().timeIntervalSince(clock)
                let evaluation = risk.evaluate(at: theta)
                if evaluation.loss.isFinite {
                    last = evaluation
                    try drift.withUnsafeBufferPointer {
                        try observe(k, Double(k) * eta, theta, evaluation, trackDrift ? $0 : nil)
                    }
                    samples += 1
                    lastRecorded = Double(k) * eta
                }
                clock = Date()
            }
            if diverged { stop = .diverged; break }
            if converged { stop = .lossTolerance; break }
            if k == settings.steps { break }
            if trackDrift && !drift.isEmpty {
                if let linear {
                    // evaluate() above recomputed the same forward state at θ, so the factors are those of this step.
                    drift.withUnsafeMutableBufferPointer { linear.accumulateDescentDrift(into: $0.baseAddress!, learningRateSquared: eta * eta) }
                } else {
                    step.withUnsafeBufferPointer { s in drift.withUnsafeMutableBufferPointer { accumulateDrift(step: s.baseAddress!, into: $0.baseAddress!) } }
                }
            }
            cblas_daxpy(Int32(p), 1, step, 1, &theta, 1)
            if let events, eventCount > 0 {
                theta.withUnsafeBufferPointer { t in currentEvents.withUnsafeMutableBufferPointer { events.eventValues(at: t, into: $0) } }
                for j in 0..<eventCount where (previousEvents[j] < 0) != (currentEvents[j] < 0) {
                    let fraction = previousEvents[j] / (previousEvents[j] - currentEvents[j])
                    events.eventCrossed(j, at: (Double(k) + (fraction.isFinite ? fraction : 1)) * eta)
                }
                swap(&previousEvents, &currentEvents)
            }
            k += 1
        }
        loopTime += Date().timeIntervalSince(clock)
        let taken = k - (start?.step ?? 0)
        return GradientDescentResult(steps: k, finalTime: Double(k) * eta, finalWeights: theta, finalEvaluation: last,
                                     stopReason: stop, samples: samples, secondsPerStep: taken > 0 ? loopTime / Double(taken) : 0,
                                     settings: settings)
    }
}
