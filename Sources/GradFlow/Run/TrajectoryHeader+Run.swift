import Foundation

extension TrajectoryHeader {
    /// The header of a run of `method` with `configuration` on `setup`: the configuration as sorted JSON, the
    /// problem's data and facts, the network, θ(0), the dynamics' and monitors' columns, the monitors' bounds,
    /// and the resume extras of θ(0). Cost: copies of the problem's arrays.
    init(method: String, commandLine: String, configuration: RunConfiguration, setup: RunSetup,
         rowColumns: [TrajectoryColumn], checkpointColumns: [TrajectoryColumn], bounds: [(String, AttributeValue)],
         resumeExtras: [Double]) {
        typealias Layout = TrajectoryLayout
        typealias Dimension = Layout.Dimension
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(configuration)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
        let problem = setup.problem, network = setup.network, shape = network.shape, q = problem.outputCount
        let (sample, feature, output) = ("/" + Dimension.sample, "/" + Dimension.feature, "/" + Dimension.output)

        var dimensions: [(String, Int)] = [(Dimension.sample, problem.sampleCount), (Dimension.feature, problem.dimension),
                                           (Dimension.mode, problem.dimension)]
        if q > 1 { dimensions.append((Dimension.output, q)) }
        dimensions += [(Dimension.parameter, shape.parameterCount), (Dimension.layer, shape.depth)]
        if shape.depth > 1 { dimensions.append((Dimension.layerPair, shape.depth - 1)) }

        // Scalar targets keep DESIGN.md's 1-D shapes; multivariate ones are 2-D (y [n, q], w_star = M* [q, d]).
        var datasets = [
            Dataset(Layout.Problem.inputs, problem.inputs, shape: [problem.sampleCount, problem.dimension],
                    longName: "training inputs", dimensions: [sample, feature]),
            Dataset(Layout.Problem.targets, problem.targets, shape: q == 1 ? [problem.sampleCount] : [problem.sampleCount, q],
                    longName: "training targets", dimensions: q == 1 ? [sample] : [sample, output]),
            Dataset(Layout.Problem.solution, problem.minimumNormSolution, shape: q == 1 ? [problem.dimension] : [q, problem.dimension],
                    longName: q == 1 ? "minimum-norm least-squares solution w*" : "minimum-norm least-squares solution M*",
                    dimensions: q == 1 ? [feature] : [output, feature]),
        ]
        if let p = network.projection {
            dimensions.append((Dimension.outputUnit, p.count))
            datasets.append(Dataset(Layout.Problem.projection, p, shape: [p.count], longName: "fixed output projection p",
                                    dimensions: ["/" + Dimension.outputUnit]))
        }
        if let test = problem.test {
            dimensions.append((Dimension.sampleTest, test.count))
            let sampleTest = "/" + Dimension.sampleTest
            datasets.append(Dataset(Layout.Problem.testInputs, test.inputs, shape: [test.count, problem.dimension],
                                    longName: "held-out inputs", dimensions: [sampleTest, feature]))
            datasets.append(Dataset(Layout.Problem.testTargets, test.targets, shape: q == 1 ? [test.count] : [test.count, q],
                                    longName: "held-out targets", dimensions: q == 1 ? [sampleTest] : [sampleTest, output]))
        }
        datasets.append(Dataset(Layout.Problem.covarianceEigenvalues, problem.covarianceEigenvalues, shape: [problem.dimension],
                                longName: "eigenvalues of Σ = XᵀX/n, ascending", dimensions: ["/" + Dimension.mode]))

        var problemAttributes: [(String, AttributeValue)] = [
            (Layout.Problem.source, .string(problem.source)), (Layout.Problem.sampleCount, .integer(problem.sampleCount)),
            (Layout.Problem.dimension, .integer(problem.dimension)), (Layout.Problem.outputCount, .integer(q)),
            (Layout.Problem.testCount, .integer(problem.test?.count ?? 0)), (Layout.Problem.rank, .integer(problem.rank)),
            (Layout.Problem.minimumRisk, .double(problem.minimumRisk)), (Layout.Problem.lambdaMin, .double(problem.lambdaMin)),
            (Layout.Problem.lambdaMax, .double(problem.lambdaMax)), (Layout.Problem.a, .double(problem.a)),
            (Layout.Problem.solutionNorm, .double(problem.solutionNorm)),
        ]
        if let seed = problem.seed { problemAttributes.append((Layout.Problem.seed, .integer(Int(truncatingIfNeeded: seed)))) }
        var networkAttributes: [(String, AttributeValue)] = [
            (Layout.Network.depth, .integer(shape.depth)), (Layout.Network.widths, .integers(shape.widths)),
            (Layout.Network.kind, .string(network.kind.rawValue)), (Layout.Network.model, .string(network.model.rawValue)),
            (Layout.Network.initialization, .string(setup.initialization.name)),
            (Layout.Network.initializationScale, .double(setup.initialization.scale)), (Layout.Network.layout, .string("row-major")),
            (Layout.Network.parameterCount, .integer(shape.parameterCount)),
        ]
        if case let .gaussian(_, zeroLayer?) = setup.initialization { networkAttributes.append((Layout.Network.zeroLayer, .integer(zeroLayer))) }

        self.init(method: method, commandLine: commandLine, configuration: json, dimensions: dimensions, problemDatasets: datasets,
                  problemAttributes: problemAttributes, networkAttributes: networkAttributes, initialWeights: setup.initialWeights,
                  rowColumns: rowColumns.map { Column($0.name, width: $0.width) },
                  checkpointColumns: checkpointColumns.map { Column($0.name, width: $0.width) },
                  columnDescriptions: Self.columnDescriptions, bounds: bounds, resumeExtras: resumeExtras)
    }

    /// Descriptions (`long_name`) of the `/trajectory` and `/checkpoints` columns GradFlow writes.
    static let columnDescriptions: [String: String] = [
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
}
