import Foundation

/// The state of a run, as recorded in the trajectory file's `status` attribute.
public enum RunStatus: String, Sendable, Codable {
    case running, completed, interrupted, failed, diverged
}

/// Writes one run's trajectory file, with the names of DESIGN.md (the interface that readers rely on).
///
/// `init` writes everything known before the run (root attributes with `status = running`,
/// `/problem`, `/network`, `/initial/weights`) and flushes. Rows are buffered and appended to the
/// extendable `/trajectory` datasets, and the file is flushed every `flushInterval` seconds, so an
/// interrupted run leaves a readable file up to its last flush. `finish` writes the final weights,
/// `/solver`, the status and message.
public final class TrajectoryWriter {
    /// The file as the user named it (the final path).
    public let path: String
    /// Where the content lives while the run goes on: `path.partial` once the header is flushed.
    public var contentPath: String { output.isPublished ? output.partialPath : path }
    /// The claimed output: its lock, its room checks and the final rename.
    public let output: OutputFile
    private var root: HDF5Node?
    private var columns: [String: HDF5ExtendableDataset] = [:]
    private var checkpointColumns: [String: HDF5ExtendableDataset] = [:]
    private var pending: [String: [Double]] = [:]
    private let flushInterval: Double
    private var lastFlush = Date()
    /// The weights and time of the last appended row: written to `/resume` at every flush.
    private var latest: (time: Double, weights: [Double], extras: [Double])?
    /// The time of the last row on disk (flushed), for the message of a storage failure.
    public private(set) var flushedTime: Double?
    /// The first storage failure: once the disk is full, nothing more is written (the file keeps its last
    /// flushed state).
    public private(set) var storageFailure: GradFlowError?
    /// Rows written (flushed or pending).
    public private(set) var rows = 0
    /// The sequence number of the last `/resume/state` record.
    private var sequence = 0

    static let rowColumns = ["time", "loss", "excess_risk", "grad_norm_sq"]

    /// Creates the file's content in the claimed `output` and writes the header groups, flushes, and
    /// names it `path.partial` (resumable from then on). `monitorColumns` are the `/trajectory` columns
    /// beyond the four of every run; `checkpointColumns` those of `/checkpoints` (none: no group).
    public init(output: OutputFile, method: String, commandLine: String, configuration: RunConfiguration,
                setup: RunSetup, monitorColumns: [TrajectoryColumn] = [], checkpointColumns: [TrajectoryColumn] = [],
                bounds: [(String, AttributeValue)] = [], flushInterval: Double = 1, resumeExtras: [Double] = []) throws {
        self.path = output.path
        self.output = output
        self.flushInterval = flushInterval
        let problem0 = setup.problem
        let headerDoubles = problem0.inputs.count + problem0.targets.count + problem0.minimumNormSolution.count
            + (problem0.test.map { $0.inputs.count + $0.targets.count } ?? 0) + problem0.dimension + 2 * setup.initialWeights.count
            + setup.network.shape.widths.count
        try output.reserve(Self.headerBytes(doubles: headerDoubles, text: commandLine.utf8.count * 2 + 4096)
                           + (monitorColumns.count + checkpointColumns.count + 8) * 2048, for: "while writing the file's header")
        let root = try HDF5File.create(output)
        self.root = root
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let config = (try? encoder.encode(configuration)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
        let attributes: [(String, AttributeValue)] = [
            ("format", .string("gradflow-trajectory")), ("format_version", .integer(GradFlowVersion.formatVersion)),
            ("gradflow_version", .string(GradFlowVersion.string)), ("sundials_version", .string(GradFlowVersion.sundials)),
            ("hdf5_version", .string(HDF5File.libraryVersion)),
            ("method", .string(method)), ("status", .string(RunStatus.running.rawValue)), ("message", .string("")),
            ("command_line", .string(commandLine)), ("config", .string(config)),
        ]
        for (name, value) in attributes { try root.setAttribute(name, value) }

        let problem = setup.problem, network = setup.network
        let g = try root.createGroup("problem")
        let q = problem.outputCount
        try g.writeDataset("X", problem.inputs, shape: [problem.sampleCount, problem.dimension])
        // Scalar targets keep DESIGN.md's 1-D shapes; multivariate ones are 2-D (y [n, q], w_star = M* [q, d]).
        try g.writeDataset("y", problem.targets, shape: q == 1 ? [problem.sampleCount] : [problem.sampleCount, q])
        try g.writeDataset("w_star", problem.minimumNormSolution, shape: q == 1 ? [problem.dimension] : [q, problem.dimension])
        if let p = network.projection { try g.writeDataset("p", p, shape: [p.count]) }
        if let test = problem.test {
            try g.writeDataset("X_test", test.inputs, shape: [test.count, problem.dimension])
            try g.writeDataset("y_test", test.targets, shape: q == 1 ? [test.count] : [test.count, q])
        }
        try g.writeDataset("covariance_eigenvalues", problem.covarianceEigenvalues, shape: [problem.dimension])
        try Self.labelHeader(root, problem: g, q: q, setup: setup, monitorColumns: monitorColumns)
        var problemAttributes: [(String, AttributeValue)] = [
            ("source", .string(problem.source)), ("n", .integer(problem.sampleCount)), ("d", .integer(problem.dimension)),
            ("q", .integer(q)), ("n_test", .integer(problem.test?.count ?? 0)),
            ("rank", .integer(problem.rank)), ("R_min", .double(problem.minimumRisk)),
            ("lambda_min", .double(problem.lambdaMin)), ("lambda_max", .double(problem.lambdaMax)),
            ("a", .double(problem.a)), ("w_star_norm", .double(problem.solutionNorm)),
        ]
        if let seed = problem.seed { problemAttributes.append(("seed", .integer(Int(truncatingIfNeeded: seed)))) }
        for (name, value) in problemAttributes { try g.setAttribute(name, value) }

        let n = try root.createGroup("network")
        let networkAttributes: [(String, AttributeValue)] = [
            ("depth", .integer(network.shape.depth)), ("widths", .integers(network.shape.widths)),
            ("kind", .string(network.kind.rawValue)), ("model", .string(network.model.rawValue)),
            ("init", .string(setup.initialization.name)),
            ("init_scale", .double(setup.initialization.scale)), ("layout", .string("row-major")),
            ("parameter_count", .integer(network.shape.parameterCount)),
        ]
        for (name, value) in networkAttributes { try n.setAttribute(name, value) }
        if case let .gaussian(_, zeroLayer?) = setup.initialization { try n.setAttribute("zero_layer", .integer(zeroLayer)) }

        let initial = try root.createGroup("initial")
        try initial.writeDataset("weights", setup.initialWeights, shape: [setup.initialWeights.count])
        try initial.label("weights", "stacked weights θ(0) = (W_1, …, W_L), each block row-major", dimensions: ["/parameter"])
        let resume = try root.createGroup("resume")
        try resume.writeDataset("weights", setup.initialWeights, shape: [setup.initialWeights.count])
        try resume.setAttribute("time", .double(0))
        try resume.setAttribute("row", .integer(-1))
        let start = ResumeState.record(sequence: 0, time: 0, row: -1, weights: setup.initialWeights, extras: resumeExtras)
        var unused = start
        unused[0] = -1  // not a record yet
        try resume.writeDataset("state", start + unused, shape: [2, start.count])
        try resume.label("weights", "stacked weights of the last flushed row", dimensions: ["/parameter"])
        try resume.createDimension("record", size: 2)
        try resume.createDimension("record_entry", size: start.count)
        try resume.label("state", "resume records [sequence, time, row, checksum, θ…, extras…]", dimensions: ["/resume/record", "/resume/record_entry"])
        let trajectory = try root.createGroup("trajectory")
        var columns: [String: HDF5ExtendableDataset] = [:]
        for name in Self.rowColumns { columns[name] = try trajectory.createExtendableDataset(name, columns: nil) }
        for column in monitorColumns where column.width.map({ $0 >= 1 }) ?? true {
            columns[column.name] = try trajectory.createExtendableDataset(column.name, columns: column.width)
        }
        self.columns = columns
        try Self.labelColumns(trajectory, root: root, group: "trajectory", columns: Self.rowColumns.map { TrajectoryColumn($0) } + monitorColumns,
                              shape: network.shape)
        var checkpoints: [String: HDF5ExtendableDataset] = [:]
        if !checkpointColumns.isEmpty {
            let group = try root.createGroup("checkpoints")
            for column in checkpointColumns {
                checkpoints[column.name] = try group.createExtendableDataset(column.name, columns: column.width, chunkRows: 16)
            }
            try Self.labelColumns(group, root: root, group: "checkpoints", columns: checkpointColumns, shape: network.shape)
        }
        self.checkpointColumns = checkpoints
        if !bounds.isEmpty {
            let group = try root.createGroup("bounds")
            for (name, value) in bounds { try group.setAttribute(name, value) }
        }
        try root.flush()
        try output.publish()
    }

    /// Bytes to reserve for a write of `doubles` values and `text` bytes of attributes: the data, a new
    /// chunk or B-tree node per column, and HDF5's metadata, with a margin of 2.
    static func headerBytes(doubles: Int, text: Int) -> Int {
        let (data, overflow) = doubles.multipliedReportingOverflow(by: 16)
        return overflow ? Int.max / 2 : data + 2 * text + (1 << 17)
    }

    /// Reopens an interrupted run's file to continue it: the `/trajectory` columns are cut back to the
    /// resume row (`ResumeState`), the checkpoints to those at or before the resume time,
    /// and `status` is set to `running` again.
    public init(resuming output: OutputFile, flushInterval: Double = 1) throws {
        self.path = output.path
        self.output = output
        self.flushInterval = flushInterval
        try output.reserve(1 << 20, for: "while reopening the file to resume it")
        let root = try HDF5File.open(output.partialPath, writable: true)
        self.root = root
        let state = try ResumeState.read(root, path: output.partialPath)
        let row = state.row, time = state.time
        sequence = state.sequence
        flushedTime = time
        let trajectory = try root.open("trajectory")
        var columns: [String: HDF5ExtendableDataset] = [:]
        for name in trajectory.children() {
            let dataset = try trajectory.openExtendableDataset(name)
            try dataset.truncate(rows: row + 1)
            columns[name] = dataset
        }
        self.columns = columns
        rows = row + 1
        var checkpoints: [String: HDF5ExtendableDataset] = [:]
        if root.contains("checkpoints") {
            let group = try root.open("checkpoints")
            // At or before the resume time, and no more than every checkpoint column holds (a kill inside a
            // flush can leave them ragged); none when the run restarts at t = 0.
            let lengths = try group.children().map { try group.datasetShape($0).first ?? 0 }
            let kept = row < 0 ? 0 : min(try group.readDataset("time").values.filter { $0 <= time }.count, lengths.min() ?? 0)
            for name in group.children() {
                let dataset = try group.openExtendableDataset(name)
                try dataset.truncate(rows: kept)
                checkpoints[name] = dataset
            }
        }
        checkpointColumns = checkpoints
        try root.setAttribute("status", .string(RunStatus.running.rawValue))
        try root.flush()
    }

    /// Records one output time, with the monitors' values keyed by column name, and the weights there
    /// (kept for `/resume`). Buffered; flushed at most every `flushInterval` seconds.
    public func append(time: Double, evaluation: RiskEvaluation, monitors: [String: [Double]] = [:], weights: [Double]? = nil,
                       resumeExtras: [Double] = []) throws {
        if let weights { latest = (time, weights, resumeExtras) }
        let values = [time, evaluation.loss, evaluation.excessRisk, evaluation.gradientNormSquared]
        for (name, value) in zip(Self.rowColumns, values) { pending[name, default: []].append(value) }
        for (name, values) in monitors where columns[name] != nil { pending[name, default: []].append(contentsOf: values) }
        rows += 1
        if Date().timeIntervalSince(lastFlush) >= flushInterval { try flush() }
    }

    /// The `/trajectory` columns as recorded so far: (name, values row-major, width).
    func recordedColumns() throws -> [(String, [Double], Int)] {
        try flush()
        let trajectory = try openRoot().open("trajectory")
        return try trajectory.children().map { name in
            let (values, shape) = try trajectory.readDataset(name)
            return (name, values, shape.count == 2 ? shape[1] : 1)
        }
    }

    /// The number of sharpness checkpoints in the file.
    var checkpointRows: Int { checkpointColumns["time"]?.rows ?? 0 }

    /// Sets (or replaces) an attribute of the file's root group.
    public func setRootAttribute(_ name: String, _ value: AttributeValue) throws {
        try output.reserve(Self.headerBytes(doubles: 0, text: value.description.utf8.count), for: "while writing the attribute \(name)")
        try openRoot().setAttribute(name, value)
    }

    private func openRoot() throws -> HDF5Node {
        if let storageFailure { throw storageFailure }
        guard let root else { throw GradFlowError.fileAccess(path: path, reason: "the trajectory file is closed") }
        return root
    }

    /// Checks the room for a write of `doubles` more values (and a new chunk per column), before it
    /// happens; remembers a failure, so that nothing more is written.
    private func reserve(doubles: Int, what: String, newChunks: Bool = true) throws {
        if let storageFailure { throw storageFailure }
        let chunkBytes = !newChunks ? 0 : columns.values.reduce(0) { $0 + 256 * 8 * max($1.columns, 1) }
            + checkpointColumns.values.reduce(0) { $0 + 16 * 8 * max($1.columns, 1) }
        let (bytes, overflow) = doubles.multipliedReportingOverflow(by: 16)
        do {
            try output.reserve(overflow ? Int.max / 2 : bytes + chunkBytes + (1 << 17), for: what)
        } catch let error as GradFlowError {
            storageFailure = error
            throw error
        }
    }

    /// "at t = …; the file holds the run up to t = …" for storage messages.
    private func when(_ time: Double?) -> String {
        let reached = time.map { "at t = \($0)" } ?? "at the start"
        let saved = flushedTime.map { "; the file holds the run up to t = \($0)" } ?? ""
        return reached + saved
    }

    /// Releases the file (HDF5 closes it), after `finish`; the output is then ready to be committed.
    public func close() {
        columns = [:]
        checkpointColumns = [:]
        root = nil
    }

    /// Appends one sharpness checkpoint (columns keyed by name) and flushes.
    public func appendCheckpoint(_ values: [String: [Double]]) throws {
        try reserve(doubles: values.values.reduce(0) { $0 + $1.count } + pending.values.reduce(0) { $0 + $1.count } + (latest?.weights.count ?? 0),
                    what: when(latest?.time))
        for (name, row) in values { try checkpointColumns[name]?.append(row) }
        try flush()
    }

    /// Writes the pending rows, the resume state (the weights of the last row, its time and index, in
    /// `/resume`), and flushes the file to disk: after a crash the file holds a consistent run up to here.
    public func flush() throws {
        let root = try openRoot()
        try reserve(doubles: pending.values.reduce(0) { $0 + $1.count } + (latest?.weights.count ?? 0), what: when(latest?.time))
        for (name, values) in pending where !values.isEmpty { try columns[name]?.append(values) }
        pending.removeAll(keepingCapacity: true)
        // The rows first, then the record that points at them: a kill between the two flushes, or inside
        // either, leaves a record whose rows are on disk (ResumeState).
        if let latest, root.contains("resume") {
            try root.flush()
            let resume = try root.open("resume")
            sequence += 1
            if resume.contains("state") {
                try resume.updateRow("state", row: sequence % 2, ResumeState.record(sequence: sequence, time: latest.time, row: rows - 1,
                                                                                   weights: latest.weights, extras: latest.extras))
            }
            try resume.updateDataset("weights", latest.weights)
            try resume.setAttribute("time", .double(latest.time))
            try resume.setAttribute("row", .integer(rows - 1))
        }
        try root.flush()
        flushedTime = latest?.time ?? flushedTime
        lastFlush = Date()
    }

    /// Writes the final weights and the solver group, sets `status` and `message`, and flushes.
    public func finish(status: RunStatus, message: String, finalWeights: [Double]?, solver: [(String, AttributeValue)],
                       verdicts: [MonitorVerdict] = []) throws {
        try flush()
        try reserve(doubles: (finalWeights?.count ?? 0) + 64 * verdicts.count + 1024,
                    what: when(latest?.time) + " (while closing the file)", newChunks: false)
        let root = try openRoot()
        if !verdicts.isEmpty {
            let group = root.contains("monitors") ? try root.open("monitors") : try root.createGroup("monitors")
            for v in verdicts {
                try group.setAttribute(v.key + "_title", .string(v.title))
                try group.setAttribute(v.key + "_worst", .string(v.worst))
                try group.setAttribute(v.key + "_bound", .string(v.bound))
                try group.setAttribute(v.key + "_verdict", .string(v.outcome.rawValue))
                try group.setAttribute(v.key + "_note", .string(v.note))
            }
        }
        if let finalWeights {
            let group = root.contains("final") ? try root.open("final") : try root.createGroup("final")
            if !group.contains("weights") {
                try group.writeDataset("weights", finalWeights, shape: [finalWeights.count])
                if root.contains("parameter") {
                    try group.label("weights", "stacked weights at the end of the run, each block row-major", dimensions: ["/parameter"])
                }
            }
        }
        let s = root.contains("solver") ? try root.open("solver") : try root.createGroup("solver")
        for (name, value) in solver { try s.setAttribute(name, value) }
        try root.setAttribute("status", .string(status.rawValue))
        try root.setAttribute("message", .string(message))
        try root.flush()
    }
}
