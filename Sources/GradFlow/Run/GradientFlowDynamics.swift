/// `gradflow run` end to end: a gradient-flow run through the shared pipeline.
public typealias GradientFlowRun = RunPipeline<GradientFlowDynamics>
/// The outcome of `gradflow run`, for the summary.
public typealias GradientFlowRunSummary = RunSummary<GradientFlowResult>

/// Gradient flow `dθ/dt = −∇R(θ)` integrated by CVODE or ARKODE (`GradientFlowIntegrator`), recording every
/// output time of the schedule, as the run pipeline runs it. A resumed run restarts the integrator at
/// order 1 from the resume point: its final weights agree with an uninterrupted run's to the tolerance.
public struct GradientFlowDynamics: TrajectoryDynamics {
    /// θ at `time`; `observesStart`: whether that point is still to be recorded.
    public struct Start {
        public var weights: [Double]
        public var time: Double
        public var observesStart: Bool
    }

    public static let method = TrajectoryLayout.Method.flow
    private let configuration: RunConfiguration
    private let integrator: GradientFlowIntegrator
    private let initialWeights: [Double]

    public init(configuration: RunConfiguration, setup: RunSetup) {
        self.configuration = configuration
        integrator = GradientFlowIntegrator(risk: RiskFactory.makeRisk(network: setup.network, problem: setup.problem),
                                            settings: configuration.solver)
        initialWeights = setup.initialWeights
    }

    public static func check(_ configuration: RunConfiguration, resuming file: String?) throws {}

    public static func checkResumable(_ file: TrajectoryFile) throws {
        let path = file.path
        guard file.attribute(TrajectoryLayout.Root.method) == method else {
            throw GradFlowError.invalidConfiguration(field: .resumePath, value: "\(path)",
                                                reason: "only gradient-flow runs can be resumed (method = \(file.attribute(TrajectoryLayout.Root.method)))")
        }
        guard let status = file.status, status != .completed else {
            throw GradFlowError.invalidConfiguration(field: .resumePath, value: "\(path)", reason: "the run completed; there is nothing to resume")
        }
    }

    public var monitorDynamics: MonitorSuite.Dynamics { .flow(relativeTolerance: configuration.solver.relativeTolerance) }
    public var extraColumns: [TrajectoryColumn] { [] }
    public var initialResumeExtras: [Double] { [] }
    public var horizon: Double { configuration.schedule.tFinal }
    public var initialStart: Start { Start(weights: initialWeights, time: 0, observesStart: true) }

    public func start(resuming state: ResumeState, file path: String) throws -> Start {
        let weights = state.weights, parameters = integrator.risk.parameterCount
        guard weights.count == parameters, weights.allSatisfy(\.isFinite) else {
            throw GradFlowError.invalidData(file: path, field: "/resume/weights",
                                            reason: "has \(weights.count) values (finite: \(weights.allSatisfy(\.isFinite))), the network has P = \(parameters)")
        }
        return Start(weights: weights, time: state.time, observesStart: state.row < 0)
    }

    /// The integration (cost: that of `GradientFlowIntegrator.integrate`, plus copying θ at every output time).
    public func run(from start: Start, events: (any TrajectoryEvents)?, shouldStop: @escaping () -> Bool,
                    record: (TrajectoryRow) throws -> Void) throws -> TrajectoryOutcome<GradientFlowResult> {
        let result = try integrator.integrate(from: start.weights, startTime: start.time, observesStart: start.observesStart,
                                              schedule: configuration.schedule, lossTolerance: configuration.lossTolerance,
                                              events: events, shouldStop: shouldStop) { t, weights, evaluation in
            try record(TrajectoryRow(time: t, weights: Array(weights), evaluation: evaluation))
        }
        let message = result.stopReason == .lossTolerance
            ? "R − R_min reached \(configuration.lossTolerance ?? 0) at t = \(result.finalTime)"
            : "reached t-final = \(result.finalTime)"
        return TrajectoryOutcome(result: result, finalTime: result.finalTime, finalWeights: result.finalWeights,
                                 finalEvaluation: result.finalEvaluation, stopReason: result.stopReason, status: .completed,
                                 message: message,
                                 solverAttributes: solverAttributes + result.statistics.namedValues
                                    + [(TrajectoryLayout.Solver.stopReason, .string(result.stopReason.rawValue)),
                                       (TrajectoryLayout.Solver.finalTime, .double(result.finalTime))])
    }

    public func failureAttributes(after error: GradFlowError, wallTime: Double) -> [(String, AttributeValue)] {
        Self.integrationFailureAttributes(solverAttributes, after: error, wallTime: wallTime)
    }

    /// The integrator and its tolerances, first in `/solver` whatever the outcome.
    private var solverAttributes: [(String, AttributeValue)] {
        let solver = configuration.solver
        return [(TrajectoryLayout.Solver.integrator, .string(solver.method.solverDescription)),
                ("rtol", .double(solver.relativeTolerance)), ("atol", .double(solver.absoluteTolerance))]
    }
}
