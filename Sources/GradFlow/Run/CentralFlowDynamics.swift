/// `gradflow run --central-lr η` end to end: a central-flow run through the shared pipeline.
public typealias CentralFlowRun = RunPipeline<CentralFlowDynamics>

/// The central flow of gradient descent at learning rate η (MATH.md §11; `CentralFlowIntegrator`), as the run
/// pipeline runs it. Beside the loss, every row records the phase, S and λ_2, σ², the constraint residual
/// S − 2/η and the predicted time-averaged loss of descent; `/solver` records every switch time.
///
/// A new run is refused when S(0) > 2/η (descent would first catapult, which the central flow does not
/// describe) unless `allowCatapult` is set. Central-flow runs are not resumable: a killed run's partial file
/// keeps its rows, and the run starts again from t = 0.
public struct CentralFlowDynamics: TrajectoryDynamics {
    public static let method = TrajectoryLayout.Method.central
    private let configuration: RunConfiguration
    private let settings: CentralFlowSettings
    private let integrator: CentralFlowIntegrator
    private let initialWeights: [Double]
    /// S(θ(0)), computed when the run is set up.
    public let initialSharpness: Double
    /// Whether S(0) > 2/η beyond the constraint's slack: a start outside the flow's scope (a catapult).
    public let startsAbove: Bool

    public init(configuration: RunConfiguration, setup: RunSetup) throws {
        guard let settings = configuration.central else {
            throw GradFlowError.invalidConfiguration(field: .centralLearningRate, value: "none", reason: "a central-flow run needs the learning rate η")
        }
        self.configuration = configuration
        self.settings = settings
        integrator = try CentralFlowIntegrator(network: setup.network, problem: setup.problem, settings: configuration.solver,
                                               central: settings, seed: configuration.seed)
        initialWeights = setup.initialWeights
        initialSharpness = try integrator.sharpness(at: initialWeights)
        startsAbove = initialSharpness > settings.threshold * (1 + integrator.slack)
        if startsAbove, !settings.allowCatapult {
            throw GradFlowError.invalidConfiguration(
                field: .centralLearningRate, value: "\(settings.learningRate)",
                reason: "S(0) = \(String(printf: "%.10g", initialSharpness)) > 2/η = \(String(printf: "%.10g", settings.threshold)) (beyond the slack \(String(printf: "%.2g", integrator.slack)) of the constraint): descent would first catapult, which the central flow does not describe (\(field: .centralAllowCatapult) starts it as gradient flow anyway)")
        }
    }

    public static func check(_ configuration: RunConfiguration, resuming file: String?) throws {
        guard configuration.central != nil else {
            throw GradFlowError.invalidConfiguration(field: .centralLearningRate, value: "none", reason: "a central-flow run needs the learning rate η")
        }
    }

    public static func checkResumable(_ file: TrajectoryFile) throws {
        throw GradFlowError.invalidConfiguration(field: .resumePath, value: "\(file.path)",
                                                 reason: "central-flow runs cannot be resumed yet; its rows so far stay in this file: move it away and run the command again")
    }

    public var monitorDynamics: MonitorSuite.Dynamics {
        .central(relativeTolerance: configuration.solver.relativeTolerance, learningRate: settings.learningRate,
                 startsAbove: startsAbove)
    }

    /// The `/trajectory` columns of the central flow.
    public enum Column {
        public static let phase = "central_phase"
        public static let sharpness = "central_sharpness"
        public static let secondEigenvalue = "central_lambda2"
        public static let sigmaSquared = "central_sigma2"
        public static let constraint = "central_constraint"
        public static let averagedLoss = "central_averaged_loss"
    }

    public var extraColumns: [TrajectoryColumn] {
        [.scalar(Column.phase, "central-flow phase: 0 stable (S < 2/η, gradient flow), 1 edge (S = 2/η)"),
         .scalar(Column.sharpness, "S = λ_1(H) by Lanczos (both top pairs to 1e-12 relative)"),
         .scalar(Column.secondEigenvalue, "λ_2(H), the second eigenvalue"),
         .scalar(Column.sigmaSquared, "σ² = −2⟨∇S, ∇R⟩/‖∇S‖² at the edge (0 in the stable phase)"),
         .scalar(Column.constraint, "S − 2/η: the edge phase's constraint residual"),
         .scalar(Column.averagedLoss, "predicted time-averaged loss of descent, R + σ²/η")]
    }

    public var initialResumeExtras: [Double] { [] }
    public var horizon: Double { configuration.schedule.tFinal }
    public var initialStart: [Double] { initialWeights }

    public func start(resuming state: ResumeState, file: String) throws -> [Double] {
        throw GradFlowError.invalidConfiguration(field: .resumePath, value: "\(file)", reason: "central-flow runs cannot be resumed yet")
    }

    /// The integration (cost: that of `CentralFlowIntegrator.integrate`, plus copying θ at every output time).
    public func run(from start: [Double], events: (any TrajectoryEvents)?, shouldStop: @escaping () -> Bool,
                    record: (TrajectoryRow) throws -> Void) throws -> TrajectoryOutcome<CentralFlowResult> {
        let result = try integrator.integrate(from: start, schedule: configuration.schedule, lossTolerance: configuration.lossTolerance,
                                              events: events, shouldStop: shouldStop) { t, weights, evaluation, c in
            try record(TrajectoryRow(time: t, weights: Array(weights), evaluation: evaluation,
                                     columns: [Column.phase: [Double(c.phase.rawValue)], Column.sharpness: [c.sharpness],
                                               Column.secondEigenvalue: [c.secondEigenvalue], Column.sigmaSquared: [c.sigmaSquared],
                                               Column.constraint: [c.constraintResidual], Column.averagedLoss: [c.averagedLoss]]))
        }
        let message: String
        switch result.stopReason {
        case .lossTolerance: message = "R − R_min reached \(configuration.lossTolerance ?? 0) at t = \(result.finalTime)"
        case .multipleEigenvalues:
            message = "multiple eigenvalues at 2/η: λ_1 − λ_2 ≤ \(settings.gapTolerance)·λ_1 at t = \(result.finalTime) (λ_1 = \(result.finalSharpness), λ_2 = \(result.finalSecondEigenvalue)); the single-eigenvalue central flow does not hold beyond"
        case .stationary:
            message = "stationary on S = 2/η: ‖Π∇R‖² ≤ \(configuration.lossTolerance ?? 0) at t = \(result.finalTime) (R − R_min = \(result.finalEvaluation.excessRisk))"
        default: message = "reached t-final = \(result.finalTime)"
        }
        let switches = result.switches
        return TrajectoryOutcome(
            result: result, finalTime: result.finalTime, finalWeights: result.finalWeights, finalEvaluation: result.finalEvaluation,
            stopReason: result.stopReason, status: .completed, message: message,
            solverAttributes: solverAttributes + result.statistics.namedValues + [
                (TrajectoryLayout.Solver.stopReason, .string(result.stopReason.rawValue)),
                (TrajectoryLayout.Solver.finalTime, .double(result.finalTime)),
                ("central_lr", .double(settings.learningRate)), ("central_threshold", .double(settings.threshold)),
                ("central_initial_sharpness", .double(result.initialSharpness)), ("central_final_sharpness", .double(result.finalSharpness)),
                ("central_initial_phase", .integer(result.initialPhase.rawValue)),
                ("central_final_phase", .integer(result.finalPhase.rawValue)), ("central_switches", .integer(switches.count)),
                ("central_max_constraint_residual", .double(result.largestConstraintResidual)),
                ("central_lanczos_runs", .integer(result.lanczosRuns)), ("central_lanczos_products", .integer(result.lanczosProducts)),
                ("central_third_derivatives", .integer(result.thirdDerivatives)),
            ] + (switches.isEmpty ? [] : [  // written only when there are switches (`central_switches` counts them)
                ("central_switch_times", .doubles(switches.map(\.time))),
                ("central_switch_phases", .integers(switches.map(\.phase.rawValue))),
            ]))
    }

    public func failureAttributes(after error: GradFlowError, wallTime: Double) -> [(String, AttributeValue)] {
        Self.integrationFailureAttributes(solverAttributes, after: error, wallTime: wallTime)
    }

    private var solverAttributes: [(String, AttributeValue)] {
        let solver = configuration.solver
        return [(TrajectoryLayout.Solver.integrator, .string("central flow: \(solver.method.solverDescription) while S < 2/η, explicit Dormand–Prince at the edge")),
                ("rtol", .double(solver.relativeTolerance)), ("atol", .double(solver.absoluteTolerance))]
    }
}
