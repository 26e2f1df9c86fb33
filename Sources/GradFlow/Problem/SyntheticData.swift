import COpenBLAS

/// The paper's synthetic regression data (App. C; MATH.md §0), seeded and identical on every machine
/// with the same libm.
///
/// From stream 0 of `seed`, in this order: X (n×d, row-major) with i.i.d. N(0, 1) entries, `w_true ∈ ℝ^d`
/// and `noise ∈ ℝⁿ`, both standard normal. Then `y = X w_true + ξ·noise`, `w* = X⁺y`, and y is divided
/// by ‖w*‖ so that ‖w*‖ = 1 (to rounding).
public struct SyntheticData: Sendable, Codable, Equatable {
    public var samples: Int
    public var dimension: Int
    /// ξ, the noise level (1 in the paper's experiments, 0 for the GELU experiment).
    public var noise: Double
    public var seed: UInt64

    public init(samples: Int = 50, dimension: Int = 5, noise: Double = 1, seed: UInt64 = 20240521) {
        self.samples = samples
        self.dimension = dimension
        self.noise = noise
        self.seed = seed
    }

    /// Draws the data and builds the problem.
    /// - Throws: `GradFlowError.invalidArgument` for n < 1, d < 1 or a negative or non-finite ξ.
    public func makeProblem() throws -> RegressionProblem {
        guard samples >= 1 else { throw GradFlowError.invalidArgument(option: "--samples", value: "\(samples)", reason: "must be at least 1") }
        guard dimension >= 1 else { throw GradFlowError.invalidArgument(option: "--input-dim", value: "\(dimension)", reason: "must be at least 1") }
        guard noise.isFinite, noise >= 0 else { throw GradFlowError.invalidArgument(option: "--noise", value: "\(noise)", reason: "must be a finite number ≥ 0") }
        let n = samples, d = dimension
        var rng = GaussianGenerator(seed: seed, stream: 0)
        let x = rng.gaussians(n * d)
        let wTrue = rng.gaussians(d)
        let xi = rng.gaussians(n)
        var y = xi.map { noise * $0 }
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(d), 1, x, Int32(d), wTrue, 1, 1, &y, 1)
        let (wStar, _) = try LAPACK.minimumNormLeastSquares(x, rows: n, columns: d, rhs: y)
        let norm = wStar.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { y = y.map { $0 / norm } }
        return try RegressionProblem(inputs: x, targets: y, sampleCount: n, dimension: d, source: "synthetic", seed: seed)
    }
}
