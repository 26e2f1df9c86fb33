/// The names of the trajectory file (DESIGN.md's schema, the interface that readers rely on), in one
/// place: its groups, the root, `/problem`, `/network`, `/resume` and `/solver` attributes, the datasets
/// every run writes, and the named dimensions. The writer, the reader, resume, the run pipeline and the
/// executable use these; the monitors name their own columns and `/bounds` attributes.
public enum TrajectoryLayout {
    /// The root attribute `format` of a trajectory file.
    public static let format = "gradflow-trajectory"

    /// The `method` values.
    public enum Method {
        public static let flow = "gradient-flow"
        public static let descent = "gradient-descent"
        public static let central = "central-flow"
    }

    /// The groups under the root.
    public enum Group {
        public static let problem = "problem", network = "network", initial = "initial", resume = "resume"
        public static let trajectory = "trajectory", checkpoints = "checkpoints", bounds = "bounds", monitors = "monitors"
        public static let final = "final", solver = "solver"
        /// The saved weights (`saveWeights`): `time` [M], the dimension scale of its rows, and `weights` [M, P]
        /// on the dimensions (`/weights/time`, `/parameter`); every k-th row, t = 0 and the last row.
        public static let weights = "weights"
        /// The groups whose datasets a kill inside a flush can tear (`TrajectoryFile.damagedObjects`).
        public static let written = [trajectory, checkpoints, weights, resume]
    }

    /// The root group's attributes.
    public enum Root {
        public static let format = "format", formatVersion = "format_version", gradflowVersion = "gradflow_version"
        public static let sundialsVersion = "sundials_version", hdf5Version = "hdf5_version"
        public static let method = "method", status = "status", message = "message"
        public static let commandLine = "command_line", config = "config", resumedBy = "resumed_by"
    }

    /// `/problem`'s datasets and attributes.
    public enum Problem {
        public static let inputs = "X", targets = "y", solution = "w_star", projection = "p"
        public static let testInputs = "X_test", testTargets = "y_test", covarianceEigenvalues = "covariance_eigenvalues"
        public static let source = "source", sampleCount = "n", dimension = "d", outputCount = "q", testCount = "n_test"
        public static let rank = "rank", minimumRisk = "R_min", lambdaMin = "lambda_min", lambdaMax = "lambda_max"
        public static let a = "a", solutionNorm = "w_star_norm", seed = "seed"
    }

    /// `/network`'s attributes.
    public enum Network {
        public static let depth = "depth", widths = "widths", kind = "kind", model = "model", initialization = "init"
        public static let initializationScale = "init_scale", layout = "layout", parameterCount = "parameter_count"
        public static let zeroLayer = "zero_layer", layerScales = "layer_scales", modeStrengths = "mode_strengths"
        /// The exponent α of a width-dependent scale (`init_scale` is then s = c·h^{−α}, the scale drawn with).
        public static let scaleExponent = "scale_exponent"
    }

    /// The dataset `weights` of `/initial`, `/final`, `/resume`, `/checkpoints` and `/weights`.
    public static let weights = "weights"

    /// `/resume`: the weights, time and row of the last flush, and the two checksummed records `state`.
    public enum Resume {
        public static let weights = "weights", state = "state", time = "time", row = "row"
        public static let record = "record", recordEntry = "record_entry"
    }

    /// The `/trajectory` columns of every run (`time` also labels `/checkpoints`), and descent's `step`.
    public enum Trajectory {
        public static let time = "time", loss = "loss", excessRisk = "excess_risk", gradientNormSquared = "grad_norm_sq"
        public static let step = "step"
        /// The four columns of every run, in this order.
        public static let rowColumns = [time, loss, excessRisk, gradientNormSquared]
        /// `time`'s description (also that of `/checkpoints/time` and `/weights/time`).
        public static let timeDescription = "gradient-flow time t (for gradient descent, t = kη); dimensionless, not a date"
        /// The four columns with their `long_name`s.
        static let rowColumnHeaders = [
            TrajectoryHeader.Column(time, longName: timeDescription), TrajectoryHeader.Column(loss, longName: "training risk R(θ)"),
            TrajectoryHeader.Column(excessRisk, longName: "excess risk ‖X(w − w*)‖²/n (R itself for GELU networks)"),
            TrajectoryHeader.Column(gradientNormSquared, longName: "squared gradient norm ‖∇R(θ)‖²"),
        ]
    }

    /// The `/solver` attributes that the run pipeline and readers share.
    public enum Solver {
        public static let integrator = "integrator", stopReason = "stop_reason", finalTime = "final_time", wallTime = "wall_time"
        public static let flag = "flag", timeReached = "time_reached"
    }

    /// The root dimensions (netCDF-4 style, `TrajectoryDimensions`).
    public enum Dimension {
        public static let sample = "sample", feature = "feature", mode = "mode", output = "output", outputUnit = "output_unit"
        public static let sampleTest = "sample_test", parameter = "parameter", layer = "layer", layerPair = "layer_pair"
    }

    /// "group/name", the path of `name` in `group` relative to the root.
    public static func path(_ group: String, _ name: String) -> String { group + "/" + name }
}
