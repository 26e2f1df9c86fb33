/// Incremental learning's transitions (MATH.md §10.2, after Gidel et al. 2019): the half-time of each mode
/// of the target `M* = Σ_i σ_i u_i v_iᵀ`, the first t with `a_i(t) = u_iᵀM(t)v_i = σ_i/2`, beside §10.2's
/// prediction from `a_i(0)`.
///
/// The half-times are located by the dynamics on the event functions `g_i(θ) = a_i(θ) − σ_i/2`: by
/// SUNDIALS' root finding for gradient flow (to the solver's tolerance), by linear interpolation between
/// steps for gradient descent. Each row records the half-times found so far (`transition_time`
/// [min(q, d)], NaN until found), so a resumed run keeps them; the run's end writes `/transitions/observed`
/// and `/transitions/predicted` [mode]. Verdicts (with two or more modes, or a spectral start): the modes are
/// learned in decreasing order of σ_i (the plateaus at the RRR levels of §10.1), and the observed half-times
/// against the prediction, judged to 1e-5 relative where the prediction is exact (gradient flow, spectral
/// initialisation, Σ = I), reported otherwise. It exists in the incremental-learning setting
/// only (two or more modes, or a spectral start): its events make the integrator stop at each crossing,
/// which changes the step sequence, so with it a trajectory agrees with one without monitors to the solver's
/// tolerance rather than bit for bit.
///
/// Cost: one SVD of M* at set-up; per event evaluation the product M (≈ 2Pd flops) and rank bilinear forms.
public final class TransitionTimesMonitor: Monitor {
    let context: MonitorContext
    /// σ_i, u_i and v_i of M*.
    public let modes: TargetModes
    /// σ_i of M*, i = 1…min(q, d).
    public var targetValues: [Double] { modes.values }
    /// The modes with σ_i above the rounding level (those that have a half-time).
    var rank: Int { modes.rank }
    /// a_i(0).
    public let initialStrengths: [Double]
    /// §10.2's half-times (NaN where none is predicted): the flow's, or for gradient descent its linearised
    /// estimate (L = 2).
    public let predicted: [Double]
    /// The flow's half-times, also for a descent run (at small η the closer prediction: the linearised
    /// estimate leaves out the saturation, ln 2/(4σ_i) at η → 0).
    public let predictedFlow: [Double]
    /// The half-times located so far (NaN until found).
    public private(set) var observed: [Double]
    /// Whether the prediction is exact here (gradient flow, spectral start, Σ = I).
    let exact: Bool
    /// Whether Σ = I (to 1e-10): the modes are then learned in decreasing order of σ_i.
    let whitened: Bool

    public init?(context: MonitorContext) throws {
        guard context.network.model == .linear, let m0 = context.risk.endToEndMap(context.initialWeights) else { return nil }
        self.context = context
        let problem = context.problem, d = problem.dimension
        let modes = try TargetModes(problem: problem)
        self.modes = modes
        let k = modes.values.count, rank = modes.rank, sigma = modes.values
        let strengths = modes.strengths(of: m0)
        initialStrengths = strengths
        let L = context.depth
        predicted = (0..<k).map { i in
            guard i < rank else { return .nan }  // σ_i at the rounding level: no mode to learn
            if case let .descent(eta) = context.dynamics {
                return ModeHalfTime.descent(initial: strengths[i], target: sigma[i], depth: L, learningRate: eta)
            }
            return ModeHalfTime.flow(initial: strengths[i], target: sigma[i], depth: L)
        }
        predictedFlow = (0..<k).map { $0 < rank ? ModeHalfTime.flow(initial: strengths[$0], target: sigma[$0], depth: L) : .nan }
        observed = [Double](repeating: .nan, count: k)
        var spectral = false
        if case .spectral = context.initialization { spectral = true }
        var flow = false
        if case .flow = context.dynamics { flow = true }
        whitened = Self.isIdentity(problem.covariance, d: d)
        exact = spectral && flow && whitened
        // Only in the incremental-learning setting: its events make the integrator stop at each crossing,
        // which changes the step sequence (the trajectory then agrees to the tolerance, not bit for bit).
        guard spectral || rank >= 2 else { return nil }
    }

    /// Whether Σ = I to 1e-10. MATH.md §10.2 also names "Σ commuting with M*ᵀM*", but then each mode's rate
    /// carries λ_i = v_iᵀΣv_i (measured: with Σ = 4I every observed half-time is exactly 1/4 of the formula's),
    /// so the formula as written is exact for Σ = I only.
    static func isIdentity(_ sigma: [Double], d: Int) -> Bool {
        for i in 0..<d { for j in 0..<d where abs(sigma[i * d + j] - (i == j ? 1 : 0)) > 1e-10 { return false } }
        return true
    }

    public var columns: [TrajectoryColumn] {
        [TrajectoryColumn("transition_time", width: targetValues.count, axis: .targetMode,
                          description: "half-time of mode i, the first t with a_i(t) = σ_i/2 (NaN until reached; MATH.md §10.2)")]
    }

    public var eventCount: Int { rank }

    public func eventValues(at weights: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>) {
        guard let m = context.risk.endToEndMap(Array(weights)) else { return }
        for i in 0..<rank { values[i] = modes.strength(i, of: m) - targetValues[i] / 2 }
    }

    public func eventCrossed(_ index: Int, at time: Double) {
        if index < observed.count, observed[index].isNaN { observed[index] = time }
    }

    public func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {
        row["transition_time"] = observed
    }

    public func track(_ row: inout MonitorRow) {
        guard let times = row["transition_time"], times.count == observed.count else { return }
        for i in observed.indices where observed[i].isNaN && !times[i].isNaN { observed[i] = times[i] }
    }

    public var closingDatasets: [(group: String, dataset: ConstantDataset)] {
        let k = targetValues.count
        return [("transitions", ConstantDataset(name: "observed", values: observed, shape: [k], dimensions: ["target_mode"],
                                                description: "observed half-time of each mode of M* (NaN: not reached)")),
                ("transitions", ConstantDataset(name: "predicted", values: predicted, shape: [k], dimensions: ["target_mode"],
                                                description: "MATH.md §10.2's half-time from a_i(0) (NaN: none predicted)")),
                ("transitions", ConstantDataset(name: "predicted_flow", values: predictedFlow, shape: [k], dimensions: ["target_mode"],
                                                description: "the flow's half-time from a_i(0) (for descent too: the η → 0 limit)")),
                ("transitions", ConstantDataset(name: "target_singular_values", values: targetValues, shape: [k], dimensions: ["target_mode"],
                                                description: "σ_i of M*")),
                ("transitions", ConstantDataset(name: "initial_strength", values: initialStrengths, shape: [k], dimensions: ["target_mode"],
                                                description: "a_i(0) = u_iᵀM(0)v_i"))]
    }

    public func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] {
        var list: [MonitorVerdict] = []
        // Order: among modes with distinct σ (1e-9 apart), a larger σ is learned no later.
        let found = (0..<rank).filter { !observed[$0].isNaN }
        var ordered = true, worstGap = Double.infinity
        for a in found { for b in found where b > a && targetValues[a] > targetValues[b] * (1 + 1e-9) {
            if observed[a] > observed[b] { ordered = false }
            worstGap = min(worstGap, observed[b] - observed[a])
        } }
        let reached: VerdictText = "\(found.count) of \(rank) modes reached σ_i/2"
        let orderTitle = "incremental learning: modes learned in decreasing order of σ_i"
        if rank >= 2, context.depth == 1 {
            list.append(.notApplicable(key: "transition_order", title: orderTitle,
                                       because: "depth 1 has no plateaus: with Σ = I all modes reach σ_i/2 together (MATH.md §10.2)"))
        } else if rank >= 2 {
            let scope: VerdictText = whitened ? "; plateaus at the RRR levels R_r of /problem/rrr_loss (MATH.md §10.1)"
                : "; Σ ≠ I: a mode's speed also depends on v_iᵀΣv_i, so the order is reported, not judged"
            list.append(MonitorVerdict(key: "transition_order", title: orderTitle,
                                       value: found.count >= 2 ? Double(found.count) : nil, valueDigits: 3,
                                       boundText: "t_1 ≤ t_2 ≤ …", margin: worstGap.isFinite ? worstGap : nil,
                                       outcome: found.count < 2 ? .notApplicable : whitened ? .judged(ordered) : .info,
                                       note: reached + scope))
        }
        let compared = found.filter { !predicted[$0].isNaN && predicted[$0] > 0 }
        let deviation = compared.map { abs(observed[$0] - predicted[$0]) / predicted[$0] }.max()
        let tolerance = 1e-5
        let first = compared.first
        let example: VerdictText = first.map { "; mode \($0 + 1): t = \(observed[$0], digits: 8) against \(predicted[$0], digits: 8)" } ?? ""
        list.append(MonitorVerdict(key: "transition_times", title: "half-times a_i(t) = σ_i/2 against MATH.md §10.2",
                                   value: deviation, valueDigits: 3, bound: exact ? [tolerance] : [],
                                   boundText: exact ? "≤ \(tolerance, digits: 1) (exact case)" : "a prediction",
                                   margin: exact ? deviation.map { tolerance - $0 } : nil,
                                   outcome: deviation == nil ? .notApplicable : (exact ? .judged(deviation! <= tolerance) : .info),
                                   note: "largest relative deviation over \(compared.count) modes" + example))
        return list
    }
}
