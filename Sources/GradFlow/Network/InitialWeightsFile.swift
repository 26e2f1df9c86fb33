/// Initial weights read from an HDF5 file (a configuration's `initWeightsFile`), which also fix depth and widths:
/// - datasets `W1` … `WL` in their natural shapes [m_k, m_{k−1}] (as h5py writes numpy arrays),
///   optionally `p` [m_L];
/// - or a GradFlow trajectory file: its `/final/weights` (or `/initial/weights` when asked, or when
///   the run has no final weights), with the widths of `/network` and the `p` of `/problem`.
public struct InitialWeightsFile: Sendable {
    public var widths: [Int]
    public var weights: [Double]
    public var projection: [Double]?
    /// The network kind recorded in a trajectory file.
    public var kind: NetworkKind?

    /// Which weights of a trajectory file to start from.
    public enum Snapshot: String, Sendable, Codable, CaseIterable {
        case initial
        case final
    }

    public static func load(_ path: String, snapshot: Snapshot = .final) throws -> InitialWeightsFile {
        try InputFile.checkReadable(path)  // before any open: a FIFO or a device would block
        guard DataFile.isHDF5(path) else {
            throw GradFlowError.fileAccess(path: path, reason: "initial weights must be an HDF5 file (datasets W1 … WL)")
        }
        let root = try HDF5File.open(path)
        if root.contains("network"), root.contains("initial/weights") {
            return try loadTrajectory(root, path: path, snapshot: snapshot)
        }
        guard root.contains("W1") else {
            throw GradFlowError.invalidData(file: path, field: "W1", reason: "missing (expected datasets W1 … WL [m_k, m_{k−1}])")
        }
        var blocks: [[Double]] = []
        var widths: [Int] = []
        var k = 1
        while root.contains("W\(k)") {
            let (values, shape) = try root.readDataset("W\(k)")
            guard shape.count == 2 else {
                throw GradFlowError.invalidData(file: path, field: "W\(k)", reason: "has shape \(shape), expected [m_\(k), m_\(k - 1)]")
            }
            guard shape.allSatisfy({ $0 >= 1 }) else {
                throw GradFlowError.invalidData(file: path, field: "W\(k)", reason: "has shape \(shape): every width must be at least 1")
            }
            if k == 1 {
                widths = [shape[1], shape[0]]
            } else {
                guard shape[1] == widths[k - 1] else {
                    throw GradFlowError.invalidData(file: path, field: "W\(k)",
                                                    reason: "has shape \(shape): its \(shape[1]) columns do not match the \(widths[k - 1]) rows of W\(k - 1)")
                }
                widths.append(shape[0])
            }
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw GradFlowError.invalidData(file: path, field: "W\(k)", reason: "entry \(i) is \(values[i]), not finite")
            }
            blocks.append(values)
            k += 1
        }
        var p: [Double]?
        if root.contains("p") {
            p = try root.readDataset("p").values
        }
        return InitialWeightsFile(widths: widths, weights: blocks.flatMap { $0 }, projection: p, kind: nil)
    }

    private static func loadTrajectory(_ root: HDF5Node, path: String, snapshot: Snapshot) throws -> InitialWeightsFile {
        let network = try root.open("network")
        guard case let .integers(widths) = try network.attribute("widths") else {
            throw GradFlowError.invalidData(file: path, field: "/network/widths", reason: "is not a list of integers")
        }
        let group = snapshot == .final && root.contains("final/weights") ? "final/weights" : "initial/weights"
        let shape = try NetworkShape(widths: widths, file: path, field: "/network/widths")
        let (weights, _) = try root.readDataset(group)
        guard weights.count == shape.parameterCount else {
            throw GradFlowError.invalidData(file: path, field: "/" + group,
                                            reason: "has \(weights.count) entries, the widths \(widths) need \(shape.parameterCount)")
        }
        let p = root.contains("problem/p") ? try root.readDataset("problem/p").values : nil
        var kind: NetworkKind?
        if case let .string(name)? = try? network.attribute("kind") { kind = NetworkKind(rawValue: name) }
        return InitialWeightsFile(widths: widths, weights: weights, projection: p, kind: kind)
    }
}
