import Foundation

/// What the executable is told while a run goes on.
public struct RunProgress: Sendable {
    public var time: Double
    public var tFinal: Double
    public var evaluation: RiskEvaluation
    public var rows: Int
    public var elapsed: Double
    /// The file being written: `OUT.partial` until the run ends (then renamed to `OUT`).
    public var file: String = ""
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
    /// ‖w_∞ − w*‖ for the final end-to-end vector (‖M − M*‖_F for q outputs); nil for a GELU network.
    public var distanceToSolution: Double?
    /// The test error `(1/n')‖Y' − f(X')‖²` of the final weights on the held-out set, when there is one.
    public var testError: Double?
    public var wallTime: Double
    public var outputPath: String
    /// The monitors' verdicts (MATH.md §7), also written to `/monitors`.
    public var verdicts: [MonitorVerdict]
    /// The theoretical values for this problem (also in `/bounds`); nil for multivariate targets.
    public var bounds: TheoreticalBounds?
    /// Sharpness checkpoints written.
    public var checkpoints: Int
    /// Seconds spent in the monitors (included in `wallTime`).
    public var monitorTime: Double
    /// The last sharpness estimate (at the end), when the sharpness monitor ran.
    public var finalSharpness: Double?
    /// Rows in the trajectory file (for a resumed run, those before the interruption too).
    public var rows: Int
    /// What the summary should say beyond the numbers (a damaged partial that was set aside).
    public var notes: [String] = []
    /// The process's peak resident memory at the end of the run, in bytes.
    public var peakMemory: Double

    init(setup: RunSetup, finalWeights: [Double], start: Date, outputPath: String, verdicts: [MonitorVerdict], recorder: RunRecorder) {
        self.setup = setup
        let risk = recorder.suite.risk
        distanceToSolution = risk.endToEndMap(finalWeights).map { w in
            zip(w, setup.problem.minimumNormSolution).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        }
        testError = setup.problem.test.flatMap { test in
            setup.problem.testError(predictions: risk.predictions(at: finalWeights, inputs: test.inputs, count: test.count))
        }
        wallTime = Date().timeIntervalSince(start)
        self.outputPath = outputPath
        self.verdicts = verdicts
        bounds = recorder.suite.bounds
        checkpoints = recorder.checkpoints
        monitorTime = recorder.monitorTime
        finalSharpness = recorder.suite.lastSharpness?.estimate.lambdaMax
        rows = recorder.rows
        peakMemory = MemoryEstimate.peakResident
    }
}

/// The outcome of `gradflow run`, for the summary.
public struct GradientFlowRunSummary: Sendable {
    public var report: RunReport
    public var result: GradientFlowResult
    /// The configuration the run used (for a resumed run, the one recorded in its file).
    public var configuration: RunConfiguration
    public var setup: RunSetup { report.setup }
    public var verdicts: [MonitorVerdict] { report.verdicts }
    public var bounds: TheoreticalBounds? { report.bounds }
    public var outputPath: String { report.outputPath }
}

/// One gradient-flow run end to end: set up (validating everything before touching the disk),
/// create the trajectory file, integrate with CVODE recording every output time, and close the file
/// with its final status. A solver failure closes the file with `status = failed` and CVODE's flag
/// name before the error is rethrown.
public enum GradientFlowRun {
    /// A new run from `config`.
    /// - Parameter shouldStop: asked at every output time and between right-hand sides (a signal handler's
    ///   flag): true closes the file with `status = interrupted` and throws `GradFlowError.interrupted`.
    public static func execute(_ config: RunConfiguration, commandLine: String,
                               progress: (RunProgress) -> Void = { _ in },
                               shouldStop: @escaping () -> Bool = { false },
                               onRow: (RecordedRow) -> Void = { _ in }) throws -> GradientFlowRunSummary {
        BLASThreads.set(config.threads)  // before any BLAS call: the thread count is part of the bits
        let setup = try RunSetup.prepare(config)
        let recorder = try RunRecorder(config: config, setup: setup, method: "gradient-flow", commandLine: commandLine,
                                       dynamics: .flow(relativeTolerance: config.solver.relativeTolerance))
        return try integrate(config, setup: setup, recorder: recorder, from: setup.initialWeights, startTime: 0, observesStart: true,
                             progress: progress, shouldStop: shouldStop, onRow: onRow)
    }

    /// Continues an interrupted (or crashed) gradient-flow run in its own file, from the state of its last
    /// flush (`/resume`): the same configuration, the output times after that point, and verdicts over the
    /// whole run. The final weights agree with an uninterrupted run's to the integrator's tolerance (CVODE
    /// restarts at order 1 from the resume point, so the step sequence differs).
    /// - Throws: `GradFlowError.invalidConfiguration` when the file is not a resumable gradient-flow run.
    public static func resume(_ path: String, commandLine: String, progress: (RunProgress) -> Void = { _ in },
                              shouldStop: @escaping () -> Bool = { false }) throws -> GradientFlowRunSummary {
        // Everything is read and checked read-only first (a refused resume changes nothing), and the file is
        // closed before it is reopened for writing (HDF5 refuses a writable open of a file held open read-only).
        if OutputFile.isLocked(path) { throw GradFlowError.outputInUse(path: path) }
        let (config, weights, time, row): (RunConfiguration, [Double], Double, Int) = try {
            let file = try TrajectoryFile(path: path)
            guard file.attribute("method") == "gradient-flow" else {
                throw GradFlowError.invalidConfiguration(field: .resumePath, value: "\(path)",
                                                    reason: "only gradient-flow runs can be resumed (method = \(file.attribute("method")))")
            }
            guard let status = file.status, status != .completed else {
                throw GradFlowError.invalidConfiguration(field: .resumePath, value: "\(path)", reason: "the run completed; there is nothing to resume")
            }
            let config: RunConfiguration
            do {
                config = try JSONDecoder().decode(RunConfiguration.self, from: Data(file.attribute("config").utf8))
            } catch {
                throw GradFlowError.invalidData(file: path, field: "config", reason: "is not a configuration this version reads")
            }
            let state = try file.resumeState()
            return (config, state.weights, state.time, state.row)
        }()
        try config.validate()
        BLASThreads.set(config.threads)
        if let (config, setup, recorder, note) = try restartIfDamaged(path, config: config, commandLine: commandLine,
                                                                      dynamics: .flow(relativeTolerance: config.solver.relativeTolerance)) {
            var summary = try integrate(config, setup: setup, recorder: recorder, from: setup.initialWeights, startTime: 0,
                                        observesStart: true, progress: progress, shouldStop: shouldStop, onRow: { _ in })
            summary.report.notes.append(note)
            return summary
        }
        let setup = try RunSetup.fromTrajectory(path, configuration: config)
        guard weights.count == setup.network.shape.parameterCount, weights.allSatisfy(\.isFinite) else {
            throw GradFlowError.invalidData(file: path, field: "/resume/weights",
                                            reason: "has \(weights.count) values (finite: \(weights.allSatisfy(\.isFinite))), the network has P = \(setup.network.shape.parameterCount)")
        }
        let output = try OutputFile(resuming: path, overwrite: config.overwrite)
        let recorder = try RunRecorder(resuming: output, config: config, setup: setup,
                                       dynamics: .flow(relativeTolerance: config.solver.relativeTolerance))
        try recorder.writer.setRootAttribute("resumed_by", .string(commandLine))
        return try integrate(config, setup: setup, recorder: recorder, from: weights, startTime: time, observesStart: row < 0,
                             progress: progress, shouldStop: shouldStop, onRow: { _ in })
    }

    /// A partial whose HDF5 metadata was torn by a kill inside a flush (`TrajectoryFile.damagedObjects`) cannot be
    /// continued: it is moved aside (kept) and the run starts again from t = 0 under its name, with its recorded
    /// configuration, problem and initial weights. Returns nil for an intact file.
    static func restartIfDamaged(_ path: String, config: RunConfiguration, commandLine: String, dynamics: MonitorSuite.Dynamics,
                                 extraColumns: [TrajectoryColumn] = [], resumeExtras: [Double] = [])
        throws -> (RunConfiguration, RunSetup, RunRecorder, String)? {
        let damaged = try TrajectoryFile(path: path).damagedObjects()
        guard !damaged.isEmpty else { return nil }
        guard path.hasSuffix(OutputFile.partialSuffix) else {
            throw GradFlowError.invalidData(file: path, field: damaged[0], reason: "cannot be read (damaged HDF5 metadata); the run cannot be resumed")
        }
        var config = config
        config.outputPath = String(path.dropLast(OutputFile.partialSuffix.count))
        let setup = try RunSetup.fromTrajectory(path, configuration: config)
        let aside = try OutputFile.setAside(path)
        let method = config.descent == nil ? "gradient-flow" : "gradient-descent"
        let recorder = try RunRecorder(config: config, setup: setup, method: method, commandLine: commandLine, dynamics: dynamics,
                                       extraColumns: extraColumns, resumeExtras: resumeExtras)
        let note = "\(path) could not be continued (\(damaged.joined(separator: ", ")) torn by a kill inside a flush): "
            + "it is kept as \(aside), and the run started again from t = 0"
        return (config, setup, recorder, note)
    }

    static func integrate(_ config: RunConfiguration, setup: RunSetup, recorder: RunRecorder, from weights: [Double],
                          startTime: Double, observesStart: Bool = true, progress: (RunProgress) -> Void, shouldStop: @escaping () -> Bool,
                          onRow: (RecordedRow) -> Void) throws -> GradientFlowRunSummary {
        let start = Date()
        let risk = RiskFactory.makeRisk(network: setup.network, problem: setup.problem)
        let integrator = GradientFlowIntegrator(risk: risk, settings: config.solver)
        var solverAttributes: [(String, AttributeValue)] = [
            ("integrator", .string(config.solver.method.solverDescription)),
            ("rtol", .double(config.solver.relativeTolerance)), ("atol", .double(config.solver.absoluteTolerance)),
        ]
        let result: GradientFlowResult
        do {
            result = try integrator.integrate(from: weights, startTime: startTime, observesStart: observesStart, schedule: config.schedule,
                                              lossTolerance: config.lossTolerance, shouldStop: shouldStop) { t, weights, evaluation in
                let theta = Array(weights)
                let values = try recorder.record(time: t, weights: theta, evaluation: evaluation)
                onRow(RecordedRow(time: t, weights: theta, evaluation: evaluation, monitors: values))
                progress(RunProgress(time: t, tFinal: config.schedule.tFinal, evaluation: evaluation,
                                     rows: recorder.rows, elapsed: Date().timeIntervalSince(start), file: recorder.writer.contentPath))
            }
        } catch let error as GradFlowError {
            var status = RunStatus.failed
            switch error {
            case let .solver(flagName, _, time, _):
                solverAttributes += [("flag", .string(flagName)), ("time_reached", .double(time))]
            case .interrupted:
                status = .interrupted
            default:
                break
            }
            solverAttributes.append(("wall_time", .double(Date().timeIntervalSince(start))))
            throw recorder.abandon(after: error, status: status, solver: solverAttributes)
        }
        let verdicts = try recorder.close(time: result.finalTime, weights: result.finalWeights, evaluation: result.finalEvaluation,
                                          atMinimum: result.stopReason == .lossTolerance)
        solverAttributes += result.statistics.namedValues
        solverAttributes += [("stop_reason", .string(result.stopReason.rawValue)), ("final_time", .double(result.finalTime)),
                             ("wall_time", .double(Date().timeIntervalSince(start)))]
        let message = result.stopReason == .lossTolerance
            ? "R − R_min reached \(config.lossTolerance ?? 0) at t = \(result.finalTime)"
            : "reached t-final = \(result.finalTime)"
        try recorder.finish(status: .completed, message: message, finalWeights: result.finalWeights,
                            solver: solverAttributes, verdicts: verdicts)
        let report = RunReport(setup: setup, finalWeights: result.finalWeights, start: start, outputPath: recorder.writer.path,
                               verdicts: verdicts, recorder: recorder)
        return GradientFlowRunSummary(report: report, result: result, configuration: config)
    }
}
