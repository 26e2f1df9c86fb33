import Foundation

/// One line of the closing table: a monitored quantity, its worst value along the run, the bound it
/// checks, and whether it held.
public struct MonitorVerdict: Sendable {
    public enum Outcome: String, Sendable {
        case holds, violated
        case notApplicable = "n/a"
        case info
    }

    /// Short name, also the prefix of the `/monitors` attributes.
    public var key: String
    public var title: String
    public var worst: String
    public var bound: String
    public var outcome: Outcome
    public var note: String

    public init(key: String, title: String, worst: String, bound: String, outcome: Outcome, note: String) {
        self.key = key
        self.title = title
        self.worst = worst
        self.bound = bound
        self.outcome = outcome
        self.note = note
    }
}

/// A dataset column of the trajectory or checkpoint group: its name and its width (nil: one value a row).
public struct TrajectoryColumn: Sendable, Equatable {
    public var name: String
    public var width: Int?

    public init(_ name: String, width: Int? = nil) {
        self.name = name
        self.width = width
    }
}

/// The monitors of MATH.md §7 along one trajectory: at every output time the conservation drift
/// (Lemma 1), the Lemma 2 quantities with their bounds, the PL ratio in its certificate band, and for
/// residual networks `‖θ_k‖_F = L‖W_k − W_k(0)‖_F`; at checkpoints the sharpness by Lanczos (or the dense
/// Hessian) with the derived bound `2ΛΣ‖b_k‖²‖A_k‖_2²` and the d×d minimiser formula. It keeps the
/// worst values for the closing verdicts.
///
/// Monitors read the weights and never write them; they use their own risk instance, so they cannot
/// disturb the integrator's workspaces (the trajectory is the same with and without them).
///
/// Cost per output time (P parameters, widths m_k, input dimension d):
/// conservation Σ_k m_k²(m_{k−1} + m_{k+1}) flops; Lemma 2 one SVD per layer, O(Σ_k m_k m_{k−1} min(m_k, m_{k−1}));
/// PL ratio ≈ 2Pd + L·O(d³). Per checkpoint: Lanczos j iterations of (11P + 8jP) flops, or the dense
/// Hessian (11P² + (4/3)P³).
public final class MonitorSuite {
    public let selection: MonitorSelection
    public let network: Network
    public let problem: RegressionProblem
    /// The theoretical values of MATH.md §4 for scalar targets: checked for the paper's linear network,
    /// shown as a reference for a GELU network; nil for multivariate targets (Theorem 5 states no bound).
    public let bounds: TheoreticalBounds?
    public let conservation: ConservationMonitor?
    public let lemma2: Lemma2Monitor?
    /// Why Lemma 2 is not monitored, when it is not.
    public let lemma2Note: String?
    public let sharpnessSettings: SharpnessSettings
    /// What produced the trajectory: gradient flow (with CVODE's relative tolerance) or gradient
    /// descent (with its learning rate η). It decides how the conservation law is judged: exactly
    /// conserved up to the solver's error for the flow; for descent, the drift must match MATH.md §5's
    /// exact η² sum.
    public enum Dynamics: Sendable {
        case flow(relativeTolerance: Double)
        case descent(learningRate: Double)
    }
    public let dynamics: Dynamics
    private let initialWeights: [Double]
    private let estimator: SharpnessEstimator?
    /// The monitors' own risk instance, shared by the sharpness estimator (which uses only its linearization
    /// point), the test predictions, the end-to-end map and the run's closing report.
    let risk: any DifferentiableRisk
    private var warmStart: [Double]?

    // Worst values along the run.
    private var worstDrift = 0.0, worstDriftAbsolute = 0.0
    private var worstRankOneExcess = -Double.infinity, worstRankOne = 0.0
    private var worstSpread = 0.0, worstBalanceMargin = Double.infinity
    private var worstAlignmentMargin = Double.infinity, lowestAlignment = 1.0
    private var rankOneHeld = true, balanceHeld = true, alignmentHeld = true
    private var plMin = Double.infinity, plBandHeld = true, plRows = 0
    private var lastPL: (lower: Double, upper: Double) = (.nan, .nan)
    private var worstTheta = 0.0
    private var lastTestError: Double?
    private var worstPredictionError = 0.0, worstRelativePredictionError = 0.0
    public private(set) var lastSharpness: (time: Double, estimate: SharpnessEstimate, derived: Double, dxd: Double)?

    public init(network: Network, problem: RegressionProblem, initialWeights: [Double],
                initialization: WeightInitialization, selection: MonitorSelection, sharpness: SharpnessSettings,
                dynamics: Dynamics) throws {
        self.selection = selection
        self.network = network
        self.problem = problem
        self.initialWeights = initialWeights
        sharpnessSettings = sharpness
        self.dynamics = dynamics
        bounds = problem.outputCount == 1
            ? try TheoreticalBounds(problem: problem, network: network, initialization: initialization) : nil
        risk = RiskFactory.makeRisk(network: network, problem: problem)
        let needsConservation = selection.conservation || selection.lemma2
        let conservation = needsConservation && network.shape.depth >= 2
            ? ConservationMonitor(initialWeights: initialWeights, shape: network.shape) : nil
        self.conservation = conservation
        if selection.lemma2, network.isScalarLinear, network.shape.outputWidth == 1, let conservation {
            lemma2 = try Lemma2Monitor(initialWeights: initialWeights, shape: network.shape, conservation: conservation)
            lemma2Note = nil
        } else {
            lemma2 = nil
            lemma2Note = !selection.lemma2 ? "not selected"
                : network.model == .gelu ? "Lemma 2 concerns linear networks; it does not apply to a GELU network (MATH.md §6.3)"
                : network.projection == nil ? "Lemma 2 is not claimed for q = \(network.shape.outputWidth) outputs (Theorem 5, MATH.md §6.1)"
                : network.shape.depth < 2 ? "needs depth L ≥ 2"
                : "Lemma 2 is stated for scalar output (m_L = 1); this network has m_L = \(network.shape.outputWidth)"
                    + (network.kind == .residual ? " (residual: ‖θ_k‖_F = L‖W_k − W_k(0)‖_F is monitored instead)" : "")
        }
        if selection.sharpness {
            try sharpness.validate(parameterCount: network.shape.parameterCount)
            let L = Double(network.shape.depth)
            let floor = 1e-14 * L * problem.lambdaMax * max(pow(problem.solutionNorm, 2 - 2 / L), 1)
            estimator = SharpnessEstimator(risk: risk,
                                           tolerance: sharpness.tolerance, maxIterations: sharpness.maxIterations, floor: floor)
        } else {
            estimator = nil
        }
    }

    private var depth: Int { network.shape.depth }

    /// The extra `/trajectory` columns this suite writes (beyond time, loss, excess_risk, grad_norm_sq).
    public var rowColumns: [TrajectoryColumn] {
        var columns: [TrajectoryColumn] = []
        if selection.conservation, conservation != nil {
            columns += [TrajectoryColumn("conservation_drift", width: depth - 1), TrajectoryColumn("conservation_drift_abs", width: depth - 1)]
            if case .descent = dynamics, network.hasConservationLaw {
                columns += [TrajectoryColumn("conservation_drift_predicted", width: depth - 1),
                            TrajectoryColumn("conservation_prediction_error", width: depth - 1),
                            TrajectoryColumn("conservation_prediction_check", width: depth - 1)]
            }
        }
        if lemma2 != nil {
            columns += [TrajectoryColumn("rank1_residual", width: depth), TrajectoryColumn("spectral_norm_sq", width: depth),
                        TrajectoryColumn("norm_balance"), TrajectoryColumn("norm_balance_margin"),
                        TrajectoryColumn("alignment", width: depth - 1), TrajectoryColumn("alignment_bound", width: depth - 1),
                        TrajectoryColumn("lemma2_slack")]
        }
        if selection.plRatio {
            columns += [TrajectoryColumn("pl_ratio"), TrajectoryColumn("pl_ratio_min")]
            if network.isScalarLinear { columns += [TrajectoryColumn("pl_lower"), TrajectoryColumn("pl_upper")] }
        }
        if network.kind == .residual { columns.append(TrajectoryColumn("theta_norm", width: depth)) }
        if problem.test != nil { columns.append(TrajectoryColumn("test_loss")) }
        return columns
    }

    /// The `/checkpoints` columns (empty without the sharpness monitor).
    public var checkpointColumns: [TrajectoryColumn] {
        guard estimator != nil else { return [] }
        return ["time", "sharpness", "sharpness_residual", "hessian_lambda_min", "hessian_lambda_min_residual", "hvp_count",
                "derived_upper_bound", "minimizer_sharpness_dxd"].map { TrajectoryColumn($0) }
            + [TrajectoryColumn("weights", width: network.shape.parameterCount)]
    }

    /// Whether output row `index` (0 for t = 0) is a sharpness checkpoint.
    public func isCheckpoint(row index: Int) -> Bool {
        estimator != nil && index % sharpnessSettings.checkpointEvery == 0
    }

    /// The monitored values at one output time, keyed by column name, and folded into the verdicts'
    /// worst values. For gradient descent, `predictedDrift` is the accumulated η² sum of MATH.md §5
    /// (blocks of `DeepLinearRisk.accumulateDescentDrift`, upper triangles) after `step` steps.
    public func row(weights theta: [Double], evaluation: RiskEvaluation,
                    predictedDrift: UnsafeBufferPointer<Double>? = nil, step: Int = 0) throws -> [String: [Double]] {
        var row: [String: [Double]] = [:]
        var driftAbsolute: [Double] = []
        if let conservation {
            let differences = conservation.differences(at: theta)
            driftAbsolute = differences.map { $0.difference.map { $0 * $0 }.reduce(0, +).squareRoot() }
            if selection.conservation {
                row["conservation_drift"] = zip(driftAbsolute, differences).map { $1.scale > 0 ? $0 / $1.scale : $0 }
                row["conservation_drift_abs"] = driftAbsolute
                if let predictedDrift {
                    var predictedNorms: [Double] = [], errors: [Double] = [], checks: [Double] = []
                    var offset = 0
                    for (k, entry) in differences.enumerated() {
                        let m = network.shape.rows(k + 1)
                        var norm = 0.0, error = 0.0
                        for i in 0..<m { for j in i..<m {
                            let weight = i == j ? 1.0 : 2.0
                            let p = predictedDrift[offset + i * m + j]
                            norm += weight * p * p
                            error += weight * (entry.difference[i * m + j] - p) * (entry.difference[i * m + j] - p)
                        } }
                        offset += m * m
                        // The check: ‖ΔD_k − Pred_k‖_F ≤ 1e-6‖Pred_k‖_F + R_k, where R_k = (100·m_k + K)·ε·scale is the
                        // rounding level of D_k(t) − D_k(0) after K steps (each step rounds θ once).
                        let rounding = (100 * Double(m) + Double(step)) * Double.ulpOfOne * entry.scale
                        let absoluteError = error.squareRoot(), predicted = norm.squareRoot()
                        predictedNorms.append(predicted)
                        errors.append(predicted > 0 ? absoluteError / predicted : absoluteError)
                        checks.append(absoluteError / (1e-6 * predicted + rounding))
                    }
                    row["conservation_drift_predicted"] = predictedNorms
                    row["conservation_prediction_error"] = errors
                    row["conservation_prediction_check"] = checks
                }
            }
        }
        if let lemma2 {
            let v = try lemma2.values(at: theta, driftNorms: driftAbsolute)
            row["rank1_residual"] = v.rankOneResidual
            row["spectral_norm_sq"] = v.spectralNormsSquared
            row["norm_balance"] = [v.normSpread]
            row["norm_balance_margin"] = [v.normBalanceMargin]
            row["alignment"] = v.alignment
            row["alignment_bound"] = v.alignmentBound
            row["lemma2_slack"] = [v.slack]
        }
        if selection.plRatio {
            row["pl_ratio"] = [evaluation.excessRisk > 0 ? evaluation.gradientNormSquared / evaluation.excessRisk : .nan]
            if network.isScalarLinear {
                let geometry = try NetworkGeometry(weights: theta, network: network)
                row["pl_lower"] = [4 * problem.lambdaMin * geometry.suffixNormsSquared[1]]
                row["pl_upper"] = [4 * problem.lambdaMax * geometry.kernelLambdaMax]
            }
        }
        if let test = problem.test {
            row["test_loss"] = [problem.testError(predictions: risk.predictions(at: theta, inputs: test.inputs, count: test.count)) ?? .nan]
        }
        if network.kind == .residual {
            let L = Double(depth)
            row["theta_norm"] = (1...depth).map { k in
                network.shape.range(k).map { (theta[$0] - initialWeights[$0]) * (theta[$0] - initialWeights[$0]) }.reduce(0, +).squareRoot() * L
            }
        }
        track(&row)
        return row
    }

    /// Folds one row's values into the verdicts' worst values. Every "holds" decision is made here, from
    /// the recorded values alone, so that the rows of an interrupted file can be replayed on resume.
    /// Adds the running column `pl_ratio_min`.
    public func track(_ row: inout [String: [Double]]) {
        if let relative = row["conservation_drift"], let absolute = row["conservation_drift_abs"] {
            worstDrift = max(worstDrift, relative.max() ?? 0)
            worstDriftAbsolute = max(worstDriftAbsolute, absolute.max() ?? 0)
        }
        if let checks = row["conservation_prediction_check"], let errors = row["conservation_prediction_error"] {
            worstPredictionError = max(worstPredictionError, checks.max() ?? 0)
            // The plain relative error where the drift is resolved (its allowance is dominated by 1e-6·prediction).
            for (error, check) in zip(errors, checks) where check < 1e6 * error {
                worstRelativePredictionError = max(worstRelativePredictionError, error)
            }
        }
        if let lemma2, let residual = row["rank1_residual"], let top = row["spectral_norm_sq"],
           let spread = row["norm_balance"]?.first, let margin = row["norm_balance_margin"]?.first,
           let alignment = row["alignment"], let alignmentBound = row["alignment_bound"], let slack0 = row["lemma2_slack"]?.first {
            // lemma2_slack = slack(0), where slack(scale) = base + 1e-12·(1 + |scale|) (Lemma2Monitor).
            let base = slack0 - 1e-12
            func slack(_ scale: Double) -> Double { base + 1e-12 * (1 + abs(scale)) }
            for (value, bound) in zip(residual, lemma2.rankOneBounds) where value > bound + slack(bound) { rankOneHeld = false }
            if margin < -slack(lemma2.delta.reduce(0, +)) { balanceHeld = false }
            for k in 0..<alignment.count where alignment[k] < alignmentBound[k] - slack(1) / max(top[k + 1], 1e-300) {
                alignmentHeld = false
            }
            worstRankOne = max(worstRankOne, residual.max() ?? 0)
            worstRankOneExcess = max(worstRankOneExcess, zip(residual, lemma2.rankOneBounds).map { $0 - $1 }.max() ?? 0)
            worstSpread = max(worstSpread, spread)
            worstBalanceMargin = min(worstBalanceMargin, margin)
            worstAlignmentMargin = min(worstAlignmentMargin, zip(alignment, alignmentBound).map { $0 - $1 }.min() ?? .infinity)
            lowestAlignment = min(lowestAlignment, alignment.min() ?? 1)
        }
        if let rho = row["pl_ratio"]?.first {
            let lower = row["pl_lower"]?.first ?? .nan, upper = row["pl_upper"]?.first ?? .nan
            if rho.isFinite {
                plMin = min(plMin, rho)
                plRows += 1
                let slack = 1e-6  // relative: ‖∇R‖² and R − R_min are each accurate to well below it
                if rho < lower * (1 - slack) || rho > upper * (1 + slack) { plBandHeld = false }
            }
            lastPL = (lower, upper)
            row["pl_ratio_min"] = [plMin]
        }
        if let theta = row["theta_norm"] { worstTheta = max(worstTheta, theta.max() ?? 0) }
        if let test = row["test_loss"]?.first { lastTestError = test }
    }

    /// The sharpness checkpoint at θ, keyed by `/checkpoints` column name.
    public func checkpoint(time: Double, weights theta: [Double]) throws -> [String: [Double]] {
        guard let estimator else { return [:] }
        let estimate = sharpnessSettings.method == .dense
            ? try estimator.dense(at: theta) : try estimator.lanczos(at: theta, start: warmStart)
        if !estimate.ritzVector.isEmpty { warmStart = estimate.ritzVector }
        var derived = Double.nan, dxd = Double.nan
        if network.isScalarLinear, let bounds {
            let geometry = try NetworkGeometry(weights: theta, network: network)
            derived = geometry.derivedSharpnessBound(lambdaMax: problem.lambdaMax)
            dxd = try geometry.minimizerSharpness(covarianceSquareRoot: bounds.covarianceSquareRoot)
        }
        lastSharpness = (time, estimate, derived, dxd)
        return ["time": [time], "sharpness": [estimate.lambdaMax], "sharpness_residual": [estimate.residualMax],
                "hessian_lambda_min": [estimate.lambdaMin], "hessian_lambda_min_residual": [estimate.residualMin],
                "hvp_count": [Double(estimate.products)], "derived_upper_bound": [derived],
                "minimizer_sharpness_dxd": [dxd], "weights": theta]
    }

    /// The closing verdicts. `final` is the last recorded point; `atMinimum` says whether the run stopped
    /// at the loss tolerance (the sharpness bounds concern minimisers).
    public func verdicts(finalWeights: [Double], finalEvaluation: RiskEvaluation, atMinimum: Bool) -> [MonitorVerdict] {
        func g(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)g", x) }
        var list: [MonitorVerdict] = []
        if selection.conservation, conservation != nil, !network.hasConservationLaw {
            list.append(MonitorVerdict(key: "conservation_drift", title: "no conservation law (GELU): drift of W_kW_kᵀ − W_{k+1}ᵀW_{k+1}",
                                       worst: g(worstDrift, 3), bound: "none", outcome: .info,
                                       note: "Lemma 1 needs linear layers; this is the drift that occurs (max over k and t, relative to ‖W_kW_kᵀ‖_F; absolute \(g(worstDriftAbsolute, 3)))"))
        } else if selection.conservation, conservation != nil, case let .descent(eta) = dynamics {
            list.append(MonitorVerdict(key: "conservation_drift", title: "GD: D_k(t) − D_k(0) = η² Σ_s (G_kG_kᵀ − G_{k+1}ᵀG_{k+1})",
                                       worst: g(worstPredictionError, 3), bound: "≤ 1",
                                       outcome: worstPredictionError <= 1 ? .holds : .violated,
                                       note: "error / (1e-6·prediction + rounding level); worst relative error where resolved \(g(worstRelativePredictionError, 3)); largest drift \(g(worstDriftAbsolute, 3)) (relative \(g(worstDrift, 3))), η = \(g(eta, 4))"))
        } else if selection.conservation {
            if conservation != nil {
                let threshold = conservationThreshold
                list.append(MonitorVerdict(key: "conservation_drift", title: "Lemma 1: conservation drift (relative)",
                                           worst: g(worstDrift, 3), bound: "0 (≤ \(g(threshold, 2)) numerically)",
                                           outcome: worstDrift <= threshold ? .holds : .violated,
                                           note: "max over k and t of ‖D_k(t) − D_k(0)‖_F / ‖W_kW_kᵀ‖_F; absolute \(g(worstDriftAbsolute, 3))"))
            } else {
                list.append(MonitorVerdict(key: "conservation_drift", title: "Lemma 1: conservation drift", worst: "–", bound: "–",
                                           outcome: .notApplicable, note: "needs depth L ≥ 2"))
            }
        }
        if let lemma2 {
            func outcome(_ held: Bool) -> MonitorVerdict.Outcome { held ? .holds : .violated }
            list.append(MonitorVerdict(key: "rank1_residual", title: "Lemma 2: ‖W_k‖_F² − ‖W_k‖_2² ≤ e_k",
                                       worst: g(worstRankOne, 3), bound: "e_k ≤ \(g(lemma2.rankOneBounds.max() ?? 0, 3))",
                                       outcome: outcome(rankOneHeld),
                                       note: "smallest margin min(e_k − value) = \(g(0 - worstRankOneExcess + 0, 3))"))
            list.append(MonitorVerdict(key: "norm_balance", title: "Lemma 2: |‖W_k‖_2² − ‖W_j‖_2²| ≤ Σδ_i",
                                       worst: g(worstSpread, 3), bound: "Σδ = \(g(lemma2.delta.reduce(0, +), 3))", outcome: outcome(balanceHeld),
                                       note: "smallest pair margin \(g(worstBalanceMargin, 3))"))
            list.append(MonitorVerdict(key: "alignment", title: "Lemma 2: ⟨v_{k+1}, u_k⟩² ≥ 1 − (2δ_k + e_{k+1})/‖W_{k+1}‖_2²",
                                       worst: g(lowestAlignment, 6), bound: "per-k, per-t", outcome: outcome(alignmentHeld),
                                       note: "smallest margin \(g(worstAlignmentMargin, 3))"))
            list.append(MonitorVerdict(key: "epsilon", title: "Lemma 2: ε = Σ_k (|τ_k| + 2δ_k)", worst: g(lemma2.epsilon, 4),
                                       bound: "–", outcome: .info, note: "from W(0); the per-k bounds above are the sharper ones"))
        } else if selection.lemma2, let note = lemma2Note {
            list.append(MonitorVerdict(key: "lemma2", title: "Lemma 2", worst: "–", bound: "–", outcome: .notApplicable, note: note))
        }
        if network.kind == .residual {
            let theorem = network.projection == nil ? "Theorem 5" : "Theorem 4"
            list.append(MonitorVerdict(key: "theta_norm", title: "\(theorem): max_k ‖θ_k‖_F = L‖W_k − W_k(0)‖_F",
                                       worst: g(worstTheta, 4), bound: "C (not recoverable)", outcome: .info,
                                       note: "\(theorem) predicts O(1) as L grows"))
        }
        if selection.plRatio {
            if network.isScalarLinear {
                list.append(MonitorVerdict(key: "pl_ratio", title: "PL ratio ‖∇R‖²/(R − R_min) in [4λ‖b_1‖², 4Λλ_max(K)]",
                                           worst: plRows > 0 ? g(plMin, 4) : "–",
                                           bound: "final band [\(g(lastPL.lower, 3)), \(g(lastPL.upper, 3))]",
                                           outcome: plRows == 0 ? .notApplicable : (plBandHeld ? .holds : .violated),
                                           note: "worst = running minimum of the ratio; checked at every output time"))
            } else {
                let denominator = network.model == .gelu ? "R" : "(R − R_min)"
                list.append(MonitorVerdict(key: "pl_ratio", title: "PL ratio ‖∇R‖²/\(denominator)", worst: plRows > 0 ? g(plMin, 4) : "–",
                                           bound: "–", outcome: .info,
                                           note: "running minimum; the certificate band of MATH.md §4.3 is derived for scalar-output linear networks"))
            }
        }
        if let test = problem.test, let lastTestError {
            list.append(MonitorVerdict(key: "test_loss", title: "test error (1/n')‖Y' − f(X')‖² on the held-out set", worst: g(lastTestError, 6),
                                       bound: "–", outcome: .info,
                                       note: "n' = \(test.count) samples, at the last output time; train R = \(g(finalEvaluation.loss, 6))"))
        }
        if let s = lastSharpness {
            let S = s.estimate.lambdaMax
            let note = atMinimum ? "at t = \(g(s.time, 6)); residual \(g(s.estimate.residualMax, 2)), \(s.estimate.products) Hessian-vector products"
                : "at t = \(g(s.time, 6)), which is not a minimiser (the run stopped at the horizon)"
            if network.isScalarLinear, let bounds {
                list += scalarLinearSharpnessVerdicts(s, bounds: bounds, finalWeights: finalWeights, atMinimum: atMinimum, note: note)
            } else {
                var reference = ""
                if let bounds {
                    reference = "; linear-theory values for reference (they are not claimed for GELU): 2La‖w*‖^{2−2/L} = \(g(bounds.sharpnessLowerBound, 5))"
                        + (bounds.corollary2UpperBound.map { ", 8LΛ‖w*‖^{2−2/L} = \(g($0, 5))" } ?? "")
                }
                list.append(MonitorVerdict(key: "sharpness", title: "S(final) = λ_max(H)", worst: g(S, 6), bound: "–", outcome: .info,
                                           note: note + "; Hessian λ_min = \(g(s.estimate.lambdaMin, 3))" + reference
                                               + (network.model == .linear ? "; MATH.md §6.1 states no sharpness bound for q outputs" : "")))
                if case let .descent(eta) = dynamics {
                    list.append(MonitorVerdict(key: "edge_of_stability", title: "GD stability at the end: S(final) < 2/η",
                                               worst: g(S, 6), bound: g(2 / eta, 6),
                                               outcome: !atMinimum ? .notApplicable : (S < 2 / eta ? .holds : .violated),
                                               note: "a minimiser with S > 2/η is linearly unstable for GD (MATH.md §5)"))
                }
            }
        }
        return list
    }

    /// The sharpness verdicts of the paper's setting (MATH.md §4.4–4.7).
    private func scalarLinearSharpnessVerdicts(_ s: (time: Double, estimate: SharpnessEstimate, derived: Double, dxd: Double),
                                               bounds: TheoreticalBounds, finalWeights: [Double], atMinimum: Bool,
                                               note: String) -> [MonitorVerdict] {
        func g(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)g", x) }
        var list: [MonitorVerdict] = []
        let S = s.estimate.lambdaMax
        let wFinal = risk.endToEndMap(finalWeights) ?? problem.minimumNormSolution
        let lower = problem.isUnderdetermined ? bounds.lowerBound(implementing: wFinal) : bounds.sharpnessLowerBound
        let slack = s.estimate.residualMax + 1e-9 * S
        list.append(MonitorVerdict(key: "sharpness_lower", title: "S(final) ≥ 2La‖w*‖^{2−2/L}‖p‖^{2/L}",
                                   worst: g(S, 6), bound: g(lower, 6) + (problem.isUnderdetermined ? " (with w_∞)" : ""),
                                   outcome: !atMinimum ? .notApplicable : (S >= lower - slack ? .holds : .violated),
                                   note: note + "; S/LB = \(g(S / lower, 4))"))
        if case let .descent(eta) = dynamics {
            list.append(MonitorVerdict(key: "edge_of_stability", title: "GD stability at the end: S(final) < 2/η",
                                       worst: g(S, 6), bound: g(2 / eta, 6),
                                       outcome: !atMinimum ? .notApplicable : (S < 2 / eta ? .holds : .violated),
                                       note: "a minimiser with S > 2/η is linearly unstable for GD (MATH.md §5)"))
            list.append(MonitorVerdict(key: "sharpness_corollary2", title: "Corollary 2: S(final) ≤ 8LΛ‖w*‖^{2−2/L}",
                                       worst: g(S, 6), bound: "–", outcome: .notApplicable,
                                       note: "Corollary 2 concerns the gradient-flow limit"))
        } else if let c2 = bounds.corollary2UpperBound {
            list.append(MonitorVerdict(key: "sharpness_corollary2", title: "Corollary 2: S(final) ≤ 8LΛ‖w*‖^{2−2/L}",
                                       worst: g(S, 6), bound: g(c2, 6),
                                       outcome: !atMinimum ? .notApplicable : (S <= c2 + slack ? .holds : .violated),
                                       note: bounds.corollary2Note))
        } else {
            list.append(MonitorVerdict(key: "sharpness_corollary2", title: "Corollary 2: S(final) ≤ 8LΛ‖w*‖^{2−2/L}",
                                       worst: g(S, 6), bound: "–", outcome: .notApplicable, note: bounds.corollary2Note))
        }
        list.append(MonitorVerdict(key: "sharpness_derived", title: "S(final) ≤ 2ΛΣ_k‖b_k‖²‖A_k‖_2² (at minimisers)",
                                   worst: g(S, 6), bound: g(s.derived, 6),
                                   outcome: !atMinimum ? .notApplicable : (S <= s.derived + slack ? .holds : .violated),
                                   note: "d×d formula 2λ_max(Σ^{1/2}KΣ^{1/2}) = \(g(s.dxd, 8)); Hessian λ_min = \(g(s.estimate.lambdaMin, 3))"))
        list.append(MonitorVerdict(key: "sharpness_minimizers", title: "S_min: flat minimiser / paper upper bound",
                                   worst: g(bounds.explicitMinimizerSharpness, 6), bound: g(bounds.paperUpperBound, 6), outcome: .info,
                                   note: "S_min ∈ [\(g(bounds.sharpnessLowerBound, 5)), \(g(bounds.explicitMinimizerSharpness, 5))]"))
        list.append(MonitorVerdict(key: "critical_lr", title: "critical learning rate 2/S_min", worst: "–",
                                   bound: "[\(g(bounds.criticalLearningRateLower, 4)), \(g(bounds.criticalLearningRateUpper, 4))]",
                                   outcome: .info, note: "gradient descent cannot converge to a minimiser above the right end"))
        return list
    }

    /// The conservation-drift threshold of the verdict: exact gradient flow has zero drift; a solver with
    /// relative tolerance rtol drifts by a modest multiple of it, and 1e3·rtol (at least 1e-12) is
    /// the slack allowed.
    public var conservationThreshold: Double {
        if case let .flow(rtol) = dynamics { return max(1e3 * rtol, 1e-12) }
        return .infinity
    }

    /// `/bounds` attributes: the theoretical values and Lemma 2's constants.
    public var boundAttributes: [(String, AttributeValue)] {
        var list = bounds?.attributes ?? []
        if network.model == .gelu, bounds != nil { list.append(("reference_only", .string("linear-network theory; not claimed for GELU"))) }
        if let lemma2 {
            list += [("epsilon", .double(lemma2.epsilon)), ("rank1_residual_bound", .doubles(lemma2.rankOneBounds)),
                     ("delta", .doubles(lemma2.delta)), ("tau", .doubles(lemma2.tau))]
        }
        switch dynamics {
        case .flow: list.append(("conservation_threshold", .double(conservationThreshold)))
        case let .descent(eta): list.append(("edge_of_stability", .double(2 / eta)))
        }
        return list
    }
}
