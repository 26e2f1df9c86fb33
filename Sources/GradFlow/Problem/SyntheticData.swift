import COpenBLAS
import Glibc

/// The paper's synthetic regression data (App. C; MATH.md §0), seeded and identical on every machine
/// with the same libm.
///
/// From stream 0 of `seed`, in this order: X (n×d, row-major) with i.i.d. N(0, 1) entries, `w_true ∈ ℝ^d`
/// and `noise ∈ ℝⁿ`, both standard normal. Then `y = X w_true + ξ·noise`, `w* = X⁺y`, and y is divided
/// by ‖w*‖ so that ‖w*‖ = 1 (to rounding).
///
/// With q outputs (`outputs`, MATH.md §6.1) `W_true` is d×q and the noise n×q (drawn in that order, row-major),
/// `Y = X W_true + ξ·noise`, and Y is divided by ‖M*‖_F; q = 1 draws exactly the scalar data.
///
/// The held-out set (`testSamples` rows; the authors' code draws n) comes from stream 3 of the seed, so
/// the training data do not depend on it: `X_test` with N(0, 1) entries, then its noise, and
/// `Y_test = X_test W_true + ξ·noise_test`, scaled by the same 1/‖w*‖ as y.
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
    /// q, the number of outputs (1: the paper's scalar regression).
    public var outputs: Int
    /// Rows of the held-out set (0: none).
    public var testSamples: Int

    /// The random stream of the held-out set.
    static let testStream: UInt64 = 3

    public init(samples: Int = 50, dimension: Int = 5, noise: Double = 1, seed: UInt64 = 20240521, conditionNumber: Double? = nil,
                outputs: Int = 1, testSamples: Int? = nil) {
        self.samples = samples
        self.dimension = dimension
        self.noise = noise
        self.seed = seed
        self.conditionNumber = conditionNumber
        self.outputs = outputs
        self.testSamples = testSamples ?? samples
    }

    private enum CodingKeys: String, CodingKey {
        case samples, dimension, noise, seed, conditionNumber, outputs, testSamples
    }

    /// Configurations written before `outputs` and `testSamples` existed decode with q = 1 and no held-out set.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        samples = try c.decode(Int.self, forKey: .samples)
        dimension = try c.decode(Int.self, forKey: .dimension)
        noise = try c.decode(Double.self, forKey: .noise)
        seed = try c.decode(UInt64.self, forKey: .seed)
        conditionNumber = try c.decodeIfPresent(Double.self, forKey: .conditionNumber)
        outputs = try c.decodeIfPresent(Int.self, forKey: .outputs) ?? 1
        testSamples = try c.decodeIfPresent(Int.self, forKey: .testSamples) ?? 0
    }

    /// Draws the data and builds the problem.
    /// - Throws: `GradFlowError.invalidConfiguration` for n < 1, d < 1 or a negative or non-finite ξ.
    public func makeProblem() throws -> RegressionProblem {
        try validate()
        return try drawProblem()
    }

    /// Checks n, d, ξ, q, n_test and κ before anything is drawn (also from `RunConfiguration.validate`).
    public func validate() throws {
        guard samples >= 1 else { throw GradFlowError.invalidConfiguration(field: .samples, value: "\(samples)", reason: "must be at least 1") }
        guard dimension >= 1 else { throw GradFlowError.invalidConfiguration(field: .inputDimension, value: "\(dimension)", reason: "must be at least 1") }
        guard noise.isFinite, noise >= 0 else { throw GradFlowError.invalidConfiguration(field: .noise, value: "\(noise)", reason: "must be a finite number ≥ 0") }
        guard outputs >= 1 else { throw GradFlowError.invalidConfiguration(field: .outputs, value: "\(outputs)", reason: "must be at least 1") }
        guard testSamples >= 0 else { throw GradFlowError.invalidConfiguration(field: .testSamples, value: "\(testSamples)", reason: "must be ≥ 0") }
        if let kappa = conditionNumber, !(kappa.isFinite && kappa >= 1) {
            throw GradFlowError.invalidConfiguration(field: .conditionNumber, value: "\(kappa)", reason: "must be a finite number ≥ 1")
        }
    }

    private func drawProblem() throws -> RegressionProblem {
        let n = samples, d = dimension, q = outputs
        // The sizes of every array drawn below, checked before the first is allocated (RunSetup refuses
        // them earlier by the memory estimate; a direct caller gets this instead of a trap).
        for (name, a, b, field, value) in [("n·d", n, d, ConfigurationField.samples, n), ("n·q", n, q, .samples, n), ("d·q", d, q, .inputDimension, d),
                                           ("n_test·d", testSamples, d, .testSamples, testSamples), ("n_test·q", testSamples, q, .testSamples, testSamples)]
            where a.multipliedReportingOverflow(by: b).overflow {
            throw GradFlowError.invalidConfiguration(field: field, value: "\(value)",
                                                reason: "\(name) overflows a 64-bit integer")
        }
        var rng = GaussianGenerator(seed: seed, stream: 0)
        var x = rng.gaussians(n * d)
        if let kappa = conditionNumber {
            guard kappa.isFinite, kappa >= 1 else {
                throw GradFlowError.invalidConfiguration(field: .conditionNumber, value: "\(kappa)", reason: "must be a finite number ≥ 1")
            }
            let svd = try LAPACK.thinSVD(x, rows: n, columns: d)
            let r = svd.values.count
            var scaledU = svd.u  // n×r: column i times √n σ_i
            for i in 0..<n {
                for j in 0..<r {
                    let exponent = r > 1 ? -Double(j) / (2 * Double(r - 1)) : 0
                    scaledU[i * r + j] *= Double(n).squareRoot() * Glibc.pow(kappa, exponent)
                }
            }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(d), Int32(r), 1, scaledU, Int32(r),
                        svd.vt, Int32(d), 0, &x, Int32(d))
        }
        let wTrue = rng.gaussians(d * q)  // d×q
        let xi = rng.gaussians(n * q)
        func targets(_ inputs: [Double], rows: Int, noise xi: [Double]) -> [Double] {
            var y = xi.map { noise * $0 }
            if q == 1 {  // the scalar data's exact operations
                cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(d), 1, inputs, Int32(d), wTrue, 1, 1, &y, 1)
                return y
            }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(q), Int32(d), 1, inputs, Int32(d),
                        wTrue, Int32(q), 1, &y, Int32(q))
            return y
        }
        var y = targets(x, rows: n, noise: xi)
        guard y.allSatisfy(\.isFinite) else {  // X w_true is of order √d: only ξ can make y overflow
            throw GradFlowError.invalidConfiguration(field: .noise, value: "\(noise)", reason: "makes the targets y = X w_true + ξ·noise overflow")
        }
        let (wStar, _) = try LAPACK.minimumNormLeastSquares(x, rows: n, columns: d, rhs: y, count: q)
        let norm = wStar.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { y = y.map { $0 / norm } }
        var test: RegressionProblem.TestSet?
        if testSamples > 0 {
            var testRng = GaussianGenerator(seed: seed, stream: Self.testStream)
            let xTest = testRng.gaussians(testSamples * d)
            var yTest = targets(xTest, rows: testSamples, noise: testRng.gaussians(testSamples * q))
            if norm > 0 { yTest = yTest.map { $0 / norm } }
            test = RegressionProblem.TestSet(inputs: xTest, targets: yTest, count: testSamples)
        }
        return try RegressionProblem(inputs: x, targets: y, sampleCount: n, dimension: d, outputs: q, source: "synthetic",
                                     seed: seed, test: test)
    }
}
