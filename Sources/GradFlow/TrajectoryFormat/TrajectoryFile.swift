/// Reads a trajectory file written by `TrajectoryWriter` (for `gradflow inspect`, tests and
/// continuing runs).
public final class TrajectoryFile {
    private typealias Layout = TrajectoryLayout
    public let path: String
    let root: HDF5Node

    /// Opens the file and checks that it is a GradFlow trajectory.
    /// - Throws: `GradFlowError.fileAccess` when it is not HDF5, `.invalidData` when it is not a trajectory.
    public init(path: String) throws {
        self.path = path
        try InputFile.checkReadable(path)  // before any open: a FIFO or a device would block
        root = try HDF5File.open(path)
        guard case .string(Layout.format)? = try? root.attribute(Layout.Root.format) else {
            throw GradFlowError.invalidData(file: path, field: Layout.Root.format,
                                            reason: "not a GradFlow trajectory file (no format = \"\(Layout.format)\" attribute)")
        }
    }

    /// `format_version`.
    public var formatVersion: Int {
        if case let .integer(v)? = try? root.attribute(Layout.Root.formatVersion) { return v }
        return 0
    }

    /// The run's status (`running` while a run writes it, or after a crash).
    public var status: RunStatus? {
        if case let .string(s)? = try? root.attribute(Layout.Root.status) { return RunStatus(rawValue: s) }
        return nil
    }

    /// A root attribute as text ("" when absent).
    public func attribute(_ name: String) -> String {
        (try? root.attribute(name))?.description ?? ""
    }

    /// A root attribute as a value.
    public func value(_ name: String, in group: String? = nil) throws -> AttributeValue {
        try (group.map { try root.open($0) } ?? root).attribute(name)
    }

    /// All attributes of a group, in name order (empty when the group is absent).
    public func groupAttributes(_ group: String) -> [(String, AttributeValue)] {
        guard root.contains(group), let node = try? root.open(group) else { return [] }
        return node.attributeNames().compactMap { name in (try? node.attribute(name)).map { (name, $0) } }
    }

    /// A numeric dataset's values (row-major).
    public func dataset(_ path: String) throws -> [Double] {
        try root.readDataset(path).values
    }

    /// A dataset's values and shape (empty when absent).
    public func datasetWithShape(_ path: String) -> (values: [Double], shape: [Int]) {
        guard root.contains(path), let result = try? root.readDataset(path) else { return ([], []) }
        return result
    }

    /// The number of values of a dataset, nil when absent.
    public func datasetLength(_ path: String) -> Int? {
        guard root.contains(path), let shape = try? root.datasetShape(path) else { return nil }
        return shape.reduce(1, *)
    }

    /// The datasets of `/trajectory`, `/checkpoints` and `/resume` that cannot be opened: a process killed in
    /// the middle of an HDF5 flush can leave an object header torn ("incorrect metadata checksum").
    public func damagedObjects() -> [String] {
        Layout.Group.written.flatMap { group -> [String] in
            guard root.contains(group) else { return [] }
            guard let node = try? root.open(group) else { return ["/" + group] }
            return node.children().filter { (try? node.datasetShape($0)) == nil }.map { "/\(group)/\($0)" }
        }
    }

    /// Checks the four columns every trajectory holds (`RowColumnCheck`) before they are shown or plotted:
    /// present, numbers, one value per row, and of equal lengths when `status` says the run ended (a
    /// partial's may differ after a kill inside a flush).
    /// - Throws: `GradFlowError.invalidData` naming the file and the column.
    public func checkRowColumns() throws {
        let finished = status.map { $0 != .running } ?? false
        try RowColumnCheck.check(root, path: path, mode: finished ? .finished : .partial)
    }

    /// The state a resumed run continues from (`ResumeState`): consistent with the rows on disk even after
    /// a kill inside a flush.
    public func resumeState() throws -> ResumeState { try ResumeState.read(root, path: path) }

    /// The names of a group's datasets, sorted (none when the group is missing).
    public func datasetNames(in group: String) -> [String] {
        guard root.contains(group), let node = try? root.open(group), !node.isDataset else { return [] }
        return node.children().filter { (try? node.datasetShape($0)) != nil }.sorted()
    }

    /// The one-dimensional `/trajectory` columns, `time` first.
    public func trajectoryColumns() throws -> [(name: String, values: [Double])] {
        guard root.contains(Layout.Group.trajectory) else { return [] }
        let group = try root.open(Layout.Group.trajectory)
        let names = group.children().sorted { a, b in
            let order = Layout.Trajectory.rowColumns
            return (order.firstIndex(of: a) ?? 99, a) < (order.firstIndex(of: b) ?? 99, b)
        }
        return try names.compactMap { name in
            let (values, shape) = try group.readDataset(name)
            return shape.count == 1 ? (name, values) : nil
        }
    }

    /// The verdicts of `/monitors`, in table order (`MonitorVerdict.init(attributes:key:)`).
    public func monitorVerdicts() -> [MonitorVerdict] {
        let attributes = Dictionary(groupAttributes(Layout.Group.monitors), uniquingKeysWith: { a, _ in a })
        let keys = attributes.keys.filter { $0.hasSuffix("_verdict") }.map { String($0.dropLast("_verdict".count)) }
        return keys.sorted { (MonitorVerdict.order(in: attributes, key: $0), $0) < (MonitorVerdict.order(in: attributes, key: $1), $1) }
            .map { MonitorVerdict(attributes: attributes, key: $0) }
    }
}
