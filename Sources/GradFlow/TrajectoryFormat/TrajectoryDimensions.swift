/// The named dimensions and `long_name`s of a trajectory file's columns (format version 2): see README, *The
/// trajectory file*. Dimensions without a coordinate variable live in the root group (`sample`, `feature`,
/// `output`, `output_unit`, `sample_test`, `mode`, `parameter`, `layer`, `layer_pair`); the rows of
/// `/trajectory` and `/checkpoints` are labelled by their own `time` column, which is the scale of the
/// `time` dimension of its group and grows with the rows (resume needs nothing more).
extension TrajectoryWriter {
    /// Makes `time` the row dimension of `group` and labels every column (`long_name` from the header's
    /// descriptions); the second axis of a matrix column is `layer_pair`, `layer` or `parameter` by its width
    /// (another width gets a root dimension `NAME_entry`).
    static func labelColumns(_ node: HDF5Node, root: HDF5Node, group: String, columns: [TrajectoryHeader.Column],
                             header: TrajectoryHeader) throws {
        typealias Layout = TrajectoryLayout
        let time = Layout.Trajectory.time
        guard node.contains(time) else { return }
        try node.makeDimensionScale(time)
        try node.describe(time, header.columnDescriptions[time] ?? time)
        let parameters = header.size(of: Layout.Dimension.parameter), depth = header.size(of: Layout.Dimension.layer)
        for column in columns where column.name != time && node.contains(column.name) {
            var dimensions = ["/\(group)/\(time)"]
            if let width = column.width {
                if column.name == Layout.weights || (width == parameters && width != depth && width != depth.map { $0 - 1 }) {
                    dimensions.append("/" + Layout.Dimension.parameter)
                } else if width == depth {
                    dimensions.append("/" + Layout.Dimension.layer)
                } else if width == depth.map({ $0 - 1 }) {
                    dimensions.append("/" + Layout.Dimension.layerPair)
                } else {
                    try root.createDimension("\(column.name)_entry", size: width)
                    dimensions.append("/\(column.name)_entry")
                }
            }
            try node.label(column.name, header.columnDescriptions[column.name] ?? column.name.replacingOccurrences(of: "_", with: " "),
                           dimensions: dimensions)
        }
    }
}
