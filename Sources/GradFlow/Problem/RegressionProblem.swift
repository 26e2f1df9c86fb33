import COpenBLAS

/// A least-squares regression problem and every quantity of MATH.md §0 that the dynamics, monitors
/// and bounds use, computed once.
///
/// `X` is n×d row-major (rows are samples), `y ∈ ℝⁿ`. With `Σ = XᵀX/n` and `h = Xᵀy/n`:
/// `w* = X⁺y` (minimum-norm least squares, LAPACK `dgelsd`), `R_min = ‖y − Xw*‖²/n`,
/// `λ` the smallest *nonzero* and `Λ` the largest eigenvalue of Σ (LAPACK `dsyevr`; "nonzero" means
/// among the `rank` largest, with the rank that `dgelsd` determined), and `a = w*ᵀΣw*/‖w*‖²`.
/// Cost: O(nd² + d³) once.
public struct RegressionProblem: Sendable {
    /// n, the number of samples.
    public let sampleCount: Int
    /// d, the input dimension.
    public let dimension: Int
    /// X, n×d row-major.
    public let inputs: [Double]
    /// y, length n.
    public let targets: [Double]
    /// Σ = XᵀX/n, d×d, exactly symmetric.
    public let covariance: [Double]
    /// h = Xᵀy/n.
    public let crossMoment: [Double]
    /// w* = X⁺y.
    public let minimumNormSolution: [Double]
    /// R_min = ‖y − Xw*‖²/n.
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
    /// ‖w*‖.
    public let solutionNorm: Double
    /// Where the data came from ("synthetic" or a file path).
    public let source: String
    /// The seed of synthetic data (nil for data from a file).
    public let seed: UInt64?

    /// Builds the problem from data, validating it.
    /// - Throws: `GradFlowError.invalidData` (field `X` or `y`) for empty, mis-sized or non-finite data,
    ///   or when `w* = 0` (y orthogonal to the columns of X: nothing to fit); `.lapack` if LAPACK fails.
    public init(inputs x: [Double], targets y: [Double], sampleCount n: Int, dimension d: Int,
                source: String, seed: UInt64? = nil) throws {
        guard n >= 1 else { throw GradFlowError.invalidData(file: source, field: "X", reason: "n = \(n): at least one sample is needed") }
        guard d >= 1 else { throw GradFlowError.invalidData(file: source, field: "X", reason: "d = \(d): at least one feature is needed") }
        guard x.count == n * d else {
            throw GradFlowError.invalidData(file: source, field: "X", reason: "has \(x.count) entries, expected n·d = \(n * d)")
        }
        guard y.count == n else {
            throw GradFlowError.invalidData(file: source, field: "y", reason: "has \(y.count) entries, X has n = \(n) rows")
        }
        if let i = x.firstIndex(where: { !$0.isFinite }) {
            throw GradFlowError.invalidData(file: source, field: "X", reason: "entry [\(i / d), \(i % d)] is \(x[i]), not finite")
        }
        if let i = y.firstIndex(where: { !$0.isFinite }) {
            throw GradFlowError.invalidData(file: source, field: "y", reason: "entry [\(i)] is \(y[i]), not finite")
        }
        sampleCount = n
        dimension = d
        inputs = x
        targets = y
        self.source = source
        self.seed = seed

        var sigma = [Double](repeating: 0, count: d * d)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(n), 1 / Double(n), x, Int32(d), 0, &sigma, Int32(d))
        for i in 0..<d { for j in 0..<i { sigma[i * d + j] = sigma[j * d + i] } }
        covariance = sigma
        var h = [Double](repeating: 0, count: d)
        cblas_dgemv(CblasRowMajor, CblasTrans, Int32(n), Int32(d), 1 / Double(n), x, Int32(d), y, 1, 0, &h, 1)
        crossMoment = h

        let (wStar, rank) = try LAPACK.minimumNormLeastSquares(x, rows: n, columns: d, rhs: y)
        minimumNormSolution = wStar
        self.rank = rank
        let norm = wStar.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0, rank > 0 else {
            throw GradFlowError.invalidData(file: source, field: "y", reason: "w* = X⁺y is 0 (y is orthogonal to the columns of X): nothing to fit")
        }
        solutionNorm = norm
        var residual = y
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(d), -1, x, Int32(d), wStar, 1, 1, &residual, 1)
        minimumRisk = cblas_ddot(Int32(n), residual, 1, residual, 1) / Double(n)

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
        var sw = [Double](repeating: 0, count: d)
        cblas_dsymv(CblasRowMajor, CblasUpper, Int32(d), 1, sigma, Int32(d), wStar, 1, 0, &sw, 1)
        a = cblas_ddot(Int32(d), wStar, 1, sw, 1) / (norm * norm)
    }

    /// The condition number κ = Λ/λ.
    public var conditionNumber: Double { lambdaMax / lambdaMin }

    /// The excess risk `R(w) − R_min = ‖X(w − w*)‖²/n` of an end-to-end vector, computed without
    /// cancellation (MATH.md §1.2). Allocates; the risk's hot path has its own workspace.
    public func excessRisk(endToEnd w: [Double]) -> Double {
        let diff = zip(w, minimumNormSolution).map { $0 - $1 }
        var r = [Double](repeating: 0, count: sampleCount)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(sampleCount), Int32(dimension), 1, inputs, Int32(dimension), diff, 1, 0, &r, 1)
        return cblas_ddot(Int32(sampleCount), r, 1, r, 1) / Double(sampleCount)
    }
}
