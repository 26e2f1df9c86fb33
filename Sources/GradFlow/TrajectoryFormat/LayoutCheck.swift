/// Checks, read-only, that a file to be continued holds the datasets its run writes, with their shapes: every
/// expected `/trajectory` and `/checkpoints` column (one value per row, or `[rows, width]`), numeric, and the
/// `/weights` group (`time` [M] and `weights` [M, P]) exactly when the run saves weights. A file edited by hand
/// (a column removed, widened or narrowed, a group deleted) is refused with one line naming the file and the
/// dataset, before a byte of it changes. Cost: metadata only.
enum LayoutCheck {
    /// `trajectory` and `checkpoints`: the expected columns (name, width; nil for one value per row);
    /// `parameters`: P when the run saves weights, else nil.
    static func check(_ file: TrajectoryFile, trajectory: [(String, Int?)], checkpoints: [(String, Int?)], parameters: Int?) throws {
        typealias Layout = TrajectoryLayout
        let root = file.root, path = file.path
        func expect(_ group: String, _ name: String, width: Int?) throws {
            let field = "/" + Layout.path(group, name)
            func fail(_ reason: String) -> GradFlowError {
                .invalidData(file: path, field: field, reason: reason + "; the run cannot be resumed (was the file edited?)")
            }
            guard root.contains(group), let node = try? root.open(group), node.contains(name) else { throw fail("missing") }
            guard (try? node.isNumericDataset(name)) == true, let shape = try? node.datasetShape(name) else {
                throw fail("is not a column of numbers")
            }
            let expected = width.map { "[rows, \($0)]" } ?? "[rows]"
            guard shape.count == (width == nil ? 1 : 2), width.map({ shape[1] == $0 }) ?? true else {
                throw fail("has shape \(shape), expected \(expected)")
            }
        }
        for (name, width) in trajectory { try expect(Layout.Group.trajectory, name, width: width) }
        for (name, width) in checkpoints { try expect(Layout.Group.checkpoints, name, width: width) }
        if let parameters {
            try expect(Layout.Group.weights, Layout.Trajectory.time, width: nil)
            try expect(Layout.Group.weights, Layout.weights, width: parameters)
        } else if root.contains(Layout.Group.weights) {
            throw GradFlowError.invalidData(file: path, field: "/" + Layout.Group.weights,
                                            reason: "is present, but the run's configuration saves no weights; the run cannot be resumed (was the file edited?)")
        }
    }
}
