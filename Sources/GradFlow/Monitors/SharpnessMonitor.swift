import Glibc

/// The sharpness S = λ_max(∇²R) at checkpoints (MATH.md §3, §4.4–4.7), by Lanczos on exact Hessian-vector
/// products (warm-started from the previous checkpoint's top and bottom Ritz vectors) or the dense Hessian, with the
/// Hessian's λ_min, each with its residual. For the paper's network it also records the derived bound
/// `2ΛΣ_k‖b_k‖²‖A_k‖_2²` and the d×d formula at the checkpoint, and judges the final sharpness against
/// Theorem 2's lower bound, Corollary 2's upper bound (gradient flow from a small initialisation) and the
/// derived bound, with a slack of the Lanczos residual plus 1e-9·S. These concern minimisers: a run that
/// stopped at its horizon gets `n/a`. For gradient descent it checks linear stability, S < 2/η.
///
/// Checkpoint columns: `sharpness`, `sharpness_residual`, `hessian_lambda_min`, `hessian_lambda_min_residual`,
/// `hvp_count`, `derived_upper_bound`, `minimizer_sharpness_dxd`. Both ends are converged to the residual
/// `--sharpness-tol` × scale (1e-8), so each has an eigenvalue within `sharpness_residual` /
/// `hessian_lambda_min_residual` of it (`SharpnessEstimator`). Cost per checkpoint: Lanczos j iterations of
/// (11P + O(j)) flops plus ≈ 4jP at the steps that reorthogonalise (about one in four on case B; j = 27–85
/// there, the most near the minimum, where λ_min sits at the edge of the cluster of near-zero eigenvalues),
/// or the dense Hessian (11P² + (4/3)P³).
public final class SharpnessMonitor: Monitor {
    let context: MonitorContext
    private let estimator: SharpnessEstimator
    private var warmStart: [Double]?, warmStartBottom: [Double]?
    /// The last checkpoint: its time, the estimate, the derived bound and the d×d formula (NaN when not
    /// the paper's network).
    public private(set) var last: (time: Double, estimate: SharpnessEstimate, derived: Double, dxd: Double)?

    public init(context: MonitorContext) throws {
        self.context = context
        let settings = context.sharpness, problem = context.problem
        try settings.validate(parameterCount: context.network.shape.parameterCount)
        let L = Double(context.depth)
        let floor = 1e-14 * L * problem.lambdaMax * max(pow(problem.solutionNorm, 2 - 2 / L), 1)
        estimator = SharpnessEstimator(risk: context.risk, tolerance: settings.tolerance, maxIterations: settings.maxIterations, floor: floor)
    }

    public var columns: [TrajectoryColumn] { [] }

    public var checkpointColumns: [TrajectoryColumn] {
        [.scalar("sharpness", "sharpness S = λ_max(∇²R) (Lanczos)"),
         .scalar("sharpness_residual", "residual ‖Hy − Sy‖ of the top Ritz pair"),
         .scalar("hessian_lambda_min", "smallest Hessian eigenvalue λ_min(∇²R)"),
         .scalar("hessian_lambda_min_residual", "residual of the bottom Ritz pair"),
         .scalar("hvp_count", "Hessian-vector products used"),
         .scalar("derived_upper_bound", "derived bound 2ΛΣ_k‖b_k‖²‖A_k‖_2²"),
         .scalar("minimizer_sharpness_dxd", "d×d formula 2λ_max(Σ^{1/2}KΣ^{1/2})")]
    }

    public func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {}

    public func checkpoint(_ sample: MonitorSample, into row: inout MonitorRow) throws {
        let estimate = context.sharpness.method == .dense
            ? try estimator.dense(at: sample.weights)
            : try estimator.lanczos(at: sample.weights, start: warmStart, startBottom: warmStartBottom)
        if !estimate.ritzVector.isEmpty { warmStart = estimate.ritzVector }
        if !estimate.bottomRitzVector.isEmpty { warmStartBottom = estimate.bottomRitzVector }
        var derived = Double.nan, dxd = Double.nan
        if context.network.isScalarLinear, let bounds = context.bounds {
            let geometry = try sample.geometry()
            derived = try geometry.derivedSharpnessBound(lambdaMax: context.problem.lambdaMax)
            dxd = try geometry.minimizerSharpness(covarianceSquareRoot: bounds.covarianceSquareRoot)
        }
        last = (sample.time, estimate, derived, dxd)
        row["sharpness"] = [estimate.lambdaMax]
        row["sharpness_residual"] = [estimate.residualMax]
        row["hessian_lambda_min"] = [estimate.lambdaMin]
        row["hessian_lambda_min_residual"] = [estimate.residualMin]
        row["hvp_count"] = [Double(estimate.products)]
        row["derived_upper_bound"] = [derived]
        row["minimizer_sharpness_dxd"] = [dxd]
    }

    public func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] {
        guard let s = last else { return [] }
        let S = s.estimate.lambdaMax
        let note: VerdictText = atMinimum
            ? "at t = \(s.time, digits: 6); residual \(s.estimate.residualMax, digits: 2), \(s.estimate.products) Hessian-vector products"
            : "at t = \(s.time, digits: 6), which is not a minimiser (the run did not stop on the loss tolerance)"
        if context.network.isScalarLinear, let bounds = context.bounds {
            return paperVerdicts(s, bounds: bounds, end: end, atMinimum: atMinimum, note: note)
        }
        var reference: VerdictText = ""
        if let bounds = context.bounds {
            reference = "; linear-theory values for reference (they are not claimed for GELU): 2La‖w*‖^{2−2/L} = \(bounds.sharpnessLowerBound, digits: 5)"
            if let c2 = bounds.corollary2UpperBound { reference = reference + ", 8LΛ‖w*‖^{2−2/L} = \(c2, digits: 5)" }
        }
        let scope: VerdictText = context.network.model == .linear ? "; MATH.md §6.1 states no sharpness bound for q outputs" : ""
        var list = [MonitorVerdict(key: "sharpness", title: "S(final) = λ_max(H)", value: S, valueDigits: 6, outcome: .info,
                                   note: note + "; Hessian λ_min = \(s.estimate.lambdaMin, digits: 3)" + reference + scope)]
        if let edge = edgeOfStability(S, atMinimum: atMinimum) { list.append(edge) }
        return list
    }

    /// GD's linear stability at the end: a minimiser with S > 2/η is unstable for GD (MATH.md §5).
    private func edgeOfStability(_ S: Double, atMinimum: Bool) -> MonitorVerdict? {
        if case let .central(rtol, eta, startsAbove) = context.dynamics {
            // The central flow keeps S ≤ 2/η: at the edge S = 2/η up to the integration error.
            let slack = CentralFlowSettings.constraintSlack(relativeTolerance: rtol) * 2 / eta
            return MonitorVerdict(key: "edge_of_stability", title: "central flow: S(final) ≤ 2/η", value: S, valueDigits: 8,
                                  bound: [2 / eta], boundText: "\(2 / eta, digits: 8)", margin: 2 / eta - S,
                                  outcome: startsAbove ? .notApplicable : .judged(S <= 2 / eta + slack),
                                  note: startsAbove
                                    ? "S(0) > 2/η: a start above the edge (a catapult for descent) is outside the central flow's scope"
                                    : "the edge phase holds S at 2/η (slack min(max(1e3·rtol, 1e-10), 1e-3)·2/η = \(slack, digits: 2))")
        }
        guard case let .descent(eta) = context.dynamics else { return nil }
        return MonitorVerdict(key: "edge_of_stability", title: "GD stability at the end: S(final) < 2/η", value: S, valueDigits: 6,
                              bound: [2 / eta], boundText: "\(2 / eta, digits: 6)", margin: 2 / eta - S,
                              outcome: !atMinimum ? .notApplicable : .judged(S < 2 / eta),
                              note: "a minimiser with S > 2/η is linearly unstable for GD (MATH.md §5)")
    }

    /// The verdicts of the paper's setting (MATH.md §4.4–4.7).
    private func paperVerdicts(_ s: (time: Double, estimate: SharpnessEstimate, derived: Double, dxd: Double), bounds: TheoreticalBounds,
                               end: MonitorSample, atMinimum: Bool, note: VerdictText) -> [MonitorVerdict] {
        let problem = context.problem, S = s.estimate.lambdaMax
        let wFinal = context.risk.endToEndMap(end.weights) ?? problem.minimumNormSolution
        let lower = problem.isUnderdetermined ? bounds.lowerBound(implementing: wFinal) : bounds.sharpnessLowerBound
        let slack = s.estimate.residualMax + 1e-9 * S
        func judged(_ held: Bool) -> MonitorVerdict.Outcome { !atMinimum ? .notApplicable : .judged(held) }
        var list = [MonitorVerdict(key: "sharpness_lower", title: "S(final) ≥ 2La‖w*‖^{2−2/L}‖p‖^{2/L}", value: S, valueDigits: 6,
                                   bound: [lower], boundText: "\(lower, digits: 6)" + (problem.isUnderdetermined ? " (with w_∞)" : ""),
                                   margin: S - lower, outcome: judged(S >= lower - slack), note: note + "; S/LB = \(S / lower, digits: 4)")]
        let corollary2 = "Corollary 2: S(final) ≤ 8LΛ‖w*‖^{2−2/L}"
        if let edge = edgeOfStability(S, atMinimum: atMinimum) {
            list.append(edge)
            list.append(MonitorVerdict(key: "sharpness_corollary2", title: corollary2, value: S, valueDigits: 6, outcome: .notApplicable,
                                       note: "Corollary 2 concerns the gradient-flow limit"))
        } else if let c2 = bounds.corollary2UpperBound {
            list.append(MonitorVerdict(key: "sharpness_corollary2", title: corollary2, value: S, valueDigits: 6, bound: [c2],
                                       boundText: "\(c2, digits: 6)", margin: c2 - S, outcome: judged(S <= c2 + slack),
                                       note: "\(bounds.corollary2Note)"))
        } else {
            list.append(MonitorVerdict(key: "sharpness_corollary2", title: corollary2, value: S, valueDigits: 6, outcome: .notApplicable,
                                       note: "\(bounds.corollary2Note)"))
        }
        list.append(MonitorVerdict(key: "sharpness_derived", title: "S(final) ≤ 2ΛΣ_k‖b_k‖²‖A_k‖_2² (at minimisers)", value: S, valueDigits: 6,
                                   bound: [s.derived], boundText: "\(s.derived, digits: 6)", margin: s.derived - S,
                                   outcome: judged(S <= s.derived + slack),
                                   note: "d×d formula 2λ_max(Σ^{1/2}KΣ^{1/2}) = \(s.dxd, digits: 8); Hessian λ_min = \(s.estimate.lambdaMin, digits: 3)"))
        list.append(MonitorVerdict(key: "sharpness_minimizers", title: "S_min: flat minimiser / paper upper bound",
                                   value: bounds.explicitMinimizerSharpness, valueDigits: 6, bound: [bounds.paperUpperBound],
                                   boundText: "\(bounds.paperUpperBound, digits: 6)", outcome: .info,
                                   note: "S_min ∈ [\(bounds.sharpnessLowerBound, digits: 5), \(bounds.explicitMinimizerSharpness, digits: 5)]"))
        list.append(MonitorVerdict(key: "critical_lr", title: "critical learning rate 2/S_min", value: nil,
                                   bound: [bounds.criticalLearningRateLower, bounds.criticalLearningRateUpper],
                                   boundText: "[\(bounds.criticalLearningRateLower, digits: 4), \(bounds.criticalLearningRateUpper, digits: 4)]",
                                   outcome: .info, note: "gradient descent cannot converge to a minimiser above the right end"))
        return list
    }
}
