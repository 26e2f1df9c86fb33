import FoundationEssentials

/// The run pipeline's one contact with the monitors and the trajectory file, whatever the dynamics: the
/// monitor suite, the writer, the sharpness checkpoints (every k-th row and always at the end), the saved
/// weights (`saveWeights`: every k-th row, t = 0 included, and always the final weights) and the time spent
/// in monitors.
final class RunRecorder {
    let suite: MonitorSuite
    let writer: TrajectoryWriter
    private(set) var rows = 0
    private(set) var checkpoints = 0
    private(set) var monitorTime = 0.0
    /// When the rows were recorded on a `RecordingThread`: the seconds the dynamics waited for it (set by the pipeline).
    var secondThreadWait: Double?
    private var lastCheckpointRow = -1
    /// The time of the last row on file: what an interruption inside the monitors reports.
    private var lastTime = 0.0

    /// Asked between monitors (`MonitorSuite.shouldStop`): a long row on a deep network ends at the next monitor.
    var shouldStop: () -> Bool {
        get { suite.shouldStop }
        set { suite.shouldStop = newValue }
    }
    /// Every how many rows the weights are saved (`RunConfiguration.saveWeights`); nil: not saved.
    private let saveWeightsEvery: Int?

    /// Claims `config.outputPath` and writes the header of a new run of `method` (with the dynamics' extra
    /// columns and resume extras beside the monitors').
    init(config: RunConfiguration, setup: RunSetup, method: String, commandLine: String,
         dynamics: MonitorSuite.Dynamics, extraColumns: [TrajectoryColumn] = [], resumeExtras: [Double] = []) throws {
        suite = try Self.suite(config, setup: setup, dynamics: dynamics)
        saveWeightsEvery = config.saveWeights
        let output = try OutputFile(claiming: config.outputPath, overwrite: config.overwrite, inputs: config.inputFiles)
        let header = TrajectoryHeader(method: method, commandLine: commandLine, configuration: config, setup: setup,
                                      rowColumns: extraColumns + suite.rowColumns, checkpointColumns: suite.checkpointColumns,
                                      constants: suite.problemDatasets, bounds: suite.boundAttributes,
                                      resumeExtras: resumeExtras + suite.resumeState(),
                                      savesWeights: config.saveWeights != nil)
        // The header is hundreds of HDF5 calls: taken as one, so that runs on parallel threads do not hand the
        // HDF5 lock to each other at every call.
        writer = try withHDF5Lock { try TrajectoryWriter(output: output, header: header, flushInterval: config.flushInterval) }
    }

    private static func suite(_ config: RunConfiguration, setup: RunSetup, dynamics: MonitorSuite.Dynamics) throws -> MonitorSuite {
        try MonitorSuite(network: setup.network, problem: setup.problem, initialWeights: setup.initialWeights,
                         initialization: setup.initialization, selection: config.monitors,
                         sharpness: config.sharpness, dynamics: dynamics)
    }

    /// Reopens an interrupted run's file `path` to continue it (`TrajectoryWriter(resuming:)`) and replays its
    /// recorded rows into the monitors, so the verdicts at the end cover the whole run. Before the file is
    /// claimed, it is refused read-only (not a byte changes) when its datasets are not those this run writes
    /// (`LayoutCheck`: every monitor's and the dynamics' `/trajectory` columns, the `/checkpoints` columns,
    /// and `/weights`).
    init(resuming path: String, config: RunConfiguration, setup: RunSetup, dynamics: MonitorSuite.Dynamics,
         extraColumns: [TrajectoryColumn], monitorStateCount: Int) throws {
        suite = try Self.suite(config, setup: setup, dynamics: dynamics)
        let trajectory = (extraColumns + suite.rowColumns).filter { $0.width.map { $0 >= 1 } ?? true }.map { ($0.name, $0.width) }
        do {  // read-only, and closed before the writable open (HDF5 refuses it while the file is open read-only)
            let file = try TrajectoryFile(path: path)
            try LayoutCheck.check(file, trajectory: trajectory, checkpoints: suite.checkpointColumns.map { ($0.name, $0.width) },
                                  parameters: config.saveWeights != nil ? setup.network.shape.parameterCount : nil)
            // The records' width is fixed by the file: the monitors must keep as many values as it holds (this build's
            // layout or an earlier build's), or the run would fail at its first flush with the partial half-continued.
            let records = TrajectoryLayout.path(TrajectoryLayout.Group.resume, TrajectoryLayout.Resume.state)
            if file.root.contains(records), !suite.adoptResumeLayout(stateCount: monitorStateCount) {
                throw GradFlowError.invalidData(
                    file: path, field: "/" + records,
                    reason: "its records hold \(monitorStateCount) values of monitor state where this GradFlow build keeps \(suite.resumeStateCount) "
                        + "(another build wrote it, or other monitors): continue it with the build that wrote it, or run it again")
            }
        }
        let output = try OutputFile(resuming: path, overwrite: config.overwrite)
        writer = try TrajectoryWriter(resuming: output, flushInterval: config.flushInterval)
        saveWeightsEvery = writer.savesWeights ? config.saveWeights : nil
        rows = writer.rows
        lastTime = writer.flushedTime ?? 0
        let columns = try writer.recordedColumns()
        for row in 0..<rows {
            var values: [String: [Double]] = [:]
            for (name, data, width) in columns where data.count >= (row + 1) * width {
                values[name] = Array(data[(row * width)..<((row + 1) * width)])
            }
            suite.track(&values)
        }
        checkpoints = writer.checkpointRows
        lastCheckpointRow = (0..<rows).last { suite.isCheckpoint(row: $0) } ?? -1
    }

    /// Records one output row of the dynamics (and a checkpoint when one is due); returns the monitors' values.
    @discardableResult
    func record(_ row: TrajectoryRow) throws -> [String: [Double]] {
        let start = Date()
        var values: [String: [Double]]
        var checkpoint: [String: [Double]]?
        do {
            values = try suite.row(time: row.time, weights: row.weights, evaluation: row.evaluation, predictedDrift: row.predictedDrift,
                                   step: row.step ?? 0)
            if suite.isCheckpoint(row: rows) { checkpoint = try suite.checkpoint(time: row.time, weights: row.weights) }
        } catch GradFlowError.interrupted {
            throw GradFlowError.interrupted(time: lastTime)  // stopped inside the monitors: this row is not recorded
        }
        values.merge(row.columns) { current, _ in current }
        monitorTime += Date().timeIntervalSince(start)
        if let k = saveWeightsEvery, rows % k == 0 { writer.appendWeights(time: row.time, weights: row.weights) }
        let evaluation = row.evaluation
        try writer.append(time: row.time, loss: evaluation.loss, excessRisk: evaluation.excessRisk,
                          gradientNormSquared: evaluation.gradientNormSquared, columns: values, weights: row.weights,
                          resumeExtras: row.resumeExtras + suite.resumeState())
        if let checkpoint {
            try writer.appendCheckpoint(checkpoint)
            lastCheckpointRow = rows
            checkpoints += 1
        }
        rows += 1
        lastTime = row.time
        return values
    }

    /// Closes the file with its final `status` and puts it at its final path (`OutputFile.commit`). A
    /// storage failure (full disk, size limit) leaves the file as the partial it was at its last flush.
    func finish(status: RunStatus, message: String, finalWeights: [Double]?, solver: [(String, AttributeValue)],
                verdicts: [MonitorVerdict] = []) throws {
        let closing = verdicts.isEmpty ? [] : suite.closingDatasets.map { (group: $0.group, dataset: TrajectoryHeader.dataset($0.dataset)) }
        try withHDF5Lock {  // the closing writes as one, as the header (the commit's fsync is outside the lock)
            try writer.finish(status: status, message: message, finalWeights: finalWeights, solver: solver, verdicts: verdicts,
                              datasets: closing)
            writer.close()
        }
        try writer.output.commit()
    }

    /// After an error: closes the file as `status` (failed, interrupted) and commits it, unless the error
    /// is a storage failure, which leaves the partial at its last flushed state. Returns the error to throw.
    func abandon(after error: GradFlowError, status: RunStatus, solver: [(String, AttributeValue)]) -> GradFlowError {
        if case .storage = error { return error }
        if let failure = writer.storageFailure { return failure }
        do {
            try finish(status: status, message: error.description, finalWeights: nil, solver: solver)
        } catch let closing as GradFlowError {
            if case .storage = closing { return closing }
        } catch {}
        return error
    }

    /// The closing saved weights (when the last saved row is not at the final time), the closing checkpoint
    /// (when the last row was not one) and the verdicts.
    func close(time: Double, weights theta: [Double], evaluation: RiskEvaluation, atMinimum: Bool) throws -> [MonitorVerdict] {
        suite.shouldStop = { false }  // the run has ended: its closing checkpoint completes
        if saveWeightsEvery != nil, writer.lastSavedWeightsTime != time { writer.appendWeights(time: time, weights: theta) }
        if suite.selection.sharpness, lastCheckpointRow != rows - 1 {
            let start = Date()
            let checkpoint = try suite.checkpoint(time: time, weights: theta)
            monitorTime += Date().timeIntervalSince(start)
            try writer.appendCheckpoint(checkpoint)
            checkpoints += 1
        }
        return suite.verdicts(time: time, finalWeights: theta, finalEvaluation: evaluation, atMinimum: atMinimum)
    }
}
