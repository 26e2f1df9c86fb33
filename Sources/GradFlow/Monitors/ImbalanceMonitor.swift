import Glibc

/// The imbalance of the initial weights and, for two-layer networks, the convergence rate it certifies
/// (MATH.md §10.3, after Min et al. 2021).
///
/// For every L ≥ 2 it stores the eigenvalues of each `D_k(0) = W_kW_kᵀ − W_{k+1}ᵀW_{k+1}` (§4.1's sign) in
/// `/problem/imbalance_eigenvalues` [L−1, max_k m_k] (ascending, NaN-padded). For L = 2 (linear, M = W_2W_1,
/// any q and n), with `D = W_2ᵀW_2 − W_1W_1ᵀ = −D_1` (h×h, conserved by gradient flow) and λ⁺ the smallest
/// nonzero eigenvalue of Σ:
///
///     ‖∇R‖²/(R − R_min) ≥ c := 4λ⁺[(λ_q(D))₊·[q ≤ h] + (−λ_{h−d+1}(D))₊·[d ≤ h]],
///     so R(t) − R_min ≤ (R(0) − R_min)e^{−ct}
///
/// (λ_1(D) ≥ … ≥ λ_h(D)). c goes to `/bounds/imbalance_rate`; each row records the bound
/// `imbalance_excess_risk_bound`; the verdicts check both statements at every row of a gradient-flow run,
/// with a relative slack of 1e-6 (and, for the decay, an absolute slack of 1e-12·(R(0) − R_min)). With c = 0
/// nothing is claimed. Under gradient descent D is not conserved (MATH.md §5), so nothing is judged.
///
/// Cost: one symmetric eigenproblem per layer pair at set-up; per output time one exponential.
public final class ImbalanceMonitor: Monitor {
    let context: MonitorContext
    /// Eigenvalues of D_k(0), k = 1…L−1, ascending.
    public let eigenvalues: [[Double]]
    /// The rate c of MATH.md §10.3 (nil when it does not apply: L ≠ 2, a GELU network, or p ≠ [1]).
    public let rate: Double?
    /// The relative slack of both checks.
    public static let slack = 1e-6
    private var initialExcess: Double?
    private var minimumRatio = Double.infinity, worstDecay = 0.0, rows = 0
    private var ratioHeld = true, decayHeld = true

    public init?(context: MonitorContext) throws {
        guard context.network.model == .linear, context.depth >= 2, let imbalances = context.initialImbalances else { return nil }
        self.context = context
        let shape = context.network.shape
        eigenvalues = try imbalances.initialImbalances.enumerated().map { k, d in
            try LAPACK.symmetricEigenvalues(d, order: shape.rows(k + 1))
        }
        let network = context.network, problem = context.problem
        if shape.depth == 2, network.projection == nil || network.projection == [1] {
            // λ_i(D) = −e_{i} with e ascending (D = −D_1), so λ_q(D) = −e_q and −λ_{h−d+1}(D) = e_{h−d+1} (1-based).
            let e = eigenvalues[0], h = e.count, q = shape.outputWidth, d = shape.inputDimension
            let output = q <= h ? max(-e[q - 1], 0) : 0
            let input = d <= h ? max(e[h - d], 0) : 0
            // Below the rounding level of D's eigenvalues (a balanced start has D = 0), c is 0.
            let level = 1e-12 * max(e.map(abs).max() ?? 0, shape.range(1).map { context.initialWeights[$0] * context.initialWeights[$0] }.reduce(0, +))
            rate = 4 * problem.lambdaMin * (output > level ? output : 0) + 4 * problem.lambdaMin * (input > level ? input : 0)
        } else {
            rate = nil
        }
    }

    private var judged: Bool {
        if case .flow = context.dynamics { return rate != nil }
        return false
    }

    public var columns: [TrajectoryColumn] {
        rate == nil ? [] : [.scalar("imbalance_excess_risk_bound", "(R(0) − R_min)e^{−ct}, c from the imbalance (MATH.md §10.3)")]
    }

    public var problemDatasets: [ConstantDataset] {
        let width = eigenvalues.map(\.count).max() ?? 0
        let padded = eigenvalues.flatMap { $0 + [Double](repeating: .nan, count: width - $0.count) }
        return [ConstantDataset(name: "imbalance_eigenvalues", values: padded, shape: [eigenvalues.count, width],
                                dimensions: ["layer_pair", "imbalance_eigenvalue"],
                                description: "eigenvalues of D_k(0) = W_kW_kᵀ − W_{k+1}ᵀW_{k+1}, ascending (NaN-padded)")]
    }

    public var boundAttributes: [(String, AttributeValue)] { rate.map { [("imbalance_rate", .double($0))] } ?? [] }

    public func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {
        guard let rate else { return }
        if initialExcess == nil, sample.time == 0 { initialExcess = sample.evaluation.excessRisk }
        row["imbalance_excess_risk_bound"] = [(initialExcess ?? .nan) * (-rate * sample.time).exp]
    }

    public func track(_ row: inout MonitorRow) {
        guard judged, let rate, let time = row["time"]?.first, let excess = row["excess_risk"]?.first,
              let gradient = row["grad_norm_sq"]?.first else { return }
        if time == 0 { initialExcess = excess }
        guard let initial = initialExcess else { return }
        rows += 1
        if excess > 0 {
            let ratio = gradient / excess
            minimumRatio = min(minimumRatio, ratio)
            if ratio < rate * (1 - Self.slack) { ratioHeld = false }
        }
        let bound = initial * (-rate * time).exp
        worstDecay = max(worstDecay, excess / max(bound, .leastNormalMagnitude))
        if excess > bound * (1 + Self.slack) + 1e-12 * initial { decayHeld = false }
    }

    public func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] {
        guard let rate else { return [] }
        let pl = "imbalance: ‖∇R‖²/(R − R_min) ≥ c = 4λ⁺[(λ_q(D))₊ + (−λ_{h−d+1}(D))₊]"
        let decay = "imbalance: R − R_min ≤ (R(0) − R_min)e^{−ct}"
        guard judged else {
            let reason: VerdictText = "the certificate is for gradient flow; under descent D drifts (MATH.md §5)"
            return [.notApplicable(key: "imbalance_pl", title: pl, because: reason)]
        }
        guard rate > 0 else {
            return [MonitorVerdict(key: "imbalance_pl", title: pl, value: rows > 0 ? minimumRatio : nil, bound: [0], boundText: "c = 0",
                                   outcome: .info, note: "D certifies no rate here (c = 0): no claim (MATH.md §10.3)")]
        }
        return [
            MonitorVerdict(key: "imbalance_pl", title: pl, value: rows > 0 ? minimumRatio : nil, bound: [rate],
                           boundText: "c = \(rate, digits: 4)", margin: rows > 0 ? minimumRatio - rate : nil,
                           outcome: rows == 0 ? .notApplicable : .judged(ratioHeld),
                           note: "running minimum of the ratio over every output time; D = W_2ᵀW_2 − W_1W_1ᵀ is conserved, so c is fixed at t = 0"),
            MonitorVerdict(key: "imbalance_rate", title: decay, value: rows > 0 ? worstDecay : nil, valueDigits: 4, bound: [1],
                           boundText: "≤ 1", margin: rows > 0 ? 1 - worstDecay : nil,
                           outcome: rows == 0 ? .notApplicable : .judged(decayHeld),
                           note: "worst (R − R_min)/bound over every output time; relative slack 1e-6"),
        ]
    }
}

private extension Double {
    var exp: Double { Glibc.exp(self) }
}
