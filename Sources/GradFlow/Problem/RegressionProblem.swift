import COpenBLAS

/// A least-squares regression problem and every quantity of MATH.md §0 that the dynamics, monitors
/// and bounds use, computed once.
///
/// `X` is n×d row-major (rows are samples), `y ∈ ℝⁿ`. With `Σ = XᵀX/n` and `h = Xᵀy/n`:
/// `w* = X⁺y` (minimum-norm least squares, LAPACK `dgelsd`), `R_min = ‖y − Xw*‖²/n`,
/// `λ` the smallest *nonzero* and `Λ` the largest eigenvalue of Σ (LAPACK `dsyevr`; "nonzero" means
/// among the `rank` largest, with the rank that `dgelsd` determined), and `a = w*ᵀΣw*/‖w*‖²`.
///
/// Multivariate output (MATH.md §6.1): `Y` is n×q row-major, `M* = (X⁺Y)ᵀ` (q×d, row i = X⁺y_i),
/// `H_xyᵀ = YᵀX/n` (q×d), `R_min = ‖Y − XM*ᵀ‖_F²/n`; `‖w*‖` is then `‖M*‖_F` and
/// `a = tr(M*ΣM*ᵀ)/‖M*‖_F²`. With q = 1 every quantity is the scalar one.
///
/// An optional held-out set (`test`) is carried along for the test error (MATH.md §6.2); it plays no
/// part in the risk. Cost: O(nd(d + q) + d³) once.
public struct RegressionProblem: Sendable {
    /// A held-out sample: `X_test` (count×d) and `Y_test` (count×q), both row-major.
    public struct TestSet: Sendable, Equatable {
        public let inputs: [Double]
        public let targets: [Double]
        public let count: Int

        public init(inputs: [Double], targets: [Double], count: Int) {
            self.inputs = inputs
            self.targets = targets
            self.count = count
        }
    }

    /// n, the number of samples.
    public let sampleCount: Int
    /// d, the input dimension.
    public let dimension: Int
    /// q, the number of outputs (1: scalar regression).
    public let outputCount: Int
    /// X, n×d row-major.
    public let inputs: [Double]
    /// y (length n), or Y (n×q row-major).
    public let targets: [Double]
    /// Σ = XᵀX/n, d×d, exactly symmetric.
    public let covariance: [Double]
    /// h = Xᵀy/n, or H_xyᵀ = YᵀX/n (q×d row-major).
    public let crossMoment: [Double]
    /// w* = X⁺y, or M* = (X⁺Y)ᵀ (q×d row-major).
    public let minimumNormSolution: [Double]
    /// R_min = ‖y − Xw*‖²/n (‖Y − XM*ᵀ‖_F²/n).
    public let minimumRisk: Double
    /// Eigenvalues of Σ, ascending.
    public let covarianceEigenvalues: [Double]
    /// Numerical rank of X.
    public let rank: Int
    /// λ, the smallest nonzero eigenvalue of Σ.
    public let lambdaMin: Double
    /// Λ, the largest eigenvalue of Σ.
    public let lambdaMax: Double
    /// a = w*ᵀΣw*/‖w*‖², with λ ≤ a ≤ Λ.
    public let a: Double
    /// ‖w*‖ (‖M*‖_F).
    public let solutionNorm: Double
    /// The held-out set, when one was drawn or given.
    public let test: TestSet?
    /// Where the data came from ("synthetic" or a file path).
    public let source: String
    /// The seed of synthetic data (nil for data from a file).
    public let seed: UInt64?

    /// Builds the problem from data, validating it.
    /// - Throws: `GradFlowError.invalidData` (field `X`, `y` or `X_test`/`y_test`) for empty, mis-sized or
    ///   non-finite data, or when `w* = 0` (y orthogonal to the columns of X: nothing to fit); `.lapack` if
    ///   LAPACK fails.
    public init(inputs x: [Double], targets y: [Double], sampleCount n: Int, dimension d: Int, outputs q: Int = 1,
                source: String, seed: UInt64? = nil, test: TestSet? = nil) throws {
        guard n >= 1 else { throw GradFlowError.invalidData(file: source, field: "X", reason: "n = \(n): at least one sample is needed") }
        guard d >= 1 else { throw GradFlowError.invalidData(file: source, field: "X", reason: "d = \(d): at least one feature is needed") }
        guard x.count == n * d else {
            throw GradFlowError.invalidData(file: source, field: "X", reason: "has \(x.count) entries, expected n·d = \(n * d)")
        }
        guard q >= 1 else { throw GradFlowError.invalidData(file: source, field: "y", reason: "q = \(q): at least one output is needed") }
        guard y.count == n * q else {
            throw GradFlowError.invalidData(file: source, field: "y", reason: "has \(y.count) entries, X has n = \(n) rows" + (q > 1 ? " and Y q = \(q) columns" : ""))
        }
        if let i = x.firstIndex(where: { !$0.isFinite }) {
            throw GradFlowError.invalidData(file: source, field: "X", reason: "entry [\(i / d), \(i % d)] is \(x[i]), not finite")
        }
        if let i = y.firstIndex(where: { !$0.isFinite }) {
            let index = q == 1 ? "[\(i)]" : "[\(i / q), \(i % q)]"
            throw GradFlowError.invalidData(file: source, field: "y", reason: "entry \(index) is \(y[i]), not finite")
        }
        if let test {
            guard test.count >= 1, test.inputs.count == test.count * d else {
                throw GradFlowError.invalidData(file: source, field: "X_test", reason: "has \(test.inputs.count) entries, expected n_test·d with d = \(d)")
            }
            guard test.targets.count == test.count * q else {
                throw GradFlowError.invalidData(file: source, field: "y_test", reason: "has \(test.targets.count) entries, expected n_test·q = \(test.count * q)")
            }
            if let i = test.inputs.firstIndex(where: { !$0.isFinite }) {
                throw GradFlowError.invalidData(file: source, field: "X_test", reason: "entry [\(i / d), \(i % d)] is \(test.inputs[i]), not finite")
            }
            if let i = test.targets.firstIndex(where: { !$0.isFinite }) {
                throw GradFlowError.invalidData(file: source, field: "y_test", reason: "entry \(i) is \(test.targets[i]), not finite")
            }
        }
        sampleCount = n
        dimension = d
        outputCount = q
        self.test = test
        inputs = x
        targets = y
        self.source = source
        self.seed = seed

        var sigma = [Double](repeating: 0, count: d * d)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(n), 1 / Double(n), x, Int32(d), 0, &sigma, Int32(d))
        for i in 0..<d { for j in 0..<i { sigma[i * d + j] = sigma[j * d + i] } }
        covariance = sigma
        var h = [Double](repeating: 0, count: q * d)
        if q == 1 {
            cblas_dgemv(CblasRowMajor, CblasTrans, Int32(n), Int32(d), 1 / Double(n), x, Int32(d), y, 1, 0, &h, 1)
        } else {  // YᵀX/n, q×d
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(q), Int32(d), Int32(n), 1 / Double(n), y, Int32(q), x, Int32(d), 0, &h, Int32(d))
        }
        crossMoment = h

        let (wStar, rank) = try LAPACK.minimumNormLeastSquares(x, rows: n, columns: d, rhs: y, count: q)
        minimumNormSolution = wStar
        self.rank = rank
        let norm = wStar.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0, rank > 0 else {
            throw GradFlowError.invalidData(file: source, field: "y", reason: "w* = X⁺y is 0 (y is orthogonal to the columns of X): nothing to fit")
        }
        solutionNorm = norm
        var residual = y  // Y − XM*ᵀ
        if q == 1 {
            cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(d), -1, x, Int32(d), wStar, 1, 1, &residual, 1)
        } else {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(q), Int32(d), -1, x, Int32(d), wStar, Int32(d), 1, &residual, Int32(q))
        }
        minimumRisk = cblas_ddot(Int32(n * q), residual, 1, residual, 1) / Double(n)

        guard sigma.allSatisfy(\.isFinite) else {
            throw GradFlowError.invalidData(file: source, field: "X", reason: "entries too large: Σ = XᵀX/n overflows")
        }
        let eigenvalues = try LAPACK.symmetricEigenvalues(sigma, order: d)
        covarianceEigenvalues = eigenvalues
        lambdaMax = eigenvalues[d - 1]
        // λ: the smallest of the `rank` largest eigenvalues that stands above rounding (Λ·max(n, d)·ε). The
        // SVD's numerical rank and the eigenvalues of the rounded Σ can disagree at that level.
        let floor = lambdaMax * Double(max(n, d)) * Double.ulpOfOne
        guard let smallest = eigenvalues[(d - rank)...].first(where: { $0 > floor }) else {
            throw GradFlowError.invalidData(file: source, field: "X", reason: "Σ = XᵀX/n has no eigenvalue above rounding (Λ = \(lambdaMax))")
        }
        lambdaMin = smallest
        var sw = [Double](repeating: 0, count: q * d)  // M*Σ
        if q == 1 {
            cblas_dsymv(CblasRowMajor, CblasUpper, Int32(d), 1, sigma, Int32(d), wStar, 1, 0, &sw, 1)
        } else {
            cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, Int32(q), Int32(d), 1, sigma, Int32(d), wStar, Int32(d), 0, &sw, Int32(d))
        }
        a = cblas_ddot(Int32(q * d), wStar, 1, sw, 1) / (norm * norm)
    }

    /// The condition number κ = Λ/λ.
    public var conditionNumber: Double { lambdaMax / lambdaMin }

    /// Whether the targets have several columns (MATH.md §6.1).
    public var isMultivariate: Bool { outputCount > 1 }

    /// Whether n < d or X is rank-deficient, so that interpolators other than w* exist (MATH.md §6.2).
    public var isUnderdetermined: Bool { rank < dimension }

    /// The excess risk `R(w) − R_min = ‖X(w − w*)‖²/n` of an end-to-end vector (or `‖X(M − M*)ᵀ‖_F²/n` of an
    /// end-to-end q×d matrix), computed without cancellation (MATH.md §1.2). Allocates; the risk's hot path
    /// has its own workspace.
    public func excessRisk(endToEnd w: [Double]) -> Double {
        let diff = zip(w, minimumNormSolution).map { $0 - $1 }
        var r = [Double](repeating: 0, count: sampleCount * outputCount)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(sampleCount), Int32(outputCount), Int32(dimension), 1,
                    inputs, Int32(dimension), diff, Int32(dimension), 0, &r, Int32(outputCount))
        return cblas_ddot(Int32(r.count), r, 1, r, 1) / Double(sampleCount)
    }

    /// The mean squared error `(1/n')‖Y' − F‖_F²` of predictions `F` (n'×q row-major) on the held-out set,
    /// or nil without one.
    public func testError(predictions f: [Double]) -> Double? {
        guard let test else { return nil }
        precondition(f.count == test.targets.count)
        var sum = 0.0
        for i in 0..<f.count { sum += (f[i] - test.targets[i]) * (f[i] - test.targets[i]) }
        return sum / Double(test.count)
    }
}
