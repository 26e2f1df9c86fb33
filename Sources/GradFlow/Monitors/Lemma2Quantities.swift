/// Lemma 2 (MATH.md §4.2): for a network with scalar output (m_L = 1), every layer stays near rank
/// one, the layers stay balanced, and consecutive singular vectors stay aligned, with per-k bounds
/// computed from the initial imbalances `D_k = D_k(0)`: `τ_k = tr D_k`, `δ_k = ‖D_k‖_2`,
/// `e_L = 0`, `e_k = Σ_{j=k}^{L−1} (τ_j + δ_j)`, `ε = Σ_k (|τ_k| + 2δ_k)`:
/// 1. rank-one residual `‖W_k‖_F² − ‖W_k‖_2² ≤ e_k` (k = 1…L);
/// 2. norm balance `|‖W_k‖_2² − ‖W_j‖_2²| ≤ Σ_{i=min(j,k)}^{max(j,k)−1} δ_i` (all pairs);
/// 3. alignment `⟨v_{k+1}, u_k⟩² ≥ 1 − (2δ_k + e_{k+1}) / ‖W_{k+1}‖_2²` (k = 1…L−1), u_k the top left
///    singular vector of W_k and v_{k+1} the top right singular vector of W_{k+1}.
///
/// The bounds hold exactly along exact gradient flow. Along a numerical trajectory they hold up to
/// a slack that comes from the solver's drift of the conserved `D_k`: with `ΔD_j = D_j(t) − D_j(0)`,
/// every τ and δ moves by at most `(√m_j + 1)‖ΔD_j‖_F`, so the slack is
/// `Σ_j (√m_j + 1)‖ΔD_j‖_F + 1e-12·(1 + the bound's scale)` (for the norm balance the scale is Σδ,
/// for the alignment 1, divided by ‖W_{k+1}‖_2²).
///
/// Cost per output time: the top singular triplet of each layer and O(L) for the balance. Statelessly
/// (`values(at:driftNorms:)`) one LAPACK `dgesdd` per layer, O(m_k m_{k−1} min(m_k, m_{k−1})); along a
/// trajectory (`values(at:driftNorms:workspace:)`) a warm-started, certified Lanczos iteration per layer
/// (`TopSingularTripletSolver`: typically a few products with W_k, O(m_k m_{k−1}) each), which falls back to
/// `dgesdd` when it cannot certify σ_1² − ρ ≤ max(1e-10·(‖W_k‖_F² − ρ), 1e-20·ρ) and the singular vectors'
/// angle error ≤ 1e-10 within 32 steps (at most min(m_k, m_{k−1})).
public struct Lemma2Quantities: Sendable {
    public let shape: NetworkShape
    public let tau: [Double]
    public let delta: [Double]
    /// e_k, k = 1…L (index k − 1).
    public let rankOneBounds: [Double]
    /// The scalar ε.
    public let epsilon: Double

    /// One output time's values.
    public struct Values: Sendable {
        /// `‖W_k‖_F² − ‖W_k‖_2²`, k = 1…L (from the singular values, without cancellation).
        public var rankOneResidual: [Double]
        /// `‖W_k‖_2²`, k = 1…L.
        public var spectralNormsSquared: [Double]
        /// `max_k ‖W_k‖_2² − min_k ‖W_k‖_2²`.
        public var normSpread: Double
        /// `min over pairs (j, k) of (bound_jk − |‖W_k‖_2² − ‖W_j‖_2²|)` (≥ −slack when the bound holds).
        public var normBalanceMargin: Double
        /// `⟨v_{k+1}, u_k⟩²`, k = 1…L−1.
        public var alignment: [Double]
        /// `1 − (2δ_k + e_{k+1}) / ‖W_{k+1}‖_2²`, k = 1…L−1.
        public var alignmentBound: [Double]
        /// The numerical slack at this time, `slack(0)`; `slack(scale) = slack(0) + 1e-12·|scale|`.
        /// (`Lemma2Monitor.track` decides from these values whether each statement holds.)
        public var slack: Double
        /// The largest certified bound on σ_1² − ρ over the layers, relative to ‖W_k‖_F² (0 when LAPACK computed all).
        public var eigenvalueBound: Double = 0
        /// The largest certified bound on the sine of a singular vector's angle error (0 when LAPACK computed all).
        public var angleBound: Double = 0
    }

    /// The per-layer warm-started solvers of `values(at:driftNorms:workspace:)`: each keeps the layer's
    /// previous matrix, its top vector and a certified bound on its σ_2. Not thread-safe; one per trajectory.
    public final class Workspace {
        public let solvers: [TopSingularTripletSolver]
        public init(shape: NetworkShape) {
            solvers = (1...shape.depth).map { TopSingularTripletSolver(rows: shape.rows($0), columns: shape.columns($0)) }
        }
        /// Calls that fell back to LAPACK, and all calls, over the layers.
        public var lapackCalls: Int { solvers.map(\.lapackCalls).reduce(0, +) }
        public var calls: Int { solvers.map(\.calls).reduce(0, +) }
    }

    public init(initialWeights: [Double], shape: NetworkShape, imbalances: Imbalances) throws {
        self.shape = shape
        let L = shape.depth
        var tau: [Double] = [], delta: [Double] = []
        for (index, d) in imbalances.initialImbalances.enumerated() {
            let m = shape.rows(index + 1)
            tau.append((0..<m).map { d[$0 * m + $0] }.reduce(0, +))
            let eigenvalues = try LAPACK.symmetricEigenvalues(d, order: m)
            delta.append(max(abs(eigenvalues.first ?? 0), abs(eigenvalues.last ?? 0)))
        }
        self.tau = tau
        self.delta = delta
        var e = [Double](repeating: 0, count: L)
        if L >= 2 { for k in stride(from: L - 1, through: 1, by: -1) { e[k - 1] = e[k] + tau[k - 1] + delta[k - 1] } }
        rankOneBounds = e
        epsilon = zip(tau, delta).map { abs($0) + 2 * $1 }.reduce(0, +)
    }

    /// `min over pairs j < k of (Σ_{i=j}^{k−1} δ_i − |t_k − t_j|)` for `t_k = ‖W_k‖_2²` (0 for L = 1), in O(L):
    /// with prefix sums `S_k = Σ_{i<k} δ_i`, each pair's term is `min(S_k − t_k − (S_j − t_j), S_k + t_k − (S_j + t_j))`,
    /// so a running maximum of `S_j ∓ t_j` over j < k gives the minimum over j for each k.
    public static func balanceMargin(spectralNormsSquared t: [Double], delta: [Double]) -> Double {
        guard t.count >= 2 else { return 0 }
        var margin = Double.infinity, prefix = 0.0
        var maxMinus = -Double.infinity, maxPlus = -Double.infinity
        for k in 0..<t.count {
            if k > 0 {
                margin = min(margin, prefix - t[k] - maxMinus, prefix + t[k] - maxPlus)
            }
            maxMinus = max(maxMinus, prefix - t[k])
            maxPlus = max(maxPlus, prefix + t[k])
            if k < delta.count { prefix += delta[k] }
        }
        return margin
    }

    /// Lemma 2's quantities at θ; `driftNorms` are `‖D_k(t) − D_k(0)‖_F` (k = 1…L−1) for the slack.
    /// One LAPACK `dgesdd` per layer.
    public func values(at theta: [Double], driftNorms: [Double]) throws -> Values {
        try values(at: theta, driftNorms: driftNorms) { k in
            let (s, u, v) = try LAPACK.singularValues(Array(theta[shape.range(k)]), rows: shape.rows(k), columns: shape.columns(k))
            return TopSingularTriplet(sigmaSquared: s[0] * s[0], residualSquared: s.dropFirst().map { $0 * $0 }.reduce(0, +), u: u, v: v,
                                      eigenvalueBound: 0, angleBound: 0, lanczosSteps: 0, usedLAPACK: true,
                                      secondSingularValueBound: (s.count > 1 ? s[1] : 0) + 8 * Double(s.count) * Double.ulpOfOne * s[0])
        }
    }

    /// The same quantities along a trajectory: each layer's top triplet from `workspace`'s warm-started,
    /// certified Lanczos (`TopSingularTripletSolver`), started from the previous call's vectors.
    public func values(at theta: [Double], driftNorms: [Double], workspace: Workspace) throws -> Values {
        try theta.withUnsafeBufferPointer { buffer in
            try values(at: theta, driftNorms: driftNorms) { k in
                try workspace.solvers[k - 1].solve(buffer.baseAddress! + shape.offset(k))
            }
        }
    }

    private func values(at theta: [Double], driftNorms: [Double], triplet: (Int) throws -> TopSingularTriplet) throws -> Values {
        let L = shape.depth
        var residual: [Double] = [], top: [Double] = [], us: [[Double]] = [], vs: [[Double]] = []
        var eigenvalueBound = 0.0, angleBound = 0.0
        for k in 1...L {
            let t = try triplet(k)
            top.append(t.sigmaSquared)
            residual.append(t.residualSquared)
            us.append(t.u)
            vs.append(t.v)
            eigenvalueBound = max(eigenvalueBound, t.eigenvalueBound / max(t.sigmaSquared + t.residualSquared, .leastNormalMagnitude))
            angleBound = max(angleBound, t.angleBound)
        }
        let slackBase = zip(driftNorms, 1..<max(L, 1)).map { ($0.0) * (Double(shape.rows($0.1)).squareRoot() + 1) }.reduce(0, +)
        let margin = Self.balanceMargin(spectralNormsSquared: top, delta: delta)
        var alignment: [Double] = [], alignmentBound: [Double] = []
        for k in 0..<(L - 1) {
            let dot = zip(vs[k + 1], us[k]).map { $0 * $1 }.reduce(0, +)
            alignment.append(dot * dot)
            alignmentBound.append(1 - (2 * delta[k] + rankOneBounds[k + 1]) / top[k + 1])
        }
        return Values(rankOneResidual: residual, spectralNormsSquared: top, normSpread: (top.max() ?? 0) - (top.min() ?? 0),
                      normBalanceMargin: margin, alignment: alignment, alignmentBound: alignmentBound,
                      slack: slackBase + 1e-12, eigenvalueBound: eigenvalueBound, angleBound: angleBound)
    }
}
