/// Lemma 1 (MATH.md §4.1) along the trajectory: the drift of the imbalances
/// `D_k = W_kW_kᵀ − W_{k+1}ᵀW_{k+1}` (k = 1…L−1) from their initial values.
///
/// - Gradient flow: exactly conserved; the verdict allows the solver's error, `max(1e3·rtol, 1e-12)`
///   relative to `‖W_kW_kᵀ‖_F` (`threshold`).
/// - Gradient descent: the drift must equal MATH.md §5's exact sum `η² Σ_s (G_kG_kᵀ − G_{k+1}ᵀG_{k+1})`:
///   `‖ΔD_k − Pred_k‖_F ≤ 1e-6‖Pred_k‖_F + R_k`, with `R_k = (100·m_k + K)·ε·scale` the rounding level of
///   `D_k(t) − D_k(0)` after K steps (each step rounds θ once); the recorded check is the ratio (≤ 1).
/// - GELU networks have no conservation law: the drift that occurs is reported, with no claim.
///
/// Columns: `conservation_drift` and `conservation_drift_abs` [L−1]; for descent on a linear network
/// also `conservation_drift_predicted`, `conservation_prediction_error`, `conservation_prediction_check`.
/// Cost per output time: that of `Imbalances.differences`, ≈ Σ_k m_k²(m_{k−1} + m_{k+1}) flops, plus
/// Σ_k m_k² for the prediction check.
public final class ConservationMonitor: Monitor {
    let context: MonitorContext
    private var worstDrift = 0.0, worstDriftAbsolute = 0.0
    private var worstPredictionCheck = 0.0, worstRelativePredictionError = 0.0

    public init(context: MonitorContext) {
        self.context = context
    }

    /// Whether the imbalances exist (L ≥ 2).
    private var applies: Bool { context.depth >= 2 }
    /// Whether the descent prediction of MATH.md §5 is checked.
    private var checksPrediction: Bool {
        if case .descent = context.dynamics { return context.network.hasConservationLaw }
        return false
    }

    /// The drift allowed for gradient flow at relative tolerance rtol: exact gradient flow has none; a solver
    /// drifts by a modest multiple of its tolerance, and `max(1e3·rtol, 1e-12)` is the slack (∞ for descent).
    public var threshold: Double { Self.threshold(for: context.dynamics) }

    /// `max(1e3·rtol, 1e-12)` for gradient flow at relative tolerance rtol; ∞ for descent.
    public static func threshold(for dynamics: MonitorSuite.Dynamics) -> Double {
        if case let .flow(rtol) = dynamics { return max(1e3 * rtol, 1e-12) }
        return .infinity
    }

    public var columns: [TrajectoryColumn] {
        guard applies else { return [] }
        let L = context.depth
        var columns: [TrajectoryColumn] = [
            .perLayerPair("conservation_drift", depth: L, "relative conservation drift ‖D_k(t) − D_k(0)‖_F / ‖W_kW_kᵀ‖_F (Lemma 1)"),
            .perLayerPair("conservation_drift_abs", depth: L, "absolute conservation drift ‖D_k(t) − D_k(0)‖_F"),
        ]
        if checksPrediction {
            columns += [
                .perLayerPair("conservation_drift_predicted", depth: L, "predicted descent drift ‖η² Σ (G_kG_kᵀ − G_{k+1}ᵀG_{k+1})‖_F"),
                .perLayerPair("conservation_prediction_error", depth: L, "error of the predicted descent drift"),
                .perLayerPair("conservation_prediction_check", depth: L, "relative error of the predicted descent drift"),
            ]
        }
        return columns
    }

    public func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {
        guard applies else { return }
        let differences = sample.imbalanceDifferences, absolute = sample.imbalanceDrift
        row["conservation_drift"] = zip(absolute, differences).map { $1.scale > 0 ? $0 / $1.scale : $0 }
        row["conservation_drift_abs"] = absolute
        guard checksPrediction, let predicted = sample.predictedDrift else { return }
        var norms: [Double] = [], errors: [Double] = [], checks: [Double] = []
        var offset = 0
        for (k, entry) in differences.enumerated() {
            let m = context.network.shape.rows(k + 1)
            var norm = 0.0, error = 0.0
            for i in 0..<m { for j in i..<m {
                let weight = i == j ? 1.0 : 2.0
                let p = predicted[offset + i * m + j]
                norm += weight * p * p
                error += weight * (entry.difference[i * m + j] - p) * (entry.difference[i * m + j] - p)
            } }
            offset += m * m
            let rounding = (100 * Double(m) + Double(sample.step)) * Double.ulpOfOne * entry.scale
            let absoluteError = error.squareRoot(), norm2 = norm.squareRoot()
            norms.append(norm2)
            errors.append(norm2 > 0 ? absoluteError / norm2 : absoluteError)
            checks.append(absoluteError / (1e-6 * norm2 + rounding))
        }
        row["conservation_drift_predicted"] = norms
        row["conservation_prediction_error"] = errors
        row["conservation_prediction_check"] = checks
    }

    public func track(_ row: inout MonitorRow) {
        if let relative = row["conservation_drift"], let absolute = row["conservation_drift_abs"] {
            worstDrift = max(worstDrift, relative.max() ?? 0)
            worstDriftAbsolute = max(worstDriftAbsolute, absolute.max() ?? 0)
        }
        if let checks = row["conservation_prediction_check"], let errors = row["conservation_prediction_error"] {
            worstPredictionCheck = max(worstPredictionCheck, checks.max() ?? 0)
            // The plain relative error where the drift is resolved (its allowance is dominated by 1e-6·prediction).
            for (error, check) in zip(errors, checks) where check < 1e6 * error {
                worstRelativePredictionError = max(worstRelativePredictionError, error)
            }
        }
    }

    public func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] {
        let key = "conservation_drift"
        guard applies else {
            return [.notApplicable(key: key, title: "Lemma 1: conservation drift", because: "needs depth L ≥ 2")]
        }
        if !context.network.hasConservationLaw {
            return [MonitorVerdict(key: key, title: "no conservation law (GELU): drift of W_kW_kᵀ − W_{k+1}ᵀW_{k+1}",
                                   value: worstDrift, valueDigits: 3, boundText: "none", outcome: .info,
                                   note: "Lemma 1 needs linear layers; this is the drift that occurs (max over k and t, relative to ‖W_kW_kᵀ‖_F; absolute \(worstDriftAbsolute, digits: 3))")]
        }
        if case .central = context.dynamics {
            return [MonitorVerdict(key: key, title: "central flow: drift of D_k (not conserved at the edge)",
                                   value: worstDrift, valueDigits: 3, boundText: "none", outcome: .info,
                                   note: "the edge phase's ½σ²∇S term changes D_k; gradient-flow stretches conserve it (max over k and t, relative; absolute \(worstDriftAbsolute, digits: 3))")]
        }
        if case let .descent(eta) = context.dynamics {
            return [MonitorVerdict(key: key, title: "GD: D_k(t) − D_k(0) = η² Σ_s (G_kG_kᵀ − G_{k+1}ᵀG_{k+1})",
                                   value: worstPredictionCheck, valueDigits: 3, bound: [1], boundText: "≤ 1",
                                   margin: 1 - worstPredictionCheck, outcome: .judged(worstPredictionCheck <= 1),
                                   note: "error / (1e-6·prediction + rounding level); worst relative error where resolved \(worstRelativePredictionError, digits: 3); largest drift \(worstDriftAbsolute, digits: 3) (relative \(worstDrift, digits: 3)), η = \(eta, digits: 4)")]
        }
        return [MonitorVerdict(key: key, title: "Lemma 1: conservation drift (relative)",
                               value: worstDrift, valueDigits: 3, bound: [threshold], boundText: "0 (≤ \(threshold, digits: 2) numerically)",
                               margin: threshold - worstDrift, outcome: .judged(worstDrift <= threshold),
                               note: "max over k and t of ‖D_k(t) − D_k(0)‖_F / ‖W_kW_kᵀ‖_F; absolute \(worstDriftAbsolute, digits: 3)")]
    }
}
