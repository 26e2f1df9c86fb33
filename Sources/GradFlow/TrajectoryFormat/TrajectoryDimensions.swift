/// The named dimensions and `long_name`s of a trajectory file's columns (format version 2): see README, *The
/// trajectory file*. Dimensions without a coordinate variable live in the root group (`sample`, `feature`,
/// `output`, `output_unit`, `sample_test`, `mode`, `parameter`, `layer`, `layer_pair`); the rows of
/// `/trajectory` and `/checkpoints` are labelled by their own `time` column, which is the scale of the
/// `time` dimension of its group and grows with the rows (resume needs nothing more).
extension TrajectoryWriter {
    /// Makes `time` the row dimension of `group` and labels every column with its `long_name` and the
    /// dimension of its second axis (a root dimension, created when missing).
    static func labelColumns(_ node: HDF5Node, root: HDF5Node, group: String, columns: [TrajectoryHeader.Column]) throws {
        let time = TrajectoryLayout.Trajectory.time
        guard node.contains(time) else { return }
        try node.makeDimensionScale(time)
        for column in columns where node.contains(column.name) {
            if column.name == time {
                try node.describe(time, column.longName)
                continue
            }
            var dimensions = ["/\(group)/\(time)"]
            if let width = column.width, let dimension = column.dimension {
                if !root.contains(dimension) { try root.createDimension(dimension, size: width) }
                dimensions.append("/" + dimension)
            }
            try node.label(column.name, column.longName, dimensions: dimensions)
        }
    }
}
