import FoundationEssentials

/// One run of any `TrajectoryDynamics` end to end, new or resumed, in four stages:
///
/// 1. **Set-up**: the configuration is checked and the problem, network and θ(0) built (`RunSetup`),
///    everything validated before the disk is touched; the BLAS thread count is set first (it is part of
///    the bits).
/// 2. **Recorder**: the monitors and the trajectory file (`RunRecorder`): a new file claimed and its header
///    written, or an interrupted one reopened and its rows replayed into the monitors.
/// 3. **Session**: the dynamics runs; every output row is recorded, handed to `onRow` and reported.
/// 4. **Outcome**: the closing checkpoint and the verdicts, `/solver`, the final status, and the summary.
///    An error closes the file as `failed` or `interrupted` (a storage failure leaves the last flushed
///    partial) before it is rethrown.
///
/// It holds no state of its own, and HDF5 calls go through the HDF5 layer's lock, so several runs can go on
/// in one process, one after another or on parallel threads, provided they all use the same BLAS thread count
/// (`BLASThreads.set` is process-wide; inside an `InProcessSweep`, which sets it once, the pipeline leaves it):
/// `InProcessSweep` runs its points that way, with one BLAS thread.
public enum RunPipeline<Dynamics: TrajectoryDynamics> {
    /// A new run from `config`.
    /// - Parameters:
    ///   - progress: told after every recorded row.
    ///   - shouldStop: asked at every output time and inside the dynamics (a signal handler's flag): true
    ///     closes the file with `status = interrupted` and throws `GradFlowError.interrupted`.
    ///   - onRow: every recorded row, with the monitors' values (given, the rows are recorded on the calling thread).
    ///   - recordingThread: whether to record the rows on a second thread while the dynamics goes on (by default
    ///     when that can help: one BLAS thread, a free core, monitors on). The results are the same bits.
    public static func execute(_ config: RunConfiguration, commandLine: String,
                               progress: (RunProgress) -> Void = { _ in },
                               shouldStop: @escaping () -> Bool = { false },
                               onRow: ((RecordedRow) -> Void)? = nil,
                               recordingThread: RecordingThreadPolicy = .whenItHelps) throws -> RunSummary<Dynamics.Result> {
        try Dynamics.check(config, resuming: nil)
        setBLASThreads(config.threads)  // before any BLAS call: the thread count is part of the bits
        let setup = try RunSetup.prepare(config)
        let dynamics = try Dynamics(configuration: config, setup: setup)
        let recorder = try newRecorder(config, setup: setup, dynamics: dynamics, commandLine: commandLine)
        return try run(dynamics, from: dynamics.initialStart, config: config, setup: setup, recorder: recorder,
                       progress: progress, shouldStop: shouldStop, onRow: onRow, recordingThread: recordingThread)
    }

    /// Continues an interrupted (or killed) run in its own file, from the state of its last flush (`/resume`):
    /// the same configuration, the output times after that point, and verdicts over the whole run. A partial
    /// whose HDF5 metadata a kill tore is set aside and the run starts again from t = 0 (the summary's notes
    /// say so).
    /// - Parameter requiredThreads: when given, a file whose configuration asks for another BLAS thread count is
    ///   refused (`invalidData` on its `config`) before anything changes: an in-process sweep runs every point with
    ///   one thread, and changing the process-wide count would change the bits of the runs beside it.
    /// - Throws: `GradFlowError.invalidConfiguration` when the file is not a resumable run of this dynamics.
    public static func resume(_ path: String, commandLine: String, progress: (RunProgress) -> Void = { _ in },
                              shouldStop: @escaping () -> Bool = { false },
                              requiredThreads: Int? = nil, recordingThread: RecordingThreadPolicy = .whenItHelps) throws -> RunSummary<Dynamics.Result> {
        if OutputFile.isLocked(path) { throw GradFlowError.outputInUse(path: path) }
        // A partial that a kill left shorter than its superblock's end of file cannot be opened by HDF5: its missing
        // tail is restored as zeros first (`HDF5TruncatedTail`), and the checks below judge what it holds.
        let restored = try OutputFile.restoreCutShortPartial(path)
        var summary = try continueRun(path, commandLine: commandLine, progress: progress, shouldStop: shouldStop,
                                      requiredThreads: requiredThreads, recordingThread: recordingThread)
        if let restored {
            summary.report.notes.insert("\(path) ended \(restored) bytes before the end its HDF5 superblock records (a kill inside a flush): "
                                        + "the missing tail was restored as zeros before it was read", at: 0)
        }
        return summary
    }

    /// `resume` once the file can be opened.
    private static func continueRun(_ path: String, commandLine: String, progress: (RunProgress) -> Void,
                                    shouldStop: @escaping () -> Bool, requiredThreads: Int?,
                                    recordingThread: RecordingThreadPolicy) throws -> RunSummary<Dynamics.Result> {
        // Everything is read and checked read-only first (a refused resume changes nothing), and the file is
        // closed before it is reopened for writing (HDF5 refuses a writable open of a file held open read-only).
        let (config, state): (RunConfiguration, ResumeState) = try {
            let file = try TrajectoryFile(path: path)
            // A newer writer may lay the file out differently: continuing it here could corrupt it.
            if file.formatVersion > GradFlowVersion.formatVersion {
                throw GradFlowError.invalidData(
                    file: path, field: TrajectoryLayout.Root.formatVersion,
                    reason: "is \(file.formatVersion), newer than the format \(GradFlowVersion.formatVersion) that gradflow \(GradFlowVersion.string) "
                        + "writes; resume it with the gradflow that wrote it (\(file.attribute(TrajectoryLayout.Root.gradflowVersion)))")
            }
            try Dynamics.checkResumable(file)
            let config: RunConfiguration
            do {
                config = try JSONDecoder().decode(RunConfiguration.self, from: Data(file.attribute(TrajectoryLayout.Root.config).utf8))
            } catch {
                throw GradFlowError.invalidData(file: path, field: TrajectoryLayout.Root.config, reason: "is not a configuration this version reads")
            }
            return (config, try file.resumeState())
        }()
        do {
            try config.validate()
        } catch let error as GradFlowError {
            // The configuration is the file's, not the command line's: name the file and its key paths.
            if case .invalidConfiguration = error {
                throw GradFlowError.invalidData(file: path, field: TrajectoryLayout.Root.config, reason: error.description)
            }
            throw error
        }
        try Dynamics.check(config, resuming: path)
        if let requiredThreads, config.threads != requiredThreads {
            throw GradFlowError.invalidData(file: path, field: TrajectoryLayout.Root.config,
                                            reason: "threads \(config.threads): this run can only be continued with \(requiredThreads) BLAS thread"
                                                + (requiredThreads == 1 ? "" : "s") + " here (gradflow run --resume continues it alone)")
        }
        setBLASThreads(config.threads)
        let damaged = try TrajectoryFile(path: path).damagedObjects()
        if !damaged.isEmpty {
            return try restart(path, field: damaged[0], cause: "\(damaged.joined(separator: ", ")) torn by a kill inside a flush",
                               refusal: "cannot be read (damaged HDF5 metadata); the run cannot be resumed",
                               config: config, commandLine: commandLine, progress: progress, shouldStop: shouldStop,
                               recordingThread: recordingThread)
        }
        if let fallback = state.fallback {
            // Rows were recorded but no state to continue them can be trusted: never restart over them in place.
            return try restart(path, field: fallback.field, cause: "\(fallback.field): \(fallback.reason)",
                               refusal: "\(fallback.reason); the run cannot be resumed (from a FILE.partial it would be kept aside and run again from t = 0)",
                               config: config, commandLine: commandLine, progress: progress, shouldStop: shouldStop,
                               recordingThread: recordingThread)
        }
        let setup = try RunSetup.fromTrajectory(path, configuration: config)
        let dynamics = try Dynamics(configuration: config, setup: setup)
        // A record holds the dynamics' extras, then the monitors' resume state (`MonitorSuite.resumeState`).
        var dynamicsState = state
        let own = dynamics.initialResumeExtras.count
        dynamicsState.extras = Array(state.extras.prefix(own))
        let start = try dynamics.start(resuming: dynamicsState, file: path)
        let recorder = try RunRecorder(resuming: path, config: config, setup: setup, dynamics: dynamics.monitorDynamics,
                                       extraColumns: dynamics.extraColumns, monitorStateCount: state.extras.count - own)
        recorder.suite.restore(state.extras.dropFirst(own), weights: state.weights)
        try recorder.writer.setRootAttribute(TrajectoryLayout.Root.resumedBy, .string(commandLine))
        return try run(dynamics, from: start, config: config, setup: setup, recorder: recorder,
                       progress: progress, shouldStop: shouldStop, onRow: nil, recordingThread: recordingThread)
    }

    /// A partial whose HDF5 metadata was torn by a kill inside a flush (`TrajectoryFile.damagedObjects`), or whose
    /// recorded rows have no trustworthy state (`ResumeState.fallback`), cannot be continued: it is moved aside
    /// (kept) and the run starts again from t = 0 under its name, with its recorded configuration, problem and
    /// initial weights; the summary's note gives `cause`. Any other file is refused (`field`: `refusal`).
    private static func restart(_ path: String, field: String, cause: String, refusal: String, config: RunConfiguration,
                                commandLine: String, progress: (RunProgress) -> Void,
                                shouldStop: @escaping () -> Bool, recordingThread: RecordingThreadPolicy) throws -> RunSummary<Dynamics.Result> {
        guard path.hasSuffix(OutputFile.partialSuffix) else {
            throw GradFlowError.invalidData(file: path, field: field, reason: refusal)
        }
        var config = config
        config.outputPath = String(path.dropLast(OutputFile.partialSuffix.count))
        let setup = try RunSetup.fromTrajectory(path, configuration: config)
        let dynamics = try Dynamics(configuration: config, setup: setup)
        let aside = try OutputFile.setAside(path)
        let recorder = try newRecorder(config, setup: setup, dynamics: dynamics, commandLine: commandLine)
        var summary = try run(dynamics, from: dynamics.initialStart, config: config, setup: setup, recorder: recorder,
                              progress: progress, shouldStop: shouldStop, onRow: nil, recordingThread: recordingThread)
        summary.report.notes.append("\(path) could not be continued (\(cause)): "
                                    + "it is kept as \(aside), and the run started again from t = 0")
        return summary
    }

    /// Sets the process-wide BLAS (and vector-kernel) thread count, except inside an in-process sweep that has set
    /// it to `count` already: its runs on parallel threads then never write it while another run computes.
    private static func setBLASThreads(_ count: Int) {
        if InProcessSweep.activeThreadCount == count { return }
        BLASThreads.set(count)
    }

    private static func newRecorder(_ config: RunConfiguration, setup: RunSetup, dynamics: Dynamics,
                                    commandLine: String) throws -> RunRecorder {
        try RunRecorder(config: config, setup: setup, method: Dynamics.method, commandLine: commandLine,
                        dynamics: dynamics.monitorDynamics, extraColumns: dynamics.extraColumns,
                        resumeExtras: dynamics.initialResumeExtras)
    }

    /// The session and the outcome: runs `dynamics` from `start`, recording every row (on a `RecordingThread` when
    /// `recordingThread` says so and no `onRow` asks for the monitors' values at once), and closes the file.
    private static func run(_ dynamics: Dynamics, from start: Dynamics.Start, config: RunConfiguration, setup: RunSetup,
                            recorder: RunRecorder, progress: (RunProgress) -> Void, shouldStop: @escaping () -> Bool,
                            onRow: ((RecordedRow) -> Void)?, recordingThread: RecordingThreadPolicy) throws -> RunSummary<Dynamics.Result> {
        let clock = Date()
        recorder.shouldStop = shouldStop
        let file = recorder.writer.contentPath, rowsBefore = recorder.rows
        let thread = onRow == nil && RecordingThread.isUsed(recordingThread, config: config, suite: recorder.suite)
            ? RecordingThread(recorder: recorder) : nil
        let outcome: TrajectoryOutcome<Dynamics.Result>
        do {
            outcome = try dynamics.run(from: start, events: recorder.suite.events, shouldStop: shouldStop) { row in
                let rows: Int
                if let thread {
                    try thread.submit(row)
                    rows = rowsBefore + thread.submitted
                } else {
                    let values = try recorder.record(row)
                    onRow?(RecordedRow(time: row.time, weights: row.weights, evaluation: row.evaluation, monitors: values, step: row.step))
                    rows = recorder.rows
                }
                progress(RunProgress(time: row.time, tFinal: dynamics.horizon, evaluation: row.evaluation, rows: rows,
                                     elapsed: Date().timeIntervalSince(clock), file: file))
            }
            if let failure = thread?.finish() { throw failure }
        } catch {
            // The rows handed over are recorded first (or the recording's own error is the one to report: it is what
            // the file shows); only then is the file closed.
            let recording = thread?.finish() as? GradFlowError
            guard let cause = recording ?? (error as? GradFlowError) else { throw error }
            let status: RunStatus = { if case .interrupted = cause { return .interrupted } else { return .failed } }()
            throw recorder.abandon(after: cause, status: status,
                                   solver: dynamics.failureAttributes(after: cause, wallTime: Date().timeIntervalSince(clock)))
        }
        recorder.secondThreadWait = thread?.waited
        let verdicts = try recorder.close(time: outcome.finalTime, weights: outcome.finalWeights, evaluation: outcome.finalEvaluation,
                                          atMinimum: outcome.stopReason == .lossTolerance)
        try recorder.finish(status: outcome.status, message: outcome.message, finalWeights: outcome.finalWeights,
                            solver: outcome.solverAttributes + [(TrajectoryLayout.Solver.wallTime, .double(Date().timeIntervalSince(clock)))],
                            verdicts: verdicts)
        let report = RunReport(setup: setup, finalWeights: outcome.finalWeights, start: clock, outputPath: recorder.writer.path,
                               verdicts: verdicts, recorder: recorder)
        return RunSummary(report: report, result: outcome.result, configuration: config, stopReason: outcome.stopReason,
                          message: outcome.message)
    }
}
