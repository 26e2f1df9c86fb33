import COpenBLAS
import Foundation

/// What the executable is told while a run goes on.
public struct RunProgress: Sendable {
    public var time: Double
    public var tFinal: Double
    public var evaluation: RiskEvaluation
    public var rows: Int
    public var elapsed: Double
}

/// The outcome of `gradflow run`, for the summary.
public struct GradientFlowRunSummary: Sendable {
    public var setup: RunSetup
    public var result: GradientFlowResult
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
}

/// One gradient-flow run end to end: set up (validating everything before touching the disk),
/// create the trajectory file, integrate with CVODE recording every output time, and close the file
/// with its final status. A solver failure closes the file with `status = failed` and CVODE's flag
/// name before the error is rethrown.
public enum GradientFlowRun {
    public static func execute(_ config: RunConfiguration, commandLine: String,
                               progress: (RunProgress) -> Void = { _ in }) throws -> GradientFlowRunSummary {
        let setup = try RunSetup.prepare(config)
        openblas_set_num_threads(Int32(config.threads))
        let suite = try MonitorSuite(network: setup.network, problem: setup.problem, initialWeights: setup.initialWeights,
                                     initialization: setup.initialization, selection: config.monitors,
                                     sharpness: config.sharpness, relativeTolerance: config.solver.relativeTolerance)
        let start = Date()
        let writer = try TrajectoryWriter(path: config.outputPath, overwrite: config.overwrite, method: "gradient-flow",
                                          commandLine: commandLine, configuration: config, setup: setup,
                                          monitorColumns: suite.rowColumns, checkpointColumns: suite.checkpointColumns,
                                          bounds: suite.boundAttributes, flushInterval: config.flushInterval)
        let risk = DeepLinearRisk(network: setup.network, problem: setup.problem)
        let integrator = GradientFlowIntegrator(risk: risk, settings: config.solver)
        var solverAttributes: [(String, HDF5Value)] = [
            ("integrator", .string("CVODE " + config.solver.method.rawValue)),
            ("rtol", .double(config.solver.relativeTolerance)), ("atol", .double(config.solver.absoluteTolerance)),
        ]
        let result: GradientFlowResult
        var row = 0, lastCheckpointRow = -1, checkpoints = 0
        var monitorTime = 0.0
        do {
            result = try integrator.integrate(from: setup.initialWeights, schedule: config.schedule,
                                              lossTolerance: config.lossTolerance) { t, weights, evaluation in
                let theta = Array(weights)
                let monitorStart = Date()
                let values = try suite.row(weights: theta, evaluation: evaluation)
                var checkpoint: [String: [Double]]?
                if suite.isCheckpoint(row: row) { checkpoint = try suite.checkpoint(time: t, weights: theta) }
                monitorTime += Date().timeIntervalSince(monitorStart)
                try writer.append(time: t, evaluation: evaluation, monitors: values)
                if let checkpoint {
                    try writer.appendCheckpoint(checkpoint)
                    lastCheckpointRow = row
                    checkpoints += 1
                }
                row += 1
                progress(RunProgress(time: t, tFinal: config.schedule.tFinal, evaluation: evaluation,
                                     rows: writer.rows, elapsed: Date().timeIntervalSince(start)))
            }
        } catch let error as GradFlowError {
            if case let .solver(flagName, _, time, _) = error {
                solverAttributes += [("flag", .string(flagName)), ("time_reached", .double(time)),
                                     ("wall_time", .double(Date().timeIntervalSince(start)))]
            }
            try? writer.finish(status: .failed, message: error.description, finalWeights: nil, solver: solverAttributes)
            throw error
        }
        if config.monitors.sharpness, lastCheckpointRow != row - 1 {  // always a checkpoint at the end
            let monitorStart = Date()
            let checkpoint = try suite.checkpoint(time: result.finalTime, weights: result.finalWeights)
            monitorTime += Date().timeIntervalSince(monitorStart)
            try writer.appendCheckpoint(checkpoint)
            checkpoints += 1
        }
        let verdicts = suite.verdicts(finalWeights: result.finalWeights, finalEvaluation: result.finalEvaluation,
                                      atMinimum: result.stopReason == .lossTolerance)
        let wall = Date().timeIntervalSince(start)
        solverAttributes += result.statistics.namedValues
        solverAttributes += [("stop_reason", .string(result.stopReason.rawValue)), ("final_time", .double(result.finalTime)),
                             ("wall_time", .double(wall))]
        let message = result.stopReason == .lossTolerance
            ? "R − R_min reached \(config.lossTolerance ?? 0) at t = \(result.finalTime)"
            : "reached t-final = \(result.finalTime)"
        try writer.finish(status: .completed, message: message, finalWeights: result.finalWeights, solver: solverAttributes,
                          verdicts: verdicts)
        let w = risk.endToEnd(result.finalWeights)
        let distance = zip(w, setup.problem.minimumNormSolution).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        return GradientFlowRunSummary(setup: setup, result: result, distanceToSolution: distance, wallTime: wall,
                                      outputPath: config.outputPath, verdicts: verdicts, bounds: suite.bounds,
                                      checkpoints: checkpoints, monitorTime: monitorTime)
    }
}
