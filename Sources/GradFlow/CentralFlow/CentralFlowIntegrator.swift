/// The outcome of a central-flow integration.
public struct CentralFlowResult: Sendable {
    public var finalTime: Double
    public var finalWeights: [Double]
    public var finalEvaluation: RiskEvaluation
    /// `.lossTolerance`, `.horizon`, `.multipleEigenvalues` (the edge phase reached λ_2 ≈ λ_1) or `.stationary`
    /// (a stationary point of R on S = 2/η).
    public var stopReason: StopReason
    /// The phase at the start and at the end.
    public var initialPhase: CentralFlowPhase
    public var finalPhase: CentralFlowPhase
    /// Every switch, in time order.
    public var switches: [CentralFlowSwitch]
    /// S(θ(0)), and S and λ_2 at the end.
    public var initialSharpness: Double
    public var finalSharpness: Double
    public var finalSecondEigenvalue: Double
    /// The counters of all phases' integrations, summed.
    public var statistics: SolverStatistics
    /// The largest |S − 2/η| over the edge phase's output rows (NaN if no row was in the edge phase).
    public var largestConstraintResidual: Double
    /// The spectral work: warm-started Lanczos runs (root functions, edge right-hand sides, rows, λ_2), their
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
///   Baumgarte term, at the run's tolerances;
/// - the phase above 2/η (a start there with `allowCatapult`, or a constraint lost at a loose tolerance) is
///   gradient flow labelled as outside the flow's scope.
/// The phase changes where S − 2/η crosses 0 upward (enter) and where ⟨∇S, ∇R⟩ crosses 0 upward (leave). At the
/// edge the run stops with `.multipleEigenvalues` where λ_1 − λ_2 falls to `gapTolerance·λ_1`, and with
/// `.stationary` where ‖Π∇R‖² falls to the loss tolerance; both stops record a row there.
///
/// Cost: the stable phase costs gradient flow's plus one warm-started Lanczos run per root-function
/// evaluation (one per step); each edge-phase right-hand side costs a Lanczos run, a third derivative (≈ 2
/// Hessian-vector products) and a gradient, and each edge step's root functions a Lanczos run for λ_2.
public final class CentralFlowIntegrator {
    public let risk: DifferentiableRisk
    public let settings: SolverSettings
    public let central: CentralFlowSettings
    let geometry: EdgeGeometry
    /// Consecutive switches closer than this (relative) in time end the run as chattering, not loop forever.
    static let chatteringLimit = 100

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

    /// The relative slack of S = 2/η at this run's tolerance (`CentralFlowSettings.constraintSlack`).
    public var slack: Double { CentralFlowSettings.constraintSlack(relativeTolerance: settings.relativeTolerance) }

    /// S(θ) = λ_max(H(θ)) by the flow's own Lanczos (top pair to 1e-12 relative).
    public func sharpness(at weights: [Double]) throws -> Double {
        let p = weights.withUnsafeBufferPointer { geometry.point(at: $0, gradients: false) }
        if let failure = geometry.failure { throw failure }
        return p.sharpness
    }

    /// The phase at θ: above when S > 2/η(1 + slack); edge when S is within the slack of 2/η and gradient flow
    /// would sharpen (⟨∇S, ∇R⟩ < 0); stable otherwise.
    func phase(at weights: [Double]) -> CentralFlowPhase {
        let threshold = central.threshold
        let p = weights.withUnsafeBufferPointer { geometry.point(at: $0, gradients: true) }
        if p.sharpness > threshold * (1 + slack) { return .above }
        return p.sharpness >= threshold * (1 - slack) && p.alignment < 0 ? .edge : .stable
    }

    /// Runs the central flow from θ(0) at t = 0 over `schedule`, calling `observe` at t = 0, at every output
    /// time, and at a stop on multiple eigenvalues or stationarity, with the weights, the risk and the central
    /// flow's own quantities there.
    /// - Throws: what `GradientFlowIntegrator.integrate` throws, or what `observe` throws.
    public func integrate(
        from initialWeights: [Double], schedule: OutputSchedule, lossTolerance: Double?, events: (any TrajectoryEvents)? = nil,
        shouldStop: @escaping () -> Bool = { false },
        observe: (_ time: Double, _ weights: UnsafeBufferPointer<Double>, _ evaluation: RiskEvaluation, _ row: CentralFlowRow) throws -> Void
    ) throws -> CentralFlowResult {
        geometry.shouldStop = shouldStop
        let initialSharpness = try sharpness(at: initialWeights)
        let initialPhase = phase(at: initialWeights)
        if let failure = geometry.failure { throw failure }
        var phase = initialPhase
        var weights = initialWeights, time = 0.0, observesStart = true
        var switches: [CentralFlowSwitch] = []
        var statistics = SolverStatistics()
        var largestResidual = Double.nan
        var lastObserved = -Double.infinity
        var chattering = 0
        let times = Set(schedule.times())
        var explicit = settings
        explicit.method = .erk
        let stationaryTolerance = lossTolerance.flatMap { $0 > 0 ? $0 : nil }
        func record(_ t: Double, _ w: UnsafeBufferPointer<Double>, _ e: RiskEvaluation, _ current: CentralFlowPhase) throws {
            let row = self.row(w, evaluation: e, phase: current)
            if current == .edge { largestResidual = max(largestResidual.isNaN ? 0 : largestResidual, abs(row.constraintResidual)) }
            try observe(t, w, e, row)
            lastObserved = t
        }
        while true {
            let phaseEvents = CentralFlowEvents(monitors: events, phase: phase, geometry: geometry, gapTolerance: central.gapTolerance,
                                                stationaryTolerance: stationaryTolerance)
            let integrator = phase == .edge
                ? GradientFlowIntegrator(risk: risk, settings: explicit, field: CentralFlowField(geometry: geometry, learningRate: central.learningRate))
                : GradientFlowIntegrator(risk: risk, settings: settings)
            let current = phase
            var stop: StopReason
            let result: GradientFlowResult
            let degenerate = current == .edge
                && CentralFlowEvents.gap(weights.withUnsafeBufferPointer { geometry.point(at: $0, gradients: false, second: true) },
                                         tolerance: central.gapTolerance) <= 0
            if let failure = geometry.failure { throw failure }
            if degenerate {  // already degenerate where the edge phase would begin
                // The stop's own row, where the run ended (unless that time is on file already).
                let evaluation = risk.evaluate(at: weights)
                if time > lastObserved { try weights.withUnsafeBufferPointer { try record(time, $0, evaluation, current) } }
                result = GradientFlowResult(finalTime: time, finalWeights: weights, finalEvaluation: evaluation,
                                            stopReason: .event, statistics: SolverStatistics(), samples: 0)
                stop = .multipleEigenvalues
            } else {
                result = try integrator.integrate(from: weights, startTime: time, observesStart: observesStart, schedule: schedule,
                                                  lossTolerance: lossTolerance, events: phaseEvents, shouldStop: shouldStop) { t, w, e in
                    try record(t, w, e, current)
                }
                statistics.add(result.statistics)
                if let failure = geometry.failure { throw failure }
                stop = result.stopReason
                if stop == .event, let kind = phaseEvents.crossed {
                    switch kind {
                    case .multipleEigenvalues: stop = .multipleEigenvalues
                    case .stationary: stop = .stationary
                    case .enterEdge, .sharpenAbove, .leaveEdge, .fallBelow:
                        switch kind {
                        case .enterEdge, .sharpenAbove: phase = .edge
                        case .fallBelow: phase = .stable
                        default: phase = self.phase(at: result.finalWeights) == .above ? .above : .stable
                        }
                        chattering = result.finalTime - time <= 1e-12 * max(1, abs(time)) ? chattering + 1 : 0
                        if chattering >= Self.chatteringLimit {
                            throw GradFlowError.solver(flagName: "CENTRAL_FLOW_CHATTERING", flag: -101, time: result.finalTime,
                                                       message: "the central flow switched phase \(Self.chatteringLimit) times without moving at t = \(result.finalTime)")
                        }
                        switches.append(CentralFlowSwitch(time: result.finalTime, phase: phase))
                        weights = result.finalWeights
                        time = result.finalTime
                        observesStart = times.contains(time)  // an output time that the switch landed on exactly
                        continue
                    }
                    // The stop's own row: where the run ended, which is no output time.
                    if result.finalTime > lastObserved {
                        try result.finalWeights.withUnsafeBufferPointer { try record(result.finalTime, $0, result.finalEvaluation, current) }
                    }
                }
            }
            let end = result.finalWeights.withUnsafeBufferPointer { geometry.point(at: $0, gradients: false, second: true) }
            return CentralFlowResult(finalTime: result.finalTime, finalWeights: result.finalWeights, finalEvaluation: result.finalEvaluation,
                                     stopReason: stop, initialPhase: initialPhase, finalPhase: current, switches: switches,
                                     initialSharpness: initialSharpness, finalSharpness: end.sharpness,
                                     finalSecondEigenvalue: end.secondEigenvalue, statistics: statistics,
                                     largestConstraintResidual: largestResidual, lanczosRuns: geometry.lanczosRuns,
                                     lanczosProducts: geometry.lanczosProducts, thirdDerivatives: geometry.thirdDerivatives)
        }
    }

    /// The central flow's quantities at an output row of `phase`.
    func row(_ weights: UnsafeBufferPointer<Double>, evaluation: RiskEvaluation, phase: CentralFlowPhase) -> CentralFlowRow {
        let p = geometry.point(at: weights, gradients: phase == .edge, second: true)
        let sigma2 = phase == .edge ? p.sigmaSquared : 0
        return CentralFlowRow(phase: phase, sharpness: p.sharpness, secondEigenvalue: p.secondEigenvalue, sigmaSquared: sigma2,
                              constraintResidual: p.sharpness - geometry.threshold,
                              averagedLoss: evaluation.loss + sigma2 / central.learningRate)
    }
}
