/// A column that a monitor declares for `/trajectory` (one row per output time) or `/checkpoints`: its
/// name, its shape, what it holds, and its unit. The writer creates and labels it from this alone (its
/// `long_name` is `description`; its second axis is the named dimension of `axis`).
public struct TrajectoryColumn: Sendable, Equatable {
    /// The named dimension of a matrix column's second axis.
    public enum Axis: String, Sendable, Equatable {
        /// One entry per layer k = 1…L.
        case layer
        /// One entry per consecutive pair (k, k+1), k = 1…L−1.
        case layerPair = "layer_pair"
        /// One entry per parameter of the stacked weights θ (P).
        case parameter
        /// One entry per mode of the target M* (its singular values, i = 1…min(q, d); MATH.md §10.2).
        case targetMode = "target_mode"
        /// A width of its own (the dimension is named `NAME_entry`).
        case entry

        /// The name of the file's dimension for a column `column` on this axis.
        public func dimensionName(column: String) -> String { self == .entry ? column + "_entry" : rawValue }
    }

    public var name: String
    /// Values per row; nil for one value per row.
    public var width: Int?
    /// The second axis of a matrix column (nil for one value per row).
    public var axis: Axis?
    /// What it holds, in MATH.md's notation (the dataset's `long_name`).
    public var description: String
    /// The unit, for a dimensional quantity (nil: dimensionless).
    public var unit: String?

    public init(_ name: String, width: Int? = nil, axis: Axis? = nil, description: String = "", unit: String? = nil) {
        self.name = name
        self.width = width
        self.axis = width == nil ? nil : (axis ?? .entry)
        self.description = description
        self.unit = unit
    }

    /// One value per row.
    public static func scalar(_ name: String, _ description: String) -> TrajectoryColumn {
        TrajectoryColumn(name, description: description)
    }

    /// One value per layer k = 1…L.
    public static func perLayer(_ name: String, depth: Int, _ description: String) -> TrajectoryColumn {
        TrajectoryColumn(name, width: depth, axis: .layer, description: description)
    }

    /// One value per layer pair k = 1…L−1.
    public static func perLayerPair(_ name: String, depth: Int, _ description: String) -> TrajectoryColumn {
        TrajectoryColumn(name, width: depth - 1, axis: .layerPair, description: description)
    }
}
