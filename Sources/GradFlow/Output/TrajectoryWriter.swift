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
    public let path: String
    private let root: HDF5Node
    private let columns: [String: HDF5ExtendableDataset]
    private let checkpointColumns: [String: HDF5ExtendableDataset]
    private var pending: [String: [Double]] = [:]
    private let flushInterval: Double
    private var lastFlush = Date()
    /// Rows written (flushed or pending).
    public private(set) var rows = 0

    static let rowColumns = ["time", "loss", "excess_risk", "grad_norm_sq"]

    /// Creates the file and writes the header groups. `monitorColumns` are the `/trajectory` columns
    /// beyond the four of every run; `checkpointColumns` those of `/checkpoints` (none: no group).
    public init(path: String, overwrite: Bool, method: String, commandLine: String, configuration: RunConfiguration,
                setup: RunSetup, monitorColumns: [TrajectoryColumn] = [], checkpointColumns: [TrajectoryColumn] = [],
                bounds: [(String, HDF5Value)] = [], flushInterval: Double = 1) throws {
        self.path = path
        self.flushInterval = flushInterval
        root = try HDF5File.create(path, overwrite: overwrite)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let config = (try? encoder.encode(configuration)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
        let attributes: [(String, HDF5Value)] = [
            ("format", .string("gradflow-trajectory")), ("format_version", .integer(GradFlowVersion.formatVersion)),
            ("gradflow_version", .string(GradFlowVersion.string)), ("sundials_version", .string(GradFlowVersion.sundials)),
            ("hdf5_version", .string(HDF5File.libraryVersion)),
            ("method", .string(method)), ("status", .string(RunStatus.running.rawValue)), ("message", .string("")),
            ("command_line", .string(commandLine)), ("config", .string(config)),
        ]
        for (name, value) in attributes { try root.setAttribute(name, value) }

        let problem = setup.problem, network = setup.network
        let g = try root.createGroup("problem")
        try g.writeDataset("X", problem.inputs, shape: [problem.sampleCount, problem.dimension])
        try g.writeDataset("y", problem.targets, shape: [problem.sampleCount])
        try g.writeDataset("w_star", problem.minimumNormSolution, shape: [problem.dimension])
        try g.writeDataset("p", network.projection, shape: [network.projection.count])
        try g.writeDataset("covariance_eigenvalues", problem.covarianceEigenvalues, shape: [problem.dimension])
        var problemAttributes: [(String, HDF5Value)] = [
            ("source", .string(problem.source)), ("n", .integer(problem.sampleCount)), ("d", .integer(problem.dimension)),
            ("rank", .integer(problem.rank)), ("R_min", .double(problem.minimumRisk)),
            ("lambda_min", .double(problem.lambdaMin)), ("lambda_max", .double(problem.lambdaMax)),
            ("a", .double(problem.a)), ("w_star_norm", .double(problem.solutionNorm)),
        ]
        if let seed = problem.seed { problemAttributes.append(("seed", .integer(Int(truncatingIfNeeded: seed)))) }
        for (name, value) in problemAttributes { try g.setAttribute(name, value) }

        let n = try root.createGroup("network")
        let networkAttributes: [(String, HDF5Value)] = [
            ("depth", .integer(network.shape.depth)), ("widths", .integers(network.shape.widths)),
            ("kind", .string(network.kind.rawValue)), ("init", .string(setup.initialization.name)),
            ("init_scale", .double(setup.initialization.scale)), ("layout", .string("row-major")),
            ("parameter_count", .integer(network.shape.parameterCount)),
        ]
        for (name, value) in networkAttributes { try n.setAttribute(name, value) }
        if case let .gaussian(_, zeroLayer?) = setup.initialization { try n.setAttribute("zero_layer", .integer(zeroLayer)) }

        let initial = try root.createGroup("initial")
        try initial.writeDataset("weights", setup.initialWeights, shape: [setup.initialWeights.count])
        let trajectory = try root.createGroup("trajectory")
        var columns: [String: HDF5ExtendableDataset] = [:]
        for name in Self.rowColumns { columns[name] = try trajectory.createExtendableDataset(name, columns: nil) }
        for column in monitorColumns where column.width.map({ $0 >= 1 }) ?? true {
            columns[column.name] = try trajectory.createExtendableDataset(column.name, columns: column.width)
        }
        self.columns = columns
        var checkpoints: [String: HDF5ExtendableDataset] = [:]
        if !checkpointColumns.isEmpty {
            let group = try root.createGroup("checkpoints")
            for column in checkpointColumns {
                checkpoints[column.name] = try group.createExtendableDataset(column.name, columns: column.width, chunkRows: 16)
            }
        }
        self.checkpointColumns = checkpoints
        if !bounds.isEmpty {
            let group = try root.createGroup("bounds")
            for (name, value) in bounds { try group.setAttribute(name, value) }
        }
        try root.flush()
    }

    /// Records one output time, with the monitors' values keyed by column name. Buffered; flushed at
    /// most every `flushInterval` seconds.
    public func append(time: Double, evaluation: RiskEvaluation, monitors: [String: [Double]] = [:]) throws {
        let values = [time, evaluation.loss, evaluation.excessRisk, evaluation.gradientNormSquared]
        for (name, value) in zip(Self.rowColumns, values) { pending[name, default: []].append(value) }
        for (name, values) in monitors where columns[name] != nil { pending[name, default: []].append(contentsOf: values) }
        rows += 1
        if Date().timeIntervalSince(lastFlush) >= flushInterval { try flush() }
    }

    /// Appends one sharpness checkpoint (columns keyed by name) and flushes.
    public func appendCheckpoint(_ values: [String: [Double]]) throws {
        for (name, row) in values { try checkpointColumns[name]?.append(row) }
        try flush()
    }

    /// Writes the pending rows and flushes the file to disk.
    public func flush() throws {
        for (name, values) in pending where !values.isEmpty { try columns[name]!.append(values) }
        pending.removeAll(keepingCapacity: true)
        try root.flush()
        lastFlush = Date()
    }

    /// Writes the final weights and the solver group, sets `status` and `message`, and flushes.
    public func finish(status: RunStatus, message: String, finalWeights: [Double]?, solver: [(String, HDF5Value)],
                       verdicts: [MonitorVerdict] = []) throws {
        try flush()
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
            if !group.contains("weights") { try group.writeDataset("weights", finalWeights, shape: [finalWeights.count]) }
        }
        let s = root.contains("solver") ? try root.open("solver") : try root.createGroup("solver")
        for (name, value) in solver { try s.setAttribute(name, value) }
        try root.setAttribute("status", .string(status.rawValue))
        try root.setAttribute("message", .string(message))
        try root.flush()
    }
}
