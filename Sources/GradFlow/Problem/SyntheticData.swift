import COpenBLAS
import Foundation

/// The paper's synthetic regression data (App. C; MATH.md §0), seeded and identical on every machine
/// with the same libm.
///
/// From stream 0 of `seed`, in this order: X (n×d, row-major) with i.i.d. N(0, 1) entries, `w_true ∈ ℝ^d`
/// and `noise ∈ ℝⁿ`, both standard normal. Then `y = X w_true + ξ·noise`, `w* = X⁺y`, and y is divided
/// by ‖w*‖ so that ‖w*‖ = 1 (to rounding).
///
/// With a condition number κ (the benchmark's stiff case), X is first replaced by
/// `√n · U diag(σ) Vᵀ`, where `X = U S Vᵀ` is its thin SVD and `σ_i = κ^{−(i−1)/(2(r−1))}`, i = 1…r,
/// r = min(n, d): the covariance Σ = XᵀX/n then has the nonzero eigenvalues κ^{−(i−1)/(r−1)}, spaced
/// evenly in log from 1 down to 1/κ, so its condition number (over its range) is κ exactly, and its
/// eigenvectors are the Gaussian draw's.
public struct SyntheticData: Sendable, Codable, Equatable {
    public var samples: Int
    public var dimension: Int
    /// ξ, the noise level (1 in the paper's experiments, 0 for the GELU experiment).
    public var noise: Double
    public var seed: UInt64
    /// κ, the condition number of Σ over its range; nil for the paper's Gaussian X.
    public var conditionNumber: Double?

    public init(samples: Int = 50, dimension: Int = 5, noise: Double = 1, seed: UInt64 = 20240521, conditionNumber: Double? = nil) {
        self.samples = samples
        self.dimension = dimension
        self.noise = noise
        self.seed = seed
        self.conditionNumber = conditionNumber
    }

    /// Draws the data and builds the problem.
    /// - Throws: `GradFlowError.invalidArgument` for n < 1, d < 1 or a negative or non-finite ξ.
    public func makeProblem() throws -> RegressionProblem {
        guard samples >= 1 else { throw GradFlowError.invalidArgument(option: "--samples", value: "\(samples)", reason: "must be at least 1") }
        guard dimension >= 1 else { throw GradFlowError.invalidArgument(option: "--input-dim", value: "\(dimension)", reason: "must be at least 1") }
        guard noise.isFinite, noise >= 0 else { throw GradFlowError.invalidArgument(option: "--noise", value: "\(noise)", reason: "must be a finite number ≥ 0") }
        let n = samples, d = dimension
        var rng = GaussianGenerator(seed: seed, stream: 0)
        var x = rng.gaussians(n * d)
        if let kappa = conditionNumber {
            guard kappa.isFinite, kappa >= 1 else {
                throw GradFlowError.invalidArgument(option: "--condition-number", value: "\(kappa)", reason: "must be a finite number ≥ 1")
            }
            let svd = try LAPACK.thinSVD(x, rows: n, columns: d)
            let r = svd.values.count
            var scaledU = svd.u  // n×r: column i times √n σ_i
            for i in 0..<n {
                for j in 0..<r {
                    let exponent = r > 1 ? -Double(j) / (2 * Double(r - 1)) : 0
                    scaledU[i * r + j] *= Double(n).squareRoot() * Foundation.pow(kappa, exponent)
                }
            }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(d), Int32(r), 1, scaledU, Int32(r),
                        svd.vt, Int32(d), 0, &x, Int32(d))
        }
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
