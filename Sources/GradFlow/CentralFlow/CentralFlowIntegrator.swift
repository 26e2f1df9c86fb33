/// The outcome of a central-flow integration.
public struct CentralFlowResult: Sendable {
    public var finalTime: Double
    public var finalWeights: [Double]
    public var finalEvaluation: RiskEvaluation
    /// `.lossTolerance`, `.horizon`, or `.multipleEigenvalues` (the edge phase reached λ_2 ≈ λ_1).
    public var stopReason: StopReason
    /// The phase at the end.
    public var finalPhase: CentralFlowPhase
    /// Every switch, in time order.
    public var switches: [CentralFlowSwitch]
    /// S(θ(0)), and S and λ_2 at the end.
    public var initialSharpness: Double
    public var finalSharpness: Double
    public var finalSecondEigenvalue: Double
    /// The counters of all phases' integrations, summed.
    public var statistics: SolverStatistics
    /// The largest |S − 2/η| over the edge phase's output rows (0 if it never reached the edge).
    public var largestConstraintResidual: Double
    /// The spectral work: warm-started Lanczos runs (root functions, edge right-hand sides, rows), their
    /// Hessian-vector products, and exact third derivatives ∇³R[u, u, ·] (each ≈ 2 products).
    public var lanczosRuns: Int
    public var lanczosProducts: Int
    public var thirdDerivatives: Int
}

/// Integrates the central flow of gradient descent at learning rate η (MATH.md §11), in descent's time t = kη:
/// gradient flow while S < 2/η, and the constrained flow `dθ/dt = −Π∇R` (Π the projector orthogonal to ∇S,
/// which keeps S = 2/η) while the edge phase lasts.
///
/// Each phase is one `GradientFlowIntegrator` run; the switches are terminal root functions
/// (`CentralFlowEvents`), located to the solver's tolerance:
/// - the stable phase is gradient flow with the run's own method and settings, so a run that never reaches
///   the edge is gradient flow bit for bit (the root function only watches S, on a risk instance of its own);
/// - the edge phase runs ARKODE's explicit Dormand–Prince pair (`erk`) on `CentralFlowField`, with its
///   Baumgarte term, at the run's tolerances.
/// The phase changes where S − 2/η crosses 0 upward (enter) and where ⟨∇S, ∇R⟩ crosses 0 upward (leave);
/// the run stops with `.multipleEigenvalues` where λ_1 − λ_2 falls to `gapTolerance·λ_1` at the edge.
///
/// Cost: the stable phase costs gradient flow's plus one warm-started Lanczos run per root-function
/// evaluation (one per step); each edge-phase right-hand side costs a Lanczos run, a third derivative (≈ 2
/// Hessian-vector products) and a gradient.
public final class CentralFlowIntegrator {
    public let risk: DifferentiableRisk
    public let settings: SolverSettings
    public let central: CentralFlowSettings
    let geometry: EdgeGeometry

    /// - Throws: `GradFlowError.invalidConfiguration` when the model has no exact third derivative.
    public init(network: Network, problem: RegressionProblem, settings: SolverSettings, central: CentralFlowSettings, seed: UInt64 = 0) throws {
        guard let own = RiskFactory.makeRisk(network: network, problem: problem) as? any ThirdOrderDifferentiableRisk else {
            throw GradFlowError.invalidConfiguration(field: .centralLearningRate, value: "\(central.learningRate)",
                                                     reason: "the \(network.modelDescription) has no exact third derivative")
        }
        risk = RiskFactory.makeRisk(network: network, problem: problem)
        self.settings = settings
        self.central = central
        geometry = EdgeGeometry(risk: own, threshold: central.threshold, seed: seed)
    }

    /// S(θ) = λ_max(H(θ)) by the flow's own Lanczos (both top pairs to 1e-12 relative).
    public func sharpness(at weights: [Double]) throws -> Double {
        let p = weights.withUnsafeBufferPointer { geometry.point(at: $0, gradients: false) }
        if let failure = geometry.failure { throw failure }
        return p.sharpness
    }

    /// Runs the central flow from θ(0) at t = 0 over `schedule`, calling `observe` at t = 0 and at every output
    /// time with the weights, the risk and the central flow's own quantities there.
    /// - Throws: what `GradientFlowIntegrator.integrate` throws, or what `observe` throws.
    public func integrate(
        from initialWeights: [Double], schedule: OutputSchedule, lossTolerance: Double?, events: (any TrajectoryEvents)? = nil,
        shouldStop: @escaping () -> Bool = { false },
        observe: (_ time: Double, _ weights: UnsafeBufferPointer<Double>, _ evaluation: RiskEvaluation, _ row: CentralFlowRow) throws -> Void
    ) throws -> CentralFlowResult {
        let initialSharpness = try sharpness(at: initialWeights)
        var phase = CentralFlowPhase.stable
        var weights = initialWeights, time = 0.0, observesStart = true
        var switches: [CentralFlowSwitch] = []
        var statistics = SolverStatistics()
        var largestResidual = 0.0
        let times = Set(schedule.times())
        var explicit = settings
        explicit.method = .erk
        while true {
            let phaseEvents = CentralFlowEvents(monitors: events, phase: phase, geometry: geometry, gapTolerance: central.gapTolerance)
            let integrator = phase == .stable
                ? GradientFlowIntegrator(risk: risk, settings: settings)
                : GradientFlowIntegrator(risk: risk, settings: explicit, field: CentralFlowField(geometry: geometry, learningRate: central.learningRate))
            let current = phase
            var stop: StopReason
            var result: GradientFlowResult
            if current == .edge, CentralFlowEvents.gap(weights.withUnsafeBufferPointer { geometry.point(at: $0, gradients: false) },
                                                       tolerance: central.gapTolerance) <= 0 {
                // Already degenerate where the edge phase would begin.
                let evaluation = risk.evaluate(at: weights)
                result = GradientFlowResult(finalTime: time, finalWeights: weights, finalEvaluation: evaluation, stopReason: .event,
                                            statistics: SolverStatistics(), samples: 0)
                stop = .multipleEigenvalues
            } else {
                result = try integrator.integrate(from: weights, startTime: time, observesStart: observesStart, schedule: schedule,
                                                  lossTolerance: lossTolerance, events: phaseEvents, shouldStop: shouldStop) { t, w, e in
                    let row = self.row(w, evaluation: e, phase: current)
                    if current == .edge { largestResidual = max(largestResidual, abs(row.constraintResidual)) }
                    try observe(t, w, e, row)
                }
                statistics.add(result.statistics)
                if let failure = geometry.failure { throw failure }
                stop = result.stopReason
                if stop == .event {
                    if phase == .edge, phaseEvents.crossed == 1 {
                        stop = .multipleEigenvalues
                    } else {
                        phase = phase == .stable ? .edge : .stable
                        switches.append(CentralFlowSwitch(time: result.finalTime, phase: phase))
                        weights = result.finalWeights
                        time = result.finalTime
                        observesStart = times.contains(time)  // an output time that the switch landed on exactly
                        continue
                    }
                }
            }
            let end = result.finalWeights.withUnsafeBufferPointer { geometry.point(at: $0, gradients: false) }
            return CentralFlowResult(finalTime: result.finalTime, finalWeights: result.finalWeights, finalEvaluation: result.finalEvaluation,
                                     stopReason: stop, finalPhase: phase, switches: switches, initialSharpness: initialSharpness,
                                     finalSharpness: end.sharpness, finalSecondEigenvalue: end.secondEigenvalue, statistics: statistics,
                                     largestConstraintResidual: largestResidual, lanczosRuns: geometry.lanczosRuns,
                                     lanczosProducts: geometry.lanczosProducts, thirdDerivatives: geometry.thirdDerivatives)
        }
    }

    /// The central flow's quantities at an output row of `phase`.
    func row(_ weights: UnsafeBufferPointer<Double>, evaluation: RiskEvaluation, phase: CentralFlowPhase) -> CentralFlowRow {
        let p = geometry.point(at: weights, gradients: phase == .edge)
        let sigma2 = phase == .edge ? EdgeGeometry.sigmaSquared(p) : 0
        return CentralFlowRow(phase: phase, sharpness: p.sharpness, secondEigenvalue: p.secondEigenvalue, sigmaSquared: sigma2,
                              constraintResidual: p.sharpness - geometry.threshold,
                              averagedLoss: evaluation.loss + sigma2 / central.learningRate)
    }
}
