/// Everything a trajectory file holds before its first row, as format-level values: `TrajectoryWriter`
/// writes it without knowing where it came from (the run pipeline builds it from the configuration and the
/// set-up). Names are those of `TrajectoryLayout`.
package struct TrajectoryHeader {
    /// A dataset written whole, with its `long_name` and the named dimensions of its axes (absolute paths of
    /// root dimensions, e.g. `["/sample", "/feature"]`).
    package struct Dataset {
        package var name: String
        package var values: [Double]
        package var shape: [Int]
        package var longName: String
        package var dimensions: [String]

        package init(_ name: String, _ values: [Double], shape: [Int], longName: String, dimensions: [String]) {
            self.name = name
            self.values = values
            self.shape = shape
            self.longName = longName
            self.dimensions = dimensions
        }
    }

    /// An extendable column of `/trajectory` or `/checkpoints`: one value per row (`width` nil) or a row of
    /// `width` values (none are created for a width below 1) whose axis is the root dimension `dimension`
    /// (created with size `width` when the header does not list it).
    package struct Column: Equatable, Sendable {
        package var name: String
        package var width: Int?
        package var dimension: String?
        /// The column's `long_name`.
        package var longName: String

        package init(_ name: String, width: Int? = nil, dimension: String? = nil, longName: String) {
            self.name = name
            self.width = width
            self.dimension = width == nil ? nil : (dimension ?? name + "_entry")
            self.longName = longName
        }
    }

    /// The root attributes `method`, `command_line` and `config` (the writer adds `format`, the versions,
    /// `status` and `message`).
    package var method: String
    package var commandLine: String
    package var configuration: String
    /// The root dimensions without a variable, (name, size), created before anything is labelled; the
    /// sizes of `parameter`, `layer` and `layer_pair` also name the second axis of matrix columns.
    package var dimensions: [(String, Int)]
    package var problemDatasets: [Dataset]
    package var problemAttributes: [(String, AttributeValue)]
    package var networkAttributes: [(String, AttributeValue)]
    /// θ(0): `/initial/weights`, and `/resume`'s state until the first flush.
    package var initialWeights: [Double]
    /// The `/trajectory` columns beyond the four of every run (`TrajectoryLayout.Trajectory.rowColumns`).
    package var rowColumns: [Column]
    /// The `/checkpoints` columns (none: no group).
    package var checkpointColumns: [Column]
    /// The `/bounds` attributes (none: no group).
    package var bounds: [(String, AttributeValue)]
    /// What a resumed run keeps beside θ(0) (`ResumeState.extras`); fixes the width of `/resume/state`.
    package var resumeExtras: [Double]
    /// Whether the file has the `/weights` group of saved weights (rows appended by `TrajectoryWriter.appendWeights`).
    package var savesWeights: Bool

    package init(method: String, commandLine: String, configuration: String, dimensions: [(String, Int)],
                problemDatasets: [Dataset], problemAttributes: [(String, AttributeValue)], networkAttributes: [(String, AttributeValue)],
                initialWeights: [Double], rowColumns: [Column] = [], checkpointColumns: [Column] = [],
                bounds: [(String, AttributeValue)] = [], resumeExtras: [Double] = [], savesWeights: Bool = false) {
        self.method = method
        self.commandLine = commandLine
        self.configuration = configuration
        self.dimensions = dimensions
        self.problemDatasets = problemDatasets
        self.problemAttributes = problemAttributes
        self.networkAttributes = networkAttributes
        self.initialWeights = initialWeights
        self.rowColumns = rowColumns
        self.checkpointColumns = checkpointColumns
        self.bounds = bounds
        self.resumeExtras = resumeExtras
        self.savesWeights = savesWeights
    }

    /// The size of the root dimension `name`, nil when there is none.
    func size(of name: String) -> Int? { dimensions.first { $0.0 == name }?.1 }

    /// The number of values the header writes (for the room it needs).
    var valueCount: Int {
        let data = problemDatasets.reduce(0) { $0 + $1.values.count } + 2 * initialWeights.count
        return data + networkAttributes.reduce(0) { count, attribute in
            if case let .integers(values) = attribute.1 { return count + values.count }
            return count
        }
    }
}
