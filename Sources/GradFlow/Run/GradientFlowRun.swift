import Foundation

/// What the executable is told while a run goes on.
public struct RunProgress: Sendable {
    public var time: Double
    public var tFinal: Double
    public var evaluation: RiskEvaluation
    public var rows: Int
    public var elapsed: Double
}

/// One recorded row, for callers that follow a run (`gradflow compare`): the time, the weights, the
/// risk, and the monitors' values keyed by their `/trajectory` column names.
public struct RecordedRow {
    public var time: Double
    public var weights: [Double]
    public var evaluation: RiskEvaluation
    public var monitors: [String: [Double]]
}

/// What every run's summary shows, whatever the dynamics.
public struct RunReport: Sendable {
    public var setup: RunSetup
    /// ‖w − w*‖ for the final end-to-end vector w.
    public var distanceToSolution: Double
    public var wallTime: Double
    public var outputPath: String
    /// The monitors' verdicts (MATH.md §7), also written to `/monitors`.
    public var verdicts: [MonitorVerdict]
    /// The theoretical values for this problem (also in `/bounds`).
    public var bounds: TheoreticalBounds
    /// Sharpness checkpoints written.
    public var checkpoints: Int
    /// Seconds spent in the monitors (included in `wallTime`).
    public var monitorTime: Double
    /// The last sharpness estimate (at the end), when the sharpness monitor ran.
    public var finalSharpness: Double?

    init(setup: RunSetup, finalWeights: [Double], start: Date, outputPath: String, verdicts: [MonitorVerdict], recorder: RunRecorder) {
        self.setup = setup
        let w = DeepLinearRisk(network: setup.network, problem: setup.problem).endToEnd(finalWeights)
        distanceToSolution = zip(w, setup.problem.minimumNormSolution).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        wallTime = Date().timeIntervalSince(start)
        self.outputPath = outputPath
        self.verdicts = verdicts
        bounds = recorder.suite.bounds
        checkpoints = recorder.checkpoints
        monitorTime = recorder.monitorTime
        finalSharpness = recorder.suite.lastSharpness?.estimate.lambdaMax
    }
}

/// The outcome of `gradflow run`, for the summary.
public struct GradientFlowRunSummary: Sendable {
    public var report: RunReport
    public var result: GradientFlowResult
    public var setup: RunSetup { report.setup }
    public var verdicts: [MonitorVerdict] { report.verdicts }
    public var bounds: TheoreticalBounds { report.bounds }
    public var outputPath: String { report.outputPath }
}

/// One gradient-flow run end to end: set up (validating everything before touching the disk),
/// create the trajectory file, integrate with CVODE recording every output time, and close the file
/// with its final status. A solver failure closes the file with `status = failed` and CVODE's flag
/// name before the error is rethrown.
public enum GradientFlowRun {
    public static func execute(_ config: RunConfiguration, commandLine: String,
                               progress: (RunProgress) -> Void = { _ in },
                               onRow: (RecordedRow) -> Void = { _ in }) throws -> GradientFlowRunSummary {
        let setup = try RunSetup.prepare(config)
        BLASThreads.set(config.threads)
        let start = Date()
        let recorder = try RunRecorder(config: config, setup: setup, method: "gradient-flow", commandLine: commandLine,
                                       dynamics: .flow(relativeTolerance: config.solver.relativeTolerance))
        let risk = DeepLinearRisk(network: setup.network, problem: setup.problem)
        let integrator = GradientFlowIntegrator(risk: risk, settings: config.solver)
        var solverAttributes: [(String, HDF5Value)] = [
            ("integrator", .string("CVODE " + config.solver.method.rawValue)),
            ("rtol", .double(config.solver.relativeTolerance)), ("atol", .double(config.solver.absoluteTolerance)),
        ]
        let result: GradientFlowResult
        do {
            result = try integrator.integrate(from: setup.initialWeights, schedule: config.schedule,
                                              lossTolerance: config.lossTolerance) { t, weights, evaluation in
                let theta = Array(weights)
                let values = try recorder.record(time: t, weights: theta, evaluation: evaluation)
                onRow(RecordedRow(time: t, weights: theta, evaluation: evaluation, monitors: values))
                progress(RunProgress(time: t, tFinal: config.schedule.tFinal, evaluation: evaluation,
                                     rows: recorder.rows, elapsed: Date().timeIntervalSince(start)))
            }
        } catch let error as GradFlowError {
            if case let .solver(flagName, _, time, _) = error {
                solverAttributes += [("flag", .string(flagName)), ("time_reached", .double(time)),
                                     ("wall_time", .double(Date().timeIntervalSince(start)))]
            }
            try? recorder.writer.finish(status: .failed, message: error.description, finalWeights: nil, solver: solverAttributes)
            throw error
        }
        let verdicts = try recorder.close(time: result.finalTime, weights: result.finalWeights, evaluation: result.finalEvaluation,
                                          atMinimum: result.stopReason == .lossTolerance)
        solverAttributes += result.statistics.namedValues
        solverAttributes += [("stop_reason", .string(result.stopReason.rawValue)), ("final_time", .double(result.finalTime)),
                             ("wall_time", .double(Date().timeIntervalSince(start)))]
        let message = result.stopReason == .lossTolerance
            ? "R − R_min reached \(config.lossTolerance ?? 0) at t = \(result.finalTime)"
            : "reached t-final = \(result.finalTime)"
        try recorder.writer.finish(status: .completed, message: message, finalWeights: result.finalWeights,
                                   solver: solverAttributes, verdicts: verdicts)
        let report = RunReport(setup: setup, finalWeights: result.finalWeights, start: start, outputPath: config.outputPath,
                               verdicts: verdicts, recorder: recorder)
        return GradientFlowRunSummary(report: report, result: result)
    }
}
