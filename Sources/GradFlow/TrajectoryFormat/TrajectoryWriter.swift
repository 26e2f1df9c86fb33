import FoundationEssentials

/// Writes one run's trajectory file, with the names of `TrajectoryLayout` (DESIGN.md's schema, the
/// interface that readers rely on). It knows the format, not the run: what it writes comes as a
/// `TrajectoryHeader`, rows of numbers, and the final status.
///
/// `init` writes the header (everything known before the run) and flushes. Rows are buffered and appended
/// to the extendable `/trajectory` datasets, and the file is flushed every `flushInterval` seconds, so an
/// interrupted run leaves a readable file up to its last flush. `finish` writes the final weights,
/// `/solver`, the status and message. A header that `savesWeights` adds the `/weights` group: saved rows
/// (`appendWeights`) are buffered with the others and written at the same flushes.
package final class TrajectoryWriter {
    /// The file as the user named it (the final path).
    package let path: String
    /// Where the content lives while the run goes on: `path.partial` once the header is flushed.
    package var contentPath: String { output.isPublished ? output.partialPath : path }
    /// The claimed output: its lock, its room checks and the final rename.
    package let output: OutputFile
    private var root: HDF5Node?
    private var columns: [String: HDF5ExtendableDataset] = [:]
    private var checkpointColumns: [String: HDF5ExtendableDataset] = [:]
    private var pending: [String: [Double]] = [:]
    /// `/weights/time` and `/weights/weights`, when the run saves its weights.
    private var weightColumns: (time: HDF5ExtendableDataset, weights: HDF5ExtendableDataset)?
    /// The saved rows not yet written: their times, and their weights one row after the other.
    private var pendingWeights: (times: [Double], values: [Double]) = ([], [])
    /// The time of the last saved weights row (written or pending); nil before the first.
    package private(set) var lastSavedWeightsTime: Double?
    private let flushInterval: Double
    private var lastFlush = Date()
    /// The weights and time of the last appended row: written to `/resume` at every flush.
    private var latest: (time: Double, weights: [Double], extras: [Double])?
    /// The time of the last row on disk (flushed), for the message of a storage failure.
    package private(set) var flushedTime: Double?
    /// The first storage failure: once the disk is full, nothing more is written (the file keeps its last
    /// flushed state).
    package private(set) var storageFailure: GradFlowError?
    /// Rows written (flushed or pending).
    package private(set) var rows = 0
    /// The sequence number of the last `/resume/state` record.
    private var sequence = 0

    private typealias Layout = TrajectoryLayout

    /// Creates the file's content in the claimed `output`, writes `header` (root attributes with
    /// `status = running`, the root dimensions, `/problem`, `/network`, `/initial/weights`, `/resume` at θ(0),
    /// the empty `/trajectory` and `/checkpoints` columns, `/bounds`), flushes, and names it `path.partial`
    /// (resumable from then on). Cost: writing the header's values once.
    package init(output: OutputFile, header: TrajectoryHeader, flushInterval: Double = 1) throws {
        self.path = output.path
        self.output = output
        self.flushInterval = flushInterval
        try output.reserve(Self.headerBytes(doubles: header.valueCount, text: header.commandLine.utf8.count * 2 + 4096)
                           + (header.rowColumns.count + header.checkpointColumns.count + (header.savesWeights ? 2 : 0) + 8) * 2048,
                           for: "while writing the file's header")
        let root = try HDF5Output.create(output)
        self.root = root
        let attributes: [(String, AttributeValue)] = [
            (Layout.Root.format, .string(Layout.format)), (Layout.Root.formatVersion, .integer(GradFlowVersion.formatVersion)),
            (Layout.Root.gradflowVersion, .string(GradFlowVersion.string)), (Layout.Root.sundialsVersion, .string(GradFlowVersion.sundials)),
            (Layout.Root.hdf5Version, .string(HDF5File.libraryVersion)),
            (Layout.Root.method, .string(header.method)), (Layout.Root.status, .string(RunStatus.running.rawValue)),
            (Layout.Root.message, .string("")),
            (Layout.Root.commandLine, .string(header.commandLine)), (Layout.Root.config, .string(header.configuration)),
        ]
        for (name, value) in attributes { try root.setAttribute(name, value) }
        root.beginDimensionBatch()  // the header's axes are attached at once, before the flush
        // The objects the header creates stay open until their axes are attached (labelled by name, and the
        // batch attaches them, through the open nodes: HDF5File's `openNode`).
        var held: [HDF5Node] = []
        for (name, size) in header.dimensions { held += [try root.createDimension(name, size: size)].compactMap { $0 } }

        let problem = try root.createGroup(Layout.Group.problem)
        for dataset in header.problemDatasets {
            held.append(try problem.writeDataset(dataset.name, dataset.values, shape: dataset.shape))
            try problem.label(dataset.name, dataset.longName, dimensions: dataset.dimensions)
        }
        for (name, value) in header.problemAttributes { try problem.setAttribute(name, value) }
        let network = try root.createGroup(Layout.Group.network)
        for (name, value) in header.networkAttributes { try network.setAttribute(name, value) }

        let weights = header.initialWeights, parameter = "/" + Layout.Dimension.parameter
        let initial = try root.createGroup(Layout.Group.initial)
        held.append(try initial.writeDataset(Layout.weights, weights, shape: [weights.count]))
        try initial.label(Layout.weights, "stacked weights θ(0) = (W_1, …, W_L), each block row-major", dimensions: [parameter])
        let resume = try root.createGroup(Layout.Group.resume)
        held.append(try resume.writeDataset(Layout.Resume.weights, weights, shape: [weights.count]))
        try resume.setAttribute(Layout.Resume.time, .double(0))
        try resume.setAttribute(Layout.Resume.row, .integer(-1))
        let start = ResumeState.record(sequence: 0, time: 0, row: -1, weights: weights, extras: header.resumeExtras)
        var unused = start
        unused[0] = -1  // not a record yet
        held.append(try resume.writeDataset(Layout.Resume.state, start + unused, shape: [2, start.count]))
        try resume.label(Layout.Resume.weights, "stacked weights of the last flushed row", dimensions: [parameter])
        held += [try resume.createDimension(Layout.Resume.record, size: 2),
                 try resume.createDimension(Layout.Resume.recordEntry, size: start.count)].compactMap { $0 }
        let resumePath = "/" + Layout.Group.resume + "/"
        try resume.label(Layout.Resume.state, "resume records [sequence, time, row, checksum, θ…, extras…]",
                         dimensions: [resumePath + Layout.Resume.record, resumePath + Layout.Resume.recordEntry])
        let trajectory = try root.createGroup(Layout.Group.trajectory)
        var columns: [String: HDF5ExtendableDataset] = [:]
        for name in Layout.Trajectory.rowColumns { columns[name] = try trajectory.createExtendableDataset(name, columns: nil) }
        for column in header.rowColumns where column.width.map({ $0 >= 1 }) ?? true {
            columns[column.name] = try trajectory.createExtendableDataset(column.name, columns: column.width)
        }
        self.columns = columns
        try Self.labelColumns(trajectory, root: root, group: Layout.Group.trajectory, columns: Layout.Trajectory.rowColumnHeaders + header.rowColumns)
        var checkpoints: [String: HDF5ExtendableDataset] = [:]
        if !header.checkpointColumns.isEmpty {
            let group = try root.createGroup(Layout.Group.checkpoints)
            for column in header.checkpointColumns {
                checkpoints[column.name] = try group.createExtendableDataset(column.name, columns: column.width, chunkRows: 16)
            }
            try Self.labelColumns(group, root: root, group: Layout.Group.checkpoints, columns: header.checkpointColumns)
        }
        self.checkpointColumns = checkpoints
        if header.savesWeights {
            let group = try root.createGroup(Layout.Group.weights)
            let time = try group.createExtendableDataset(Layout.Trajectory.time, columns: nil)
            let saved = try group.createExtendableDataset(Layout.weights, columns: weights.count, chunkRows: Self.weightChunkRows(parameters: weights.count))
            weightColumns = (time, saved)
            try Self.labelColumns(group, root: root, group: Layout.Group.weights, columns: [
                TrajectoryHeader.Column(Layout.Trajectory.time, longName: Layout.Trajectory.timeDescription),
                TrajectoryHeader.Column(Layout.weights, width: weights.count, dimension: Layout.Dimension.parameter,
                                        longName: "stacked weights θ(t) = (W_1, …, W_L) at the saved rows, each block row-major"),
            ])
        }
        if !header.bounds.isEmpty {
            let group = try root.createGroup(Layout.Group.bounds)
            for (name, value) in header.bounds { try group.setAttribute(name, value) }
        }
        try root.writeDimensionBatch()
        held.removeAll()
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
    /// resume row (`ResumeState`), the checkpoints and the saved weights to those at or before the resume time,
    /// and `status` is set to `running` again.
    package init(resuming output: OutputFile, flushInterval: Double = 1) throws {
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
        let trajectory = try root.open(Layout.Group.trajectory)
        var columns: [String: HDF5ExtendableDataset] = [:]
        for name in trajectory.children() {
            let dataset = try trajectory.openExtendableDataset(name)
            try dataset.truncate(rows: row + 1)
            columns[name] = dataset
        }
        self.columns = columns
        rows = row + 1
        var checkpoints: [String: HDF5ExtendableDataset] = [:]
        if root.contains(Layout.Group.checkpoints) {
            let group = try root.open(Layout.Group.checkpoints)
            // At or before the resume time, and no more than every checkpoint column holds (a kill inside a
            // flush can leave them ragged); none when the run restarts at t = 0.
            let lengths = try group.children().map { try group.datasetShape($0).first ?? 0 }
            let kept = row < 0 ? 0 : min(try group.readDataset(Layout.Trajectory.time).values.filter { $0 <= time }.count, lengths.min() ?? 0)
            for name in group.children() {
                let dataset = try group.openExtendableDataset(name)
                try dataset.truncate(rows: kept)
                checkpoints[name] = dataset
            }
        }
        checkpointColumns = checkpoints
        if root.contains(Layout.Group.weights) {
            // As the checkpoints: at or before the resume time, no more than both datasets hold (a kill inside a
            // flush can leave them ragged), none when the run restarts at t = 0.
            let group = try root.open(Layout.Group.weights)
            let times = try group.readDataset(Layout.Trajectory.time).values
            let lengths = [times.count, try group.datasetShape(Layout.weights).first ?? 0]
            let kept = row < 0 ? 0 : min(times.filter { $0 <= time }.count, lengths.min() ?? 0)
            let timeColumn = try group.openExtendableDataset(Layout.Trajectory.time)
            let saved = try group.openExtendableDataset(Layout.weights)
            try timeColumn.truncate(rows: kept)
            try saved.truncate(rows: kept)
            weightColumns = (timeColumn, saved)
            lastSavedWeightsTime = kept > 0 ? times[kept - 1] : nil
        }
        try root.setAttribute(Layout.Root.status, .string(RunStatus.running.rawValue))
        try root.flush()
    }

    /// Records one output row: the time, the risk's three columns, the other columns keyed by name (a name
    /// without a `/trajectory` column is ignored), and the weights there with what a resume needs beside them
    /// (kept for `/resume`). Buffered; flushed at most every `flushInterval` seconds.
    package func append(time: Double, loss: Double, excessRisk: Double, gradientNormSquared: Double,
                       columns values: [String: [Double]] = [:], weights: [Double]? = nil, resumeExtras: [Double] = []) throws {
        if let weights { latest = (time, weights, resumeExtras) }
        for (name, value) in zip(Layout.Trajectory.rowColumns, [time, loss, excessRisk, gradientNormSquared]) {
            pending[name, default: []].append(value)
        }
        for (name, values) in values where columns[name] != nil { pending[name, default: []].append(contentsOf: values) }
        rows += 1
        let weightBuffer = weightColumns.map { Self.weightBufferRows(parameters: $0.weights.columns) } ?? Int.max
        if Date().timeIntervalSince(lastFlush) >= flushInterval || pendingWeights.times.count >= weightBuffer { try flush() }
    }

    /// Saves the weights of one row in `/weights` (ignored when the file has no such group). Call it before the
    /// row's `append`, which may flush: the saved row then reaches the disk with its `/trajectory` row, before
    /// the resume record that points at it. Buffered like the rows; at most `weightBufferRows` rows are held
    /// before a flush.
    package func appendWeights(time: Double, weights: [Double]) {
        guard let columns = weightColumns, weights.count == columns.weights.columns else { return }
        pendingWeights.times.append(time)
        pendingWeights.values.append(contentsOf: weights)
        lastSavedWeightsTime = time
    }

    /// Whether the file has the `/weights` group.
    package var savesWeights: Bool { weightColumns != nil }

    /// Rows of P saved weights per chunk of `/weights/weights` (at most 2^20 values, 8 MiB).
    package static func weightChunkRows(parameters: Int) -> Int { max(1, min(16, (1 << 20) / max(parameters, 1))) }

    /// The most saved weights rows held in memory between two flushes: 2^20 values (8 MiB), or one row.
    package static func weightBufferRows(parameters: Int) -> Int { max(1, (1 << 20) / max(parameters, 1)) }

    /// The `/trajectory` columns as recorded so far: (name, values row-major, width).
    func recordedColumns() throws -> [(String, [Double], Int)] {
        try flush()
        let trajectory = try openRoot().open(Layout.Group.trajectory)
        return try trajectory.children().map { name in
            let (values, shape) = try trajectory.readDataset(name)
            return (name, values, shape.count == 2 ? shape[1] : 1)
        }
    }

    /// The number of sharpness checkpoints in the file.
    var checkpointRows: Int { checkpointColumns[Layout.Trajectory.time]?.rows ?? 0 }

    /// Sets (or replaces) an attribute of the file's root group.
    package func setRootAttribute(_ name: String, _ value: AttributeValue) throws {
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
            + (weightColumns.map { 256 * 8 + Self.weightChunkRows(parameters: $0.weights.columns) * 8 * $0.weights.columns } ?? 0)
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
    package func close() {
        columns = [:]
        checkpointColumns = [:]
        weightColumns = nil
        root = nil
    }

    /// Appends one sharpness checkpoint (columns keyed by name) and flushes.
    package func appendCheckpoint(_ values: [String: [Double]]) throws {
        try reserve(doubles: values.values.reduce(0) { $0 + $1.count } + pendingValueCount, what: when(latest?.time))
        for (name, row) in values { try checkpointColumns[name]?.append(row) }
        try flush()
    }

    /// The values a flush writes: the pending rows, the saved weights and the resume state's weights.
    private var pendingValueCount: Int {
        pending.values.reduce(0) { $0 + $1.count } + pendingWeights.times.count + pendingWeights.values.count + (latest?.weights.count ?? 0)
    }

    /// Writes the pending rows (and saved weights), the resume state (the weights of the last row, its time and index, in
    /// `/resume`), and flushes the file to disk: after a crash the file holds a consistent run up to here.
    package func flush() throws {
        let root = try openRoot()
        try reserve(doubles: pendingValueCount, what: when(latest?.time))
        for (name, values) in pending where !values.isEmpty { try columns[name]?.append(values) }
        pending.removeAll(keepingCapacity: true)
        if let weightColumns, !pendingWeights.times.isEmpty {
            try weightColumns.time.append(pendingWeights.times)
            try weightColumns.weights.append(pendingWeights.values)
            pendingWeights.times.removeAll(keepingCapacity: true)
            pendingWeights.values.removeAll(keepingCapacity: true)
        }
        // The rows first, then the record that points at them: a kill between the two flushes, or inside
        // either, leaves a record whose rows are on disk (ResumeState).
        if let latest, root.contains(Layout.Group.resume) {
            try root.flush()
            let resume = try root.open(Layout.Group.resume)
            sequence += 1
            if resume.contains(Layout.Resume.state) {
                try resume.updateRow(Layout.Resume.state, row: sequence % 2, ResumeState.record(sequence: sequence, time: latest.time, row: rows - 1,
                                                                                   weights: latest.weights, extras: latest.extras))
            }
            try resume.updateDataset(Layout.Resume.weights, latest.weights)
            try resume.setAttribute(Layout.Resume.time, .double(latest.time))
            try resume.setAttribute(Layout.Resume.row, .integer(rows - 1))
        }
        try root.flush()
        flushedTime = latest?.time ?? flushedTime
        lastFlush = Date()
    }

    /// Writes the final weights and the solver group, sets `status` and `message`, and flushes.
    /// `datasets` are written whole into their groups (created when missing), on root dimensions that are
    /// created with the dataset's sizes when the file has none of that name.
    package func finish(status: RunStatus, message: String, finalWeights: [Double]?, solver: [(String, AttributeValue)],
                        verdicts: [MonitorVerdict] = [], datasets: [(group: String, dataset: TrajectoryHeader.Dataset)] = []) throws {
        try flush()
        try reserve(doubles: (finalWeights?.count ?? 0) + 64 * verdicts.count + datasets.reduce(0) { $0 + $1.dataset.values.count } + 1024,
                    what: when(latest?.time) + " (while closing the file)", newChunks: false)
        let root = try openRoot()
        if !verdicts.isEmpty {
            let group = root.contains(Layout.Group.monitors) ? try root.open(Layout.Group.monitors) : try root.createGroup(Layout.Group.monitors)
            for (order, v) in verdicts.enumerated() {
                for (suffix, value) in MonitorVerdict.attributes(v, order: order) { try group.setAttribute(v.key + suffix, value) }
            }
        }
        for (groupName, dataset) in datasets {
            let group = root.contains(groupName) ? try root.open(groupName) : try root.createGroup(groupName)
            if group.contains(dataset.name) { continue }
            try group.writeDataset(dataset.name, dataset.values, shape: dataset.shape)
            for (dimension, size) in zip(dataset.dimensions, dataset.shape) where !root.contains(String(dimension.dropFirst())) {
                try root.createDimension(String(dimension.dropFirst()), size: size)
            }
            try group.label(dataset.name, dataset.longName, dimensions: dataset.dimensions)
        }
        if let finalWeights {
            let group = root.contains(Layout.Group.final) ? try root.open(Layout.Group.final) : try root.createGroup(Layout.Group.final)
            if !group.contains(Layout.weights) {
                try group.writeDataset(Layout.weights, finalWeights, shape: [finalWeights.count])
                if root.contains(Layout.Dimension.parameter) {
                    try group.label(Layout.weights, "stacked weights at the end of the run, each block row-major",
                                    dimensions: ["/" + Layout.Dimension.parameter])
                }
            }
        }
        let s = root.contains(Layout.Group.solver) ? try root.open(Layout.Group.solver) : try root.createGroup(Layout.Group.solver)
        for (name, value) in solver { try s.setAttribute(name, value) }
        try root.setAttribute(Layout.Root.status, .string(status.rawValue))
        try root.setAttribute(Layout.Root.message, .string(message))
        try root.flush()
    }
}
