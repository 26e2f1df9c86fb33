/// `gradflow descent` end to end: a gradient-descent run through the shared pipeline.
public typealias GradientDescentRun = RunPipeline<GradientDescentDynamics>
/// The outcome of `gradflow descent`, for the summary.
public typealias GradientDescentRunSummary = RunSummary<GradientDescentResult>

extension RunSummary where Result == GradientDescentResult {
    /// The descent's settings (η, the most steps, the divergence factor).
    public var settings: DescentSettings { result.settings }
    /// A one-line account of the divergence, when GD diverged.
    public var divergenceMessage: String? { stopReason == .diverged ? message : nil }
}

/// Gradient descent `θ ← θ − η∇R(θ)` (`GradientDescent`) as the run pipeline runs it: time t = kη, a
/// `/trajectory/step` column, and the step and accumulated drift in every resume record, so that a resumed
/// run is bit-identical to the uninterrupted one. Divergence is an outcome: the file is closed with
/// `status = diverged` and the step.
public struct GradientDescentDynamics: TrajectoryDynamics {
    /// θ and, for a resumed run, the step, drift and divergence level it continues with (nil: from θ(0)).
    public struct Start {
        public var weights: [Double]
        public var continuing: GradientDescent.Start?
    }

    public static let method = TrajectoryLayout.Method.descent
    private let configuration: RunConfiguration
    private let settings: DescentSettings
    private let descent: GradientDescent
    private let trackDrift: Bool
    private let initialWeights: [Double]

    public init(configuration: RunConfiguration, setup: RunSetup) throws {
        guard let settings = configuration.descent else { throw Self.missingLearningRate(resuming: nil) }
        self.configuration = configuration
        self.settings = settings
        descent = GradientDescent(risk: RiskFactory.makeRisk(network: setup.network, problem: setup.problem),
                                  shape: setup.network.shape, settings: settings)
        trackDrift = configuration.monitors.conservation && setup.network.hasConservationLaw
        initialWeights = setup.initialWeights
    }

    public static func check(_ configuration: RunConfiguration, resuming file: String?) throws {
        if configuration.descent == nil { throw missingLearningRate(resuming: file) }
    }

    private static func missingLearningRate(resuming file: String?) -> GradFlowError {
        if let file { return GradFlowError.invalidData(file: file, field: "config", reason: "has no learning rate") }
        return GradFlowError.invalidConfiguration(field: .learningRate, value: "(none)", reason: "gradient descent needs a learning rate")
    }

    public static func checkResumable(_ file: TrajectoryFile) throws {
        let path = file.path
        guard file.attribute(TrajectoryLayout.Root.method) == method else {
            throw GradFlowError.invalidConfiguration(field: .resumePath, value: "\(path)",
                                                reason: "is not a gradient-descent run (method = \(file.attribute(TrajectoryLayout.Root.method)))")
        }
        guard let status = file.status, status != .completed, status != .diverged else {
            throw GradFlowError.invalidConfiguration(field: .resumePath, value: "\(path)",
                                                reason: "the run ended (\(file.attribute(TrajectoryLayout.Root.status))); there is nothing to resume")
        }
    }

    public var monitorDynamics: MonitorSuite.Dynamics { .descent(learningRate: settings.learningRate) }
    public var extraColumns: [TrajectoryColumn] { [.scalar(TrajectoryLayout.Trajectory.step, "gradient-descent step k")] }
    public var initialResumeExtras: [Double] { [0] + [Double](repeating: 0, count: driftCount) }
    public var horizon: Double { Double(settings.steps) * settings.learningRate }
    public var initialStart: Start { Start(weights: initialWeights, continuing: nil) }
    private var driftCount: Int { trackDrift ? descent.driftCount : 0 }

    /// The recorded step and drift, checked against the network; R(θ(0)) is recomputed for the divergence level.
    public func start(resuming state: ResumeState, file path: String) throws -> Start {
        guard state.row >= 0 else { return initialStart }
        let parameters = descent.shape.parameterCount
        guard state.weights.count == parameters, state.weights.allSatisfy(\.isFinite),
              state.extras.count == 1 + driftCount, let step = Int(exactly: state.extras[0]), (0...settings.steps).contains(step) else {
            throw GradFlowError.invalidData(file: path, field: "/resume/state",
                                            reason: "does not hold a descent state for this network (P = \(parameters))")
        }
        return Start(weights: state.weights,
                     continuing: GradientDescent.Start(step: step, drift: Array(state.extras.dropFirst()),
                                                       initialLoss: descent.risk.evaluate(at: initialWeights).loss))
    }

    /// The descent (cost: that of `GradientDescent.run`, plus copying the drift at every output step when tracked).
    public func run(from start: Start, events: (any TrajectoryEvents)?, shouldStop: @escaping () -> Bool,
                    record: (TrajectoryRow) throws -> Void) throws -> TrajectoryOutcome<GradientDescentResult> {
        let outputSteps = settings.outputSteps(count: configuration.schedule.count, spacing: configuration.schedule.spacing)
        let result = try descent.run(from: start.weights, start: start.continuing, outputSteps: outputSteps,
                                     lossTolerance: configuration.lossTolerance, trackDrift: trackDrift,
                                     events: events, shouldStop: shouldStop) { k, t, theta, evaluation, drift in
            try record(TrajectoryRow(time: t, weights: theta, evaluation: evaluation, step: k, columns: ["step": [Double(k)]],
                                     predictedDrift: drift, resumeExtras: [Double(k)] + (drift.map(Array.init) ?? [])))
        }
        var solver: [(String, AttributeValue)] = [
            (TrajectoryLayout.Solver.integrator, .string("gradient descent")), ("lr", .double(settings.learningRate)), ("steps", .integer(result.steps)),
            ("max_steps", .integer(settings.steps)), (TrajectoryLayout.Solver.stopReason, .string(result.stopReason.rawValue)),
            (TrajectoryLayout.Solver.finalTime, .double(result.finalTime)), ("seconds_per_step", .double(result.secondsPerStep)),
        ]
        let message: String
        var status = RunStatus.completed
        switch result.stopReason {
        case .lossTolerance:
            message = "R − R_min reached \(configuration.lossTolerance ?? 0) at step \(result.steps) (t = \(result.finalTime))"
        case .horizon, .event, .multipleEigenvalues, .stationary:  // descent has no terminal events
            message = "took all \(result.steps) steps (t = \(result.finalTime))"
        case .diverged:
            status = .diverged
            solver.append(("divergence_step", .integer(result.steps)))
            message = "gradient descent diverged at step \(result.steps) (t = \(result.finalTime)) with η = \(settings.learningRate): "
                + "R − R_min exceeded \(settings.divergenceFactor)·max(R(0), 1) or became non-finite"
        }
        return TrajectoryOutcome(result: result, finalTime: result.finalTime, finalWeights: result.finalWeights,
                                 finalEvaluation: result.finalEvaluation, stopReason: result.stopReason, status: status,
                                 message: message, solverAttributes: solver)
    }

    public func failureAttributes(after error: GradFlowError, wallTime: Double) -> [(String, AttributeValue)] {
        [(TrajectoryLayout.Solver.integrator, .string("gradient descent")), ("lr", .double(settings.learningRate))]
    }
}
