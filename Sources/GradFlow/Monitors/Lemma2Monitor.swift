/// Lemma 2 (MATH.md §4.2) along the trajectory, for the paper's network (linear, scalar output m_L = 1,
/// L ≥ 2): the rank-one residuals, the norm balance and the alignment of consecutive singular vectors,
/// each against its per-k bound from `Lemma2Quantities` (τ_k, δ_k, e_k, ε from D_k(0)).
///
/// A statement holds at a row when it holds up to the row's numerical slack (`Lemma2Quantities.Values.slack`:
/// the solver's drift of D_k plus 1e-12·(1 + the bound's scale)). Elsewhere (q outputs, GELU, L = 1,
/// m_L > 1) the verdict is `n/a` with the reason.
///
/// Columns: `rank1_residual`, `spectral_norm_sq` [L]; `norm_balance`, `norm_balance_margin`; `alignment`,
/// `alignment_bound` [L−1]; `lemma2_slack`. Cost per output time: the top singular triplet of each layer by a
/// warm-started, certified Lanczos iteration (`TopSingularTripletSolver`; a few O(m_k m_{k−1}) products on a
/// slowly changing layer, `dgesdd` on the first row and when it cannot certify) and O(L) for the pairwise balance.
/// Accuracy: σ_1² to max(1e-10·(‖W_k‖_F² − σ_1²), 1e-20·σ_1²), so the rank-one residual to ten digits, and each
/// singular vector's angle to 1e-10, so the alignment to about 4e-10 (certified bounds; LAPACK's are rounding only).
public final class Lemma2Monitor: Monitor {
    let context: MonitorContext
    /// The constants of the lemma; nil when it does not apply (`reason` says why).
    public let quantities: Lemma2Quantities?
    /// The warm-started per-layer solvers (one trajectory's rows in order).
    public let workspace: Lemma2Quantities.Workspace?
    let reason: String
    private var rankOneHeld = true, balanceHeld = true, alignmentHeld = true
    private var worstRankOne = 0.0, worstRankOneExcess = -Double.infinity
    private var worstSpread = 0.0, worstBalanceMargin = Double.infinity
    private var worstAlignmentMargin = Double.infinity, lowestAlignment = 1.0

    public init(context: MonitorContext) throws {
        self.context = context
        let network = context.network
        if network.isScalarLinear, network.shape.outputWidth == 1, network.shape.depth >= 2, let imbalances = context.initialImbalances {
            quantities = try Lemma2Quantities(initialWeights: context.initialWeights, shape: network.shape, imbalances: imbalances)
            workspace = Lemma2Quantities.Workspace(shape: network.shape)
            reason = ""
        } else {
            quantities = nil
            workspace = nil
            reason = network.model == .gelu ? "Lemma 2 concerns linear networks; it does not apply to a GELU network (MATH.md §6.3)"
                : network.projection == nil ? "Lemma 2 is not claimed for q = \(network.shape.outputWidth) outputs (Theorem 5, MATH.md §6.1)"
                : network.shape.depth < 2 ? "needs depth L ≥ 2"
                : "Lemma 2 is stated for scalar output (m_L = 1); this network has m_L = \(network.shape.outputWidth)"
                    + (network.kind == .residual ? " (residual: ‖θ_k‖_F = L‖W_k − W_k(0)‖_F is monitored instead)" : "")
        }
    }

    public var columns: [TrajectoryColumn] {
        guard quantities != nil else { return [] }
        let L = context.depth
        return [
            .perLayer("rank1_residual", depth: L, "‖W_k‖_F² − ‖W_k‖_2² (Lemma 2)"),
            .perLayer("spectral_norm_sq", depth: L, "‖W_k‖_2²"),
            .scalar("norm_balance", "max_{k,j} |‖W_k‖_2² − ‖W_j‖_2²| (Lemma 2)"),
            .scalar("norm_balance_margin", "Σδ_i − norm_balance"),
            .perLayerPair("alignment", depth: L, "⟨v_{k+1}, u_k⟩² (Lemma 2)"),
            .perLayerPair("alignment_bound", depth: L, "1 − (2δ_k + e_{k+1})/‖W_{k+1}‖_2²"),
            .scalar("lemma2_slack", "smallest margin of the Lemma 2 inequalities"),
        ]
    }

    public var boundAttributes: [(String, AttributeValue)] {
        guard let q = quantities else { return [] }
        return [("epsilon", .double(q.epsilon)), ("rank1_residual_bound", .doubles(q.rankOneBounds)),
                ("delta", .doubles(q.delta)), ("tau", .doubles(q.tau))]
    }

    public func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {
        guard let quantities, let workspace else { return }
        let v = try quantities.values(at: sample.weights, driftNorms: sample.imbalanceDrift, workspace: workspace)
        row["rank1_residual"] = v.rankOneResidual
        row["spectral_norm_sq"] = v.spectralNormsSquared
        row["norm_balance"] = [v.normSpread]
        row["norm_balance_margin"] = [v.normBalanceMargin]
        row["alignment"] = v.alignment
        row["alignment_bound"] = v.alignmentBound
        row["lemma2_slack"] = [v.slack]
    }

    /// Per layer: the warm-started solver's state (`TopSingularTripletSolver.state`).
    public var resumeStateCount: Int { workspace?.solvers.map(\.stateCount).reduce(0, +) ?? 0 }
    /// Builds before Jacobi (9c8fcb9 and earlier) saved k + 3 values per layer, without the rotation.
    public var legacyResumeStateCount: Int? {
        guard let workspace, workspace.solvers.contains(where: \.savesRotation) else { return nil }
        return workspace.solvers.map(\.legacyStateCount).reduce(0, +)
    }
    public func useLegacyResumeLayout() { workspace?.solvers.forEach { $0.savesRotation = false } }

    public func resumeState() -> [Double] {
        guard let workspace else { return [] }
        var state: [Double] = []
        state.reserveCapacity(resumeStateCount)
        for solver in workspace.solvers { solver.appendState(to: &state) }
        return state
    }
    public func restore(_ state: ArraySlice<Double>, weights: [Double]) {
        guard let workspace else { return }
        var offset = state.startIndex
        for (index, solver) in workspace.solvers.enumerated() {
            let range = context.network.shape.range(index + 1)
            solver.restore(state[offset..<(offset + solver.stateCount)], previous: weights[range])
            offset += solver.stateCount
        }
    }

    public func track(_ row: inout MonitorRow) {
        guard let quantities, let residual = row["rank1_residual"], let top = row["spectral_norm_sq"],
              let spread = row["norm_balance"]?.first, let margin = row["norm_balance_margin"]?.first,
              let alignment = row["alignment"], let alignmentBound = row["alignment_bound"], let slack0 = row["lemma2_slack"]?.first
        else { return }
        // lemma2_slack = slack(0), where slack(scale) = base + 1e-12·(1 + |scale|) (Lemma2Quantities).
        let base = slack0 - 1e-12
        func slack(_ scale: Double) -> Double { base + 1e-12 * (1 + abs(scale)) }
        for (value, bound) in zip(residual, quantities.rankOneBounds) where value > bound + slack(bound) { rankOneHeld = false }
        if margin < -slack(quantities.delta.reduce(0, +)) { balanceHeld = false }
        for k in 0..<alignment.count where alignment[k] < alignmentBound[k] - slack(1) / max(top[k + 1], 1e-300) {
            alignmentHeld = false
        }
        worstRankOne = max(worstRankOne, residual.max() ?? 0)
        worstRankOneExcess = max(worstRankOneExcess, zip(residual, quantities.rankOneBounds).map { $0 - $1 }.max() ?? 0)
        worstSpread = max(worstSpread, spread)
        worstBalanceMargin = min(worstBalanceMargin, margin)
        worstAlignmentMargin = min(worstAlignmentMargin, zip(alignment, alignmentBound).map { $0 - $1 }.min() ?? .infinity)
        lowestAlignment = min(lowestAlignment, alignment.min() ?? 1)
    }

    public func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] {
        guard let q = quantities else { return [.notApplicable(key: "lemma2", title: "Lemma 2", because: "\(reason)")] }
        let eMax = q.rankOneBounds.max() ?? 0, deltaSum = q.delta.reduce(0, +)
        return [
            MonitorVerdict(key: "rank1_residual", title: "Lemma 2: ‖W_k‖_F² − ‖W_k‖_2² ≤ e_k", value: worstRankOne, valueDigits: 3,
                           bound: [eMax], boundText: "e_k ≤ \(eMax, digits: 3)", margin: -worstRankOneExcess,
                           outcome: .judged(rankOneHeld), note: "smallest margin min(e_k − value) = \(0 - worstRankOneExcess + 0, digits: 3)"),
            MonitorVerdict(key: "norm_balance", title: "Lemma 2: |‖W_k‖_2² − ‖W_j‖_2²| ≤ Σδ_i", value: worstSpread, valueDigits: 3,
                           bound: [deltaSum], boundText: "Σδ = \(deltaSum, digits: 3)", margin: worstBalanceMargin,
                           outcome: .judged(balanceHeld), note: "smallest pair margin \(worstBalanceMargin, digits: 3)"),
            MonitorVerdict(key: "alignment", title: "Lemma 2: ⟨v_{k+1}, u_k⟩² ≥ 1 − (2δ_k + e_{k+1})/‖W_{k+1}‖_2²",
                           value: lowestAlignment, valueDigits: 6, boundText: "per-k, per-t", margin: worstAlignmentMargin,
                           outcome: .judged(alignmentHeld), note: "smallest margin \(worstAlignmentMargin, digits: 3)"),
            MonitorVerdict(key: "epsilon", title: "Lemma 2: ε = Σ_k (|τ_k| + 2δ_k)", value: q.epsilon, valueDigits: 4,
                           outcome: .info, note: "from W(0); the per-k bounds above are the sharper ones"),
        ]
    }
}
