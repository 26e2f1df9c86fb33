/// A dataset a monitor adds to `/problem`: a constant of the problem or of W(0) (for example the RRR levels),
/// with the names of its dimensions (root dimensions of the file, created with these sizes when missing).
public struct ConstantDataset: Sendable, Equatable {
    public var name: String
    /// Row-major values.
    public var values: [Double]
    public var shape: [Int]
    /// One name per axis of `shape`.
    public var dimensions: [String]
    /// What it holds, in MATH.md's notation (the dataset's `long_name`).
    public var description: String

    public init(name: String, values: [Double], shape: [Int], dimensions: [String], description: String) {
        precondition(shape.count == dimensions.count && shape.reduce(1, *) == values.count)
        self.name = name
        self.values = values
        self.shape = shape
        self.dimensions = dimensions
        self.description = description
    }
}
