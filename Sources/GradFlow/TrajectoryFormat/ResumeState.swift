import Foundation

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

    /// The entries of one `/resume/state` record: `[sequence, time, row, checksum, θ…, extras…]`.
    static func record(sequence: Int, time: Double, row: Int, weights: [Double], extras: [Double] = []) -> [Double] {
        let head = [Double(sequence), time, Double(row)]
        return head + [checksum(head, weights + extras)] + weights + extras
    }

    /// FNV-1a over the bit patterns of the header and the weights, reduced to 52 bits (an exact integer Double).
    static func checksum(_ head: [Double], _ weights: [Double]) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in head + weights {
            var bits = value.bitPattern
            for _ in 0..<8 {
                hash ^= bits & 0xff
                hash = hash &* 0x100_0000_01b3
                bits >>= 8
            }
        }
        return Double(hash & ((1 << 52) - 1))
    }

    /// The state of the trajectory file whose root is `root`: the newest valid record with `row + 1 ≤ rows`
    /// (the rows of `/trajectory` on disk), else the attributes of `/resume` when they are consistent, else
    /// the initial weights at t = 0 (the run restarts, keeping its header).
    static func read(_ root: HDF5Node, path: String) throws -> ResumeState {
        typealias Layout = TrajectoryLayout
        let initial = Layout.path(Layout.Group.initial, Layout.weights), state = Layout.path(Layout.Group.resume, Layout.Resume.state)
        let weights = Layout.path(Layout.Group.resume, Layout.Resume.weights)
        let rows = try trajectoryRows(root)
        let parameters = (try? root.datasetShape(initial))?.first ?? 0
        if root.contains(state), let (values, shape) = try? root.readDataset(state), shape.count == 2, shape[1] > 4 {
            let width = shape[1]
            let candidates = (0..<shape[0]).compactMap { slot -> (Int, ResumeState)? in
                let record = Array(values[(slot * width)..<((slot + 1) * width)])
                let head = Array(record[0..<3]), payload = Array(record[4...])
                guard record[3] == checksum(head, payload), head[0] >= 0, head[1].isFinite, head[1] >= 0,
                      let row = Int(exactly: head[2]), row >= -1, row + 1 <= rows, parameters <= payload.count else { return nil }
                return (Int(head[0]), ResumeState(time: head[1], row: row, weights: Array(payload.prefix(parameters)),
                                                  extras: Array(payload.dropFirst(parameters)), sequence: Int(head[0])))
            }
            if let newest = candidates.max(by: { $0.0 < $1.0 }) {
                var state = newest.1
                // Past every record on disk, torn ones included.
                state.sequence = (0..<shape[0]).map { values[$0 * width] }.filter(\.isFinite).map { Int(max(0, min($0, 1e15))) }.max() ?? state.sequence
                return state
            }
        }
        if root.contains(weights), case let .integer(row)? = try? root.open(Layout.Group.resume).attribute(Layout.Resume.row),
           let time = (try? root.open(Layout.Group.resume).attribute(Layout.Resume.time))?.doubleValue, row >= -1, row + 1 <= rows, time.isFinite,
           time >= 0, !root.contains(state) {
            return ResumeState(time: time, row: row, weights: try root.readDataset(weights).values)
        }
        guard root.contains(initial) else {
            throw GradFlowError.invalidData(file: path, field: "/" + initial, reason: "missing: there is no state to resume from")
        }
        return ResumeState(time: 0, row: -1, weights: try root.readDataset(initial).values)
    }

    /// The number of complete rows: the shortest `/trajectory` column.
    static func trajectoryRows(_ root: HDF5Node) throws -> Int {
        guard root.contains(TrajectoryLayout.Group.trajectory) else { return 0 }
        let group = try root.open(TrajectoryLayout.Group.trajectory)
        // An unreadable column (a torn header) does not count here; TrajectoryFile.damagedObjects names it.
        return group.children().compactMap { try? group.datasetShape($0).first ?? 0 }.min() ?? 0
    }
}
