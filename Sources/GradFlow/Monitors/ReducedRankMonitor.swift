/// Reduced-rank regression (MATH.md §10.1, after Gidel et al. 2019): the levels at which incremental
/// learning plateaus, and at every output time the nearest reduced-rank solution.
///
/// With `μ_1 ≥ … ≥ μ_q` and `v_1 … v_q` the eigenpairs of `M*ΣM*ᵀ` (q×q), `M_r = V_rV_rᵀM*` minimises R over
/// rank ≤ r with `R_r = R_min + Σ_{i>r} μ_i`, r = 0…rank (rank: the μ_i above 1e-12·μ_1·q). It stores R_r in
/// `/problem/rrr_loss` [rank+1] and records per row `rrr_rank` = argmin_r ‖M(t) − M_r‖_F and `rrr_distance`,
/// that distance. Linear networks only; no claim (the plateau verdict belongs to the transition times).
///
/// Cost: one q×q eigenproblem at set-up; per output time M (≈ 2Pd flops) and rank+1 distances (O(qd) each).
public final class ReducedRankMonitor: Monitor {
    let context: MonitorContext
    /// R_r, r = 0…rank.
    public let levels: [Double]
    /// M_r (q×d row-major), r = 0…rank.
    let solutions: [[Double]]

    public init?(context: MonitorContext) throws {
        guard context.network.model == .linear else { return nil }
        self.context = context
        let problem = context.problem, q = problem.outputCount, d = problem.dimension
        let target = problem.minimumNormSolution
        // M*ΣM*ᵀ, q×q.
        var targetCovariance = [Double](repeating: 0, count: d * q)  // ΣM*ᵀ, d×q
        for i in 0..<d { for j in 0..<q { for l in 0..<d { targetCovariance[i * q + j] += problem.covariance[i * d + l] * target[j * d + l] } } }
        var gram = [Double](repeating: 0, count: q * q)
        for i in 0..<q { for j in 0..<q { for l in 0..<d { gram[i * q + j] += target[i * d + l] * targetCovariance[l * q + j] } } }
        let eigen = try LAPACK.symmetricEigen(gram, order: q)
        let mu = Array(eigen.values.reversed())
        let rank = mu.filter { $0 > 1e-12 * max(mu.first ?? 0, 0) * Double(q) }.count
        levels = (0...rank).map { r in problem.minimumRisk + mu[min(r, q)...].prefix(rank - r).reduce(0, +) }
        var m = [Double](repeating: 0, count: q * d), list = [m]
        for r in 0..<rank {
            let v = Array(eigen.vectors[((q - 1 - r) * q)..<((q - r) * q)])
            // M_{r+1} = M_r + v vᵀ M*.
            let row = (0..<d).map { l in (0..<q).map { v[$0] * target[$0 * d + l] }.reduce(0, +) }
            for i in 0..<q { for l in 0..<d { m[i * d + l] += v[i] * row[l] } }
            list.append(m)
        }
        solutions = list
    }

    public var columns: [TrajectoryColumn] {
        [.scalar("rrr_rank", "rank r of the nearest reduced-rank solution M_r = V_rV_rᵀM* (MATH.md §10.1)"),
         .scalar("rrr_distance", "‖M(t) − M_r‖_F to the nearest reduced-rank solution")]
    }

    public var problemDatasets: [ConstantDataset] {
        [ConstantDataset(name: "rrr_loss", values: levels, shape: [levels.count], dimensions: ["rrr_rank"],
                         description: "reduced-rank regression levels R_r = R_min + Σ_{i>r} μ_i, r = 0…rank")]
    }

    public func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {
        guard let m = sample.endToEndMap else { return }
        var best = (rank: 0, distance: Double.infinity)
        for (r, solution) in solutions.enumerated() {
            let distance = zip(m, solution).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            if distance < best.distance { best = (r, distance) }
        }
        row["rrr_rank"] = [Double(best.rank)]
        row["rrr_distance"] = [best.distance]
    }

    public func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] { [] }
}
