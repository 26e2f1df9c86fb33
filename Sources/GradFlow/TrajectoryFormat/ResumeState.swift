/// The state a killed or interrupted run continues from: the weights of one recorded row, its time and
/// index, kept in a trajectory file so that it survives `kill -9` at any instant.
///
/// HDF5 is not crash-consistent inside a flush: its metadata goes to disk piece by piece, so a process killed
/// in the middle of one can leave `/resume`'s attributes from one flush beside `/trajectory` extents from
/// another. The state is therefore kept as two self-checking records, `/resume/state` [2, P + 4], each row
/// `[sequence, time, row, checksum, θ…]`, written alternately and only after the rows they refer to were
/// flushed. The newest record whose checksum holds and whose rows are all on disk is the state; a torn
/// record falls back to the other one, which is one flush older. (`/resume/weights` with attributes `time`
/// and `row` keeps the same state for readers, as before.) Gradient descent appends to θ what it needs to
/// continue bit for bit (`extras`: the step k and the accumulated η² drift of MATH.md §5).
public struct ResumeState: Sendable, Equatable {
    /// The time of `weights`.
    public var time: Double
    /// The index of the row recorded at `time` (−1: no row yet, the run restarts at t = 0).
    public var row: Int
    /// θ at `time`, P values.
    public var weights: [Double]
    /// What the dynamics keep beside θ (descent: `[k, drift…]`); empty for gradient flow.
    public var extras: [Double] = []
    /// The sequence number of the record it came from (the next record gets a larger one).
    public var sequence: Int = 0
    /// Why this state is θ(0) at t = 0 although the file records rows: no record of `/resume/state` passes its
    /// checksum, or (files without records) `/resume`'s attributes do not match the rows. nil for a state
    /// read from a valid record. Such a file was edited or corrupted: the run is not continued from it in place.
    public var fallback: Fallback?

    /// Why a file's state could not be read from `/resume` (`ResumeState.fallback`).
    public struct Fallback: Sendable, Equatable {
        /// The dataset or group at fault (`/resume/state`).
        public var field: String
        /// What is wrong with it.
        public var reason: String
    }

    /// The entries of one `/resume/state` record: `[sequence, time, row, checksum, θ…, extras…]`.
    /// One allocation of P + 4 values and no concatenated temporaries (at case E's P = 10⁷ each was an 80 MB copy, at
    /// every flush).
    static func record(sequence: Int, time: Double, row: Int, weights: [Double], extras: [Double] = []) -> [Double] {
        let head = [Double(sequence), time, Double(row)]
        var record: [Double] = []
        record.reserveCapacity(4 + weights.count + extras.count)
        record += head
        record.append(checksum(head, weights, extras))
        record += weights
        record += extras
        return record
    }

    /// FNV-1a over the bit patterns of the header, the weights and the extras in that order (as one sequence),
    /// reduced to 52 bits (an exact integer Double).
    static func checksum(_ head: [Double], _ weights: [Double], _ extras: [Double] = []) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in [head, weights, extras] {
            part.withUnsafeBufferPointer { values in
                for value in values {
                    var bits = value.bitPattern
                    for _ in 0..<8 {
                        hash ^= bits & 0xff
                        hash = hash &* 0x100_0000_01b3
                        bits >>= 8
                    }
                }
            }
        }
        return Double(hash & ((1 << 52) - 1))
    }

    /// The state of the trajectory file whose root is `root`: the newest valid record (its rows are all on disk),
    /// else, for a file without records, the attributes of `/resume` when they are consistent, else the initial
    /// weights at t = 0 (the run restarts, keeping its header; with `fallback` set when rows were recorded).
    /// - Throws: `GradFlowError.invalidData` naming the file and the dataset for base columns that are missing,
    ///   not numbers or not one value per row (`RowColumnCheck`), a `/resume/state` that is not a numeric
    ///   [2, P + 4 …] dataset, and a valid record whose rows are not all on disk (a column cut by hand).
    static func read(_ root: HDF5Node, path: String) throws -> ResumeState {
        typealias Layout = TrajectoryLayout
        let initial = Layout.path(Layout.Group.initial, Layout.weights), state = Layout.path(Layout.Group.resume, Layout.Resume.state)
        let weights = Layout.path(Layout.Group.resume, Layout.Resume.weights)
        try RowColumnCheck.check(root, path: path, mode: .resume)
        let rows = try trajectoryRows(root)
        let parameters = (try? root.datasetShape(initial))?.first ?? 0
        func startAgain(_ fallback: Fallback?) throws -> ResumeState {
            guard root.contains(initial) else {
                throw GradFlowError.invalidData(file: path, field: "/" + initial, reason: "missing: there is no state to resume from")
            }
            return ResumeState(time: 0, row: -1, weights: try root.readDataset(initial).values, fallback: rows > 0 ? fallback : nil)
        }
        if root.contains(state) {
            let expected = "expected [2, \(parameters + 4)…] records [sequence, time, row, checksum, θ…]"
            guard (try? root.isNumericDataset(state)) == true, let (values, shape) = try? root.readDataset(state) else {
                throw GradFlowError.invalidData(file: path, field: "/" + state, reason: "is not a numeric dataset (\(expected)); the run cannot be resumed")
            }
            guard shape.count == 2, shape[0] == 2, shape[1] >= parameters + 4, shape[1] > 4 else {
                throw GradFlowError.invalidData(file: path, field: "/" + state, reason: "has shape \(shape), \(expected); the run cannot be resumed")
            }
            let width = shape[1]
            let valid = (0..<shape[0]).compactMap { slot -> ResumeState? in
                let record = Array(values[(slot * width)..<((slot + 1) * width)])
                let head = Array(record[0..<3]), payload = Array(record[4...])
                guard record[3] == checksum(head, payload), head[0] >= 0, head[1].isFinite, head[1] >= 0,
                      let row = Int(exactly: head[2]), row >= -1, parameters <= payload.count else { return nil }
                return ResumeState(time: head[1], row: row, weights: Array(payload.prefix(parameters)),
                                   extras: Array(payload.dropFirst(parameters)), sequence: Int(head[0]))
            }
            guard var newest = valid.max(by: { $0.sequence < $1.sequence }) else {
                return try startAgain(Fallback(field: "/" + state, reason: "no record passes its checksum: the file was edited or corrupted"))
            }
            // A record is written only after its rows were flushed: rows missing under a valid record were cut by hand.
            guard newest.row + 1 <= rows else {
                let group = try root.open(Layout.Group.trajectory)
                let short = group.children().compactMap { name in (try? group.datasetShape(name)).map { (name, $0.first ?? 0) } }
                    .min { $0.1 < $1.1 }
                throw GradFlowError.invalidData(
                    file: path, field: "/" + Layout.path(Layout.Group.trajectory, short?.0 ?? Layout.Trajectory.time),
                    reason: "has \(short?.1 ?? 0) rows, fewer than the \(newest.row + 1) that /\(state) records (a column was cut or "
                        + "resized by hand); the run cannot be resumed")
            }
            // Past every record on disk, torn ones included.
            newest.sequence = (0..<shape[0]).map { values[$0 * width] }.filter(\.isFinite).map { Int(max(0, min($0, 1e15))) }.max() ?? newest.sequence
            return newest
        }
        let group = try? root.open(Layout.Group.resume)
        if root.contains(weights), case let .integer(row)? = try? group?.attribute(Layout.Resume.row),
           let time = (try? group?.attribute(Layout.Resume.time))?.doubleValue, row >= -1, row + 1 <= rows, time.isFinite, time >= 0 {
            return ResumeState(time: time, row: row, weights: try root.readDataset(weights).values)
        }
        return try startAgain(Fallback(field: "/" + Layout.Group.resume,
                                       reason: "its weights, time and row attributes are missing or do not match the \(rows) rows on disk: "
                                           + "the file was edited or corrupted"))
    }

    /// The number of complete rows: the shortest `/trajectory` column.
    static func trajectoryRows(_ root: HDF5Node) throws -> Int {
        guard root.contains(TrajectoryLayout.Group.trajectory) else { return 0 }
        let group = try root.open(TrajectoryLayout.Group.trajectory)
        // An unreadable column (a torn header) does not count here; TrajectoryFile.damagedObjects names it.
        return group.children().compactMap { try? group.datasetShape($0).first ?? 0 }.min() ?? 0
    }
}
