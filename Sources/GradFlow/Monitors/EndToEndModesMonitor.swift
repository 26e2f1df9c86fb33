/// The modes of the end-to-end map `M(t) = W_L⋯W_1` (q×d; for scalar output `M = pᵀW_L⋯W_1 = wᵀ`) at every
/// output time (MATH.md §10.2): its singular values `s_i(M(t))`, and the **mode strengths**
/// `a_i(t) = u_iᵀ M(t) v_i` in the SVD basis of the target `M* = Σ_i σ_i u_i v_iᵀ` (i = 1…min(q, d)), which
/// show incremental learning: plateaus, then one mode at a time reaching σ_i. Linear networks only (a GELU
/// network has no end-to-end map). It records values and makes no claim, so it adds no table line.
///
/// Columns: `end_to_end_singular_values` and `mode_strength` [min(q, d)]; bounds: `target_singular_values`
/// (σ_i). Cost: one SVD of M* at set-up; per output time the product M (≈ 2Pd flops), an SVD of M
/// (O(qd·min(q, d))) and min(q, d) bilinear forms (O(qd) each).
public final class EndToEndModesMonitor: Monitor {
    let context: MonitorContext
    /// σ_i, u_i and v_i of M*.
    public let modes: TargetModes
    /// σ_i of M*, i = 1…min(q, d).
    public var targetValues: [Double] { modes.values }

    /// Nil for a network without an end-to-end map (GELU).
    public init?(context: MonitorContext) throws {
        guard context.network.model == .linear else { return nil }
        self.context = context
        modes = try TargetModes(problem: context.problem)
    }

    public var columns: [TrajectoryColumn] {
        let k = targetValues.count
        return [TrajectoryColumn("end_to_end_singular_values", width: k, axis: .targetMode, description: "singular values s_i(M(t)) of M = W_L⋯W_1, descending"),
                TrajectoryColumn("mode_strength", width: k, axis: .targetMode, description: "mode strength a_i(t) = u_iᵀ M(t) v_i in the SVD basis of M*")]
    }

    public var boundAttributes: [(String, AttributeValue)] { [("target_singular_values", .doubles(targetValues))] }

    public func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {
        guard let m = sample.endToEndMap else { return }
        row["end_to_end_singular_values"] = try LAPACK.thinSVD(m, rows: modes.q, columns: modes.d).values
        row["mode_strength"] = modes.strengths(of: m)
    }

    public func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] { [] }
}
