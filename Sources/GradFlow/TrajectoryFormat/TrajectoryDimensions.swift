/// The named dimensions and `long_name`s of a trajectory file (format version 2): see README, *The
/// trajectory file*. Dimensions without a coordinate variable live in the root group (`sample`, `feature`,
/// `output`, `output_unit`, `sample_test`, `mode`, `parameter`, `layer`, `layer_pair`); the rows of
/// `/trajectory` and `/checkpoints` are labelled by their own `time` column, which is the scale of the
/// `time` dimension of its group and grows with the rows (resume needs nothing more).
extension TrajectoryWriter {
    /// Descriptions of the `/trajectory` and `/checkpoints` columns GradFlow writes.
    static let longNames: [String: String] = [
        "time": "gradient-flow time t (for gradient descent, t = kη); dimensionless, not a date",
        "loss": "training risk R(θ)", "excess_risk": "excess risk ‖X(w − w*)‖²/n (R itself for GELU networks)",
        "grad_norm_sq": "squared gradient norm ‖∇R(θ)‖²", "step": "gradient-descent step k",
        "conservation_drift": "relative conservation drift ‖D_k(t) − D_k(0)‖_F / ‖W_kW_kᵀ‖_F (Lemma 1)",
        "conservation_drift_abs": "absolute conservation drift ‖D_k(t) − D_k(0)‖_F",
        "conservation_drift_predicted": "predicted descent drift ‖η² Σ (G_kG_kᵀ − G_{k+1}ᵀG_{k+1})‖_F",
        "conservation_prediction_error": "error of the predicted descent drift",
        "conservation_prediction_check": "relative error of the predicted descent drift",
        "rank1_residual": "‖W_k‖_F² − ‖W_k‖_2² (Lemma 2)", "spectral_norm_sq": "‖W_k‖_2²",
        "norm_balance": "max_{k,j} |‖W_k‖_2² − ‖W_j‖_2²| (Lemma 2)", "norm_balance_margin": "Σδ_i − norm_balance",
        "alignment": "⟨v_{k+1}, u_k⟩² (Lemma 2)", "alignment_bound": "1 − (2δ_k + e_{k+1})/‖W_{k+1}‖_2²",
        "lemma2_slack": "smallest margin of the Lemma 2 inequalities", "pl_ratio": "PL ratio ‖∇R‖²/(R − R_min)",
        "pl_ratio_min": "running minimum of the PL ratio", "pl_lower": "PL band lower end 4λ‖b_1‖²",
        "pl_upper": "PL band upper end 4Λλ_max(K)", "theta_norm": "L‖W_k − W_k(0)‖_F (residual networks)",
        "test_loss": "held-out risk (1/n')‖Y' − f(X')‖²", "sharpness": "sharpness S = λ_max(∇²R) (Lanczos)",
        "weights": "stacked weights θ at the checkpoint, each block row-major",
    ]

    /// The root dimensions and the labels of `/problem`'s datasets.
    static func labelHeader(_ root: HDF5Node, problem g: HDF5Node, q: Int, setup: RunSetup, monitorColumns: [TrajectoryColumn]) throws {
        let problem = setup.problem, shape = setup.network.shape
        try root.createDimension("sample", size: problem.sampleCount)
        try root.createDimension("feature", size: problem.dimension)
        try root.createDimension("mode", size: problem.dimension)
        if q > 1 { try root.createDimension("output", size: q) }
        try root.createDimension("parameter", size: shape.parameterCount)
        try root.createDimension("layer", size: shape.depth)
        if shape.depth > 1 { try root.createDimension("layer_pair", size: shape.depth - 1) }
        try g.label("X", "training inputs", dimensions: ["/sample", "/feature"])
        try g.label("y", "training targets", dimensions: q == 1 ? ["/sample"] : ["/sample", "/output"])
        try g.label("w_star", q == 1 ? "minimum-norm least-squares solution w*" : "minimum-norm least-squares solution M*",
                    dimensions: q == 1 ? ["/feature"] : ["/output", "/feature"])
        if g.contains("p") {
            try root.createDimension("output_unit", size: try g.datasetShape("p")[0])
            try g.label("p", "fixed output projection p", dimensions: ["/output_unit"])
        }
        if let test = problem.test {
            try root.createDimension("sample_test", size: test.count)
            try g.label("X_test", "held-out inputs", dimensions: ["/sample_test", "/feature"])
            try g.label("y_test", "held-out targets", dimensions: q == 1 ? ["/sample_test"] : ["/sample_test", "/output"])
        }
        try g.label("covariance_eigenvalues", "eigenvalues of Σ = XᵀX/n, ascending", dimensions: ["/mode"])
    }

    /// Makes `time` the row dimension of `group` and labels every column; the second axis of a matrix column
    /// is `layer_pair`, `layer` or `parameter` by its width (another width gets a root dimension `NAME_entry`).
    static func labelColumns(_ node: HDF5Node, root: HDF5Node, group: String, columns: [TrajectoryColumn], shape: NetworkShape) throws {
        guard node.contains("time") else { return }
        try node.makeDimensionScale("time")
        try node.describe("time", longNames["time"]!)
        for column in columns where column.name != "time" && node.contains(column.name) {
            var dimensions = ["/\(group)/time"]
            if let width = column.width {
                if column.name == "weights" || (width == shape.parameterCount && width != shape.depth && width != shape.depth - 1) {
                    dimensions.append("/parameter")
                } else if width == shape.depth {
                    dimensions.append("/layer")
                } else if width == shape.depth - 1 {
                    dimensions.append("/layer_pair")
                } else {
                    try root.createDimension("\(column.name)_entry", size: width)
                    dimensions.append("/\(column.name)_entry")
                }
            }
            try node.label(column.name, longNames[column.name] ?? column.name.replacingOccurrences(of: "_", with: " "), dimensions: dimensions)
        }
    }
}
