/// The modes of the target `M* = Σ_i σ_i u_i v_iᵀ` (MATH.md §10.2; q×d, for scalar output `M* = w*ᵀ`), i = 1…min(q, d),
/// and the mode strengths `a_i(M) = u_iᵀ M v_i` of an end-to-end map M in that basis. Shared by the monitors
/// that follow incremental learning. Cost: one thin SVD of M* (O(qd·min(q, d))); a strength is O(qd).
public struct TargetModes: Sendable {
    public let q: Int, d: Int
    /// σ_i, descending.
    public let values: [Double]
    /// u_i (q entries) and v_i (d entries).
    public let left: [[Double]], right: [[Double]]
    /// The modes with σ_i above the rounding level 1e-12·σ_1: those a network can learn.
    public let rank: Int

    public init(problem: RegressionProblem) throws {
        let q = problem.outputCount, d = problem.dimension
        let svd = try LAPACK.thinSVD(problem.minimumNormSolution, rows: q, columns: d)
        let k = svd.values.count
        self.q = q
        self.d = d
        values = svd.values
        left = (0..<k).map { i in (0..<q).map { svd.u[$0 * k + i] } }
        right = (0..<k).map { i in Array(svd.vt[(i * d)..<((i + 1) * d)]) }
        rank = svd.values.filter { $0 > 1e-12 * (svd.values.first ?? 0) }.count
    }

    /// `a_i(M) = u_iᵀ M v_i` for M (q×d row-major).
    public func strength(_ i: Int, of m: [Double]) -> Double {
        var a = 0.0
        for r in 0..<q { for c in 0..<d { a += left[i][r] * m[r * d + c] * right[i][c] } }
        return a
    }

    /// Every mode's strength in M.
    public func strengths(of m: [Double]) -> [Double] { values.indices.map { strength($0, of: m) } }
}
