import CSundials

/// One recorded point of a trajectory.
public struct TrajectorySample: Sendable {
    public var time: Double
    public var evaluation: RiskEvaluation
}

/// The outcome of a gradient-flow integration.
public struct GradientFlowResult: Sendable {
    public var finalTime: Double
    public var finalWeights: [Double]
    public var finalEvaluation: RiskEvaluation
    public var stopReason: StopReason
    public var statistics: SolverStatistics
    /// The number of rows recorded, t = 0 included.
    public var samples: Int
}

/// Integrates gradient flow `dθ/dt = −∇R(θ)` with SUNDIALS CVODE (MATH.md §2.3), from t = 0 to the
/// horizon of an `OutputSchedule` or until `R − R_min ≤ lossTolerance`, whichever comes first.
///
/// At t = 0, at every output time and at the stopping time, it calls `observe` with the time, the
/// weights (CVODE's state, interpolated at that time) and the risk there. The observer may throw (an
/// output error, a cancellation), which ends the run with that error. The stopping time of the loss
/// tolerance is located by CVODE's root finding on `‖X(w − w*)‖²/n − tol`, not overshot.
public final class GradientFlowIntegrator {
    public let risk: DifferentiableRisk
    public let settings: SolverSettings
    /// The right-hand side in place of −∇R (nil: gradient flow). It needs an explicit method (`erk`): the
    /// implicit ones take −H as the Jacobian.
    public let field: (any VectorField)?

    public init(risk: DifferentiableRisk, settings: SolverSettings, field: (any VectorField)? = nil) {
        self.risk = risk
        self.settings = settings
        self.field = field
    }

    /// Runs the integration.
    /// - Parameters:
    ///   - initialWeights: θ(0), P entries.
    ///   - schedule: the output times and the horizon.
    ///   - lossTolerance: stop when R − R_min ≤ this; nil to run to the horizon.
    ///   - observe: called at every recorded time, in increasing time order.
    /// - Throws: `GradFlowError.invalidConfiguration` for bad settings, `.solver` when CVODE fails or the
    ///   state becomes non-finite, or whatever `observe` throws.
    ///   - startTime: the time of `initialWeights` (0, or the time a resumed run continues from). Only the
    ///     schedule's later times are recorded.
    ///   - observesStart: whether `startTime` itself is observed (default: when it is 0). A resumed run that
    ///     already recorded its t = 0 row passes false, so that no row is recorded twice.
    ///   - shouldStop: asked at every output time and between right-hand sides; true ends the run with
    ///     `GradFlowError.interrupted` at the last observed time.
    ///   - events: functions whose zero crossings are located by root finding (to the solver's tolerance) and
    ///     reported as they are found, between output times. A terminal one (`TrajectoryEvents.isTerminal`)
    ///     ends the integration at its crossing, which is not recorded as a row: the result's stop reason is
    ///     `.event` and its final time and weights are the crossing's.
    public func integrate(
        from initialWeights: [Double], startTime: Double = 0, observesStart: Bool? = nil, schedule: OutputSchedule, lossTolerance: Double?,
        events: (any TrajectoryEvents)? = nil, shouldStop: @escaping () -> Bool = { false },
        observe: (_ time: Double, _ weights: UnsafeBufferPointer<Double>, _ evaluation: RiskEvaluation) throws -> Void
    ) throws -> GradientFlowResult {
        try settings.validate()
        try schedule.validate()
        if field != nil, settings.method != .erk {
            throw GradFlowError.invalidConfiguration(field: .solverMethod, value: "\(settings.method.rawValue)",
                                                     reason: "a right-hand side other than −∇R needs the explicit method erk")
        }
        if let tol = lossTolerance, !(tol.isFinite && tol >= 0) {
            throw GradFlowError.invalidConfiguration(field: .lossTolerance, value: "\(tol)", reason: "must be a finite number ≥ 0 (0: never stop on the loss)")
        }
        let lossTolerance = lossTolerance == 0 ? nil : lossTolerance  // 0: never stop on the loss
        guard initialWeights.count == risk.parameterCount else {
            throw GradFlowError.invalidConfiguration(field: .initWeightsFile, value: "\(initialWeights.count) weights",
                                                reason: "the network has P = \(risk.parameterCount) parameters")
        }
        if let i = initialWeights.firstIndex(where: { !$0.isFinite }) {
            throw GradFlowError.invalidConfiguration(field: .initWeightsFile, value: "\(initialWeights[i])",
                                                reason: "weight \(i) is not finite")
        }

        let initial = risk.evaluate(at: initialWeights)
        guard initial.loss.isFinite else {
            throw GradFlowError.invalidConfiguration(field: .initWeightsFile, value: "R(W(0)) = \(initial.loss)",
                                                reason: "the initial loss is not finite")
        }
        let observesStart = observesStart ?? (startTime == 0)
        if observesStart { try initialWeights.withUnsafeBufferPointer { try observe(startTime, $0, initial) } }
        if let tol = lossTolerance, initial.excessRisk <= tol {
            return GradientFlowResult(finalTime: startTime, finalWeights: initialWeights, finalEvaluation: initial,
                                      stopReason: .lossTolerance, statistics: SolverStatistics(), samples: observesStart ? 1 : 0)
        }
        guard startTime < schedule.tFinal else {
            return GradientFlowResult(finalTime: startTime, finalWeights: initialWeights, finalEvaluation: initial,
                                      stopReason: .horizon, statistics: SolverStatistics(), samples: 0)
        }

        let ode = GradientFlowODE(risk: risk, lossTolerance: lossTolerance ?? 0, hasLossRoot: lossTolerance != nil, events: events,
                                  field: field, shouldStop: shouldStop)
        let switching = settings.method == .auto
        var session: ODESession? = try makeSession(switching ? .erk : settings.method, ode: ode, initial: initialWeights,
                                                   startTime: startTime, tFinal: schedule.tFinal)
        var earlier = SolverStatistics()  // the counters of a session already closed (auto: the explicit part)
        var switchTime: Double?
        var stepsAtLastCheck = 0
        let times = schedule.times().filter { $0 > startTime }
        var samples = observesStart ? 1 : 0
        var reason = StopReason.horizon
        var last = initial
        var lastTime = startTime
        var terminal: (time: Double, weights: [Double])?
        try withExtendedLifetime(ode) {
            outputs: for tout in times {
                if shouldStop() { throw GradFlowError.interrupted(time: lastTime) }
                var t = lastTime, outcome = ODEOutcome.reached
                let stepsAtOutput = session!.statistics.steps
                repeat {
                    do {
                        (t, outcome) = try session!.advance(to: tout)
                    } catch let error as GradFlowError where shouldStop() {
                        _ = error
                        throw GradFlowError.interrupted(time: lastTime)
                    }
                    // An event was reported by the session (`rootOutcome`); the integration goes on to tout unless
                    // the event is terminal.
                    if case let .event(indices) = outcome, let events, indices.contains(where: { events.isTerminal($0) }) {
                        terminal = (t, Array(UnsafeBufferPointer(ode.buffer(session!.state))))
                        break outputs
                    }
                    guard switching, switchTime == nil, outcome != .root, let explicit = session as? ERKStepSession else { continue }
                    let steps = explicit.statistics.steps
                    // `solver.maxSteps` counts the steps between two output times, as SUNDIALS' mxstep does.
                    if outcome == .stepBudget, steps - stepsAtOutput >= settings.maxSteps {
                        throw GradFlowError.solver(flagName: "ARK_TOO_MUCH_WORK", flag: Int(ARK_TOO_MUCH_WORK), time: t,
                                                   message: "at t = \(t), mxstep steps taken before reaching tout")
                    }
                    // Auto: every `stiffnessCheckSteps` explicit steps, switch to BDF once the explicit steps
                    // are held down by stability (h·S beyond the stiffness threshold) rather than accuracy.
                    guard steps - stepsAtLastCheck >= Self.stiffnessCheckSteps else { continue }
                    stepsAtLastCheck = steps
                    let weights = Array(UnsafeBufferPointer(ode.buffer(explicit.state)))
                    if try isStiff(at: weights, stepSize: explicit.lastStepSize) {
                        earlier = explicit.statistics
                        session = nil  // free the explicit stepper's vectors first
                        session = try makeSession(.bdfKrylov, ode: ode, initial: weights, startTime: t, tFinal: schedule.tFinal)
                        switchTime = t
                        if outcome == .reached, t < tout { outcome = .stepBudget }
                    }
                } while outcome == .stepBudget || (outcome.isEvent && t < tout)
                let weights = UnsafeBufferPointer(ode.buffer(session!.state))
                last = risk.evaluate(at: weights)
                lastTime = t
                guard last.loss.isFinite, last.gradientNormSquared.isFinite else {
                    throw GradFlowError.solver(flagName: "NON_FINITE_STATE", flag: -100, time: t,
                                               message: "the weights or the loss became non-finite")
                }
                try observe(t, weights, last)
                samples += 1
                if outcome == .root {
                    reason = .lossTolerance
                    break
                }
            }
        }
        var statistics = session!.statistics
        statistics.add(earlier)
        statistics.stiffnessSwitchTime = switchTime
        if let terminal {
            let evaluation = risk.evaluate(at: terminal.weights)
            return GradientFlowResult(finalTime: terminal.time, finalWeights: terminal.weights, finalEvaluation: evaluation,
                                      stopReason: .event, statistics: statistics, samples: samples)
        }
        let finalWeights = Array(UnsafeBufferPointer(ode.buffer(session!.state)))
        return GradientFlowResult(finalTime: lastTime, finalWeights: finalWeights, finalEvaluation: last,
                                  stopReason: reason, statistics: statistics, samples: samples)
    }

    /// Explicit steps between two stiffness checks of `auto`. A check costs `stiffnessProbeIterations`
    /// Hessian-vector products, about the cost of 2 explicit steps: at most 1% of the explicit work.
    static let stiffnessCheckSteps = 200
    static let stiffnessProbeIterations = 12
    /// `auto` switches to BDF when h·S exceeds this: Dormand–Prince's stability interval on the negative
    /// real axis ends near −3.3, and a stability-limited step controller hovers close to that edge, while
    /// accuracy-limited steps on this ODE stay well inside it.
    static let stiffnessThreshold = 2.0

    /// Whether explicit steps of size `stepSize` are limited by stability at θ: h · S ≥ threshold, with S
    /// from a short Lanczos run on exact Hessian-vector products (a lower estimate of λ_max, so the test
    /// errs towards staying explicit).
    private func isStiff(at weights: [Double], stepSize: Double) throws -> Bool {
        let probe = SharpnessEstimator(risk: risk, tolerance: 1e-2, maxIterations: Self.stiffnessProbeIterations)
        let estimate = try probe.lanczos(at: weights)
        return stepSize * estimate.lambdaMax >= Self.stiffnessThreshold
    }

    private func makeSession(_ method: IntegrationMethod, ode: GradientFlowODE, initial: [Double], startTime: Double,
                             tFinal: Double) throws -> ODESession {
        switch method {
        case .erk, .auto:
            return try ERKStepSession(ode: ode, initial: initial, startTime: startTime, settings: settings, tFinal: tFinal,
                                      stepBudget: settings.method == .auto ? min(Self.stiffnessCheckSteps, settings.maxSteps) : nil)
        case .bdfKrylov, .bdfDense, .adams:
            var cvode = settings
            cvode.method = method
            return try CVodeSession(ode: ode, initial: initial, startTime: startTime, settings: cvode, tFinal: tFinal)
        }
    }
}
