import COpenBLAS
import Glibc

/// The theoretical values of MATH.md §4.4–4.7 for one problem and network shape, with
/// `c := ‖w*‖^{2−2/L} ‖p‖^{2/L}`:
/// - uniform lower bound on the sharpness of any minimiser: `S_min ≥ 2 L a c` (Theorem 2 with the ‖p‖ factor);
/// - sharpness of the explicit flat minimiser: `2c λ_max(Σ + (L−1) s sᵀ)`, `s = Σ^{1/2}w*/‖w*‖`;
/// - the paper's upper bound on S_min: `2c √(L(Λ² + (L−1)a²))`;
/// - Corollary 2's bound on the gradient-flow limit from a small initialisation: `8 L Λ ‖w*‖^{2−2/L}`
///   (only for small Gaussian initialisations of a fully connected network with `‖p‖ = 1`; MATH.md §8 item 4);
/// - the critical learning-rate interval `η_crit = 2/S_min ∈ [2/upper, 2/lower]` (§4.7).
/// Cost: one d×d eigendecomposition.
public struct TheoreticalBounds: Sendable {
    public let sharpnessLowerBound: Double
    public let explicitMinimizerSharpness: Double
    public let paperUpperBound: Double
    /// nil when Corollary 2 does not apply (`corollary2Note` says why).
    public let corollary2UpperBound: Double?
    public let corollary2Note: String
    public let criticalLearningRateLower: Double
    public let criticalLearningRateUpper: Double
    /// Σ^{1/2}, d×d row-major (for the d×d sharpness formula).
    public let covarianceSquareRoot: [Double]
    let depth: Int
    let projectionNorm: Double
    let covarianceQuadratic: Double  // w*ᵀΣw*

    public init(problem: RegressionProblem, network: Network, initialization: WeightInitialization) throws {
        let L = Double(network.shape.depth), d = problem.dimension
        let wNorm = problem.solutionNorm, pNorm = network.projectionNorm
        depth = network.shape.depth
        projectionNorm = pNorm
        covarianceQuadratic = problem.a * wNorm * wNorm
        let c = pow(wNorm, 2 - 2 / L) * pow(pNorm, 2 / L)
        sharpnessLowerBound = 2 * L * problem.a * c
        paperUpperBound = 2 * c * (L * (problem.lambdaMax * problem.lambdaMax + (L - 1) * problem.a * problem.a)).squareRoot()

        let (values, vectors) = try LAPACK.symmetricEigen(problem.covariance, order: d)
        // Σ^{1/2} = Σ_j √λ_j q_j q_jᵀ = UᵀU with row j of U = λ_j^{1/4} q_j (the eigenvectors are `vectors`' rows): one
        // dsyrk, d³ flops in BLAS, where a scalar triple loop took ≈ 0.9 s at d = 1000 (benchmark case E).
        var u = [Double](repeating: 0, count: d * d)
        for j in 0..<d {
            let scale = max(values[j], 0).squareRoot().squareRoot()
            for a in 0..<d { u[j * d + a] = scale * vectors[j * d + a] }
        }
        var root = [Double](repeating: 0, count: d * d)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(d), 1, u, Int32(d), 0, &root, Int32(d))
        for a in 0..<d { for b in 0..<a { root[a * d + b] = root[b * d + a] } }
        covarianceSquareRoot = root
        var s = [Double](repeating: 0, count: d)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(d), Int32(d), 1 / wNorm, root, Int32(d), problem.minimumNormSolution, 1, 0, &s, 1)
        var m = problem.covariance
        cblas_dger(CblasRowMajor, Int32(d), Int32(d), L - 1, s, 1, s, 1, &m, Int32(d))
        explicitMinimizerSharpness = 2 * c * (try LAPACK.symmetricEigenvalues(m, order: d).last ?? 0)

        switch (network.kind, initialization) {
        case (.fullyConnected, .gaussian) where problem.isUnderdetermined:
            corollary2UpperBound = nil
            corollary2Note = "Corollary 2 assumes Σ full rank (assumption (A2)); here rank \(problem.rank) < d = \(problem.dimension) (MATH.md §4.5, §6.2)"
        case (.fullyConnected, .gaussian) where abs(pNorm - 1) < 1e-12:
            corollary2UpperBound = 8 * L * problem.lambdaMax * pow(wNorm, 2 - 2 / L)
            corollary2Note = "small Gaussian initialisation (holds when the initialisation is small enough: assumption (A2))"
        case (.residual, _):
            corollary2UpperBound = nil
            corollary2Note = "not applicable to residual initialisation (Corollary 3's constant is not recoverable; MATH.md §4.6)"
        default:
            corollary2UpperBound = nil
            corollary2Note = "stated only for small Gaussian initialisation with ‖p‖ = 1"
        }
        criticalLearningRateLower = 2 / paperUpperBound
        criticalLearningRateUpper = 2 / sharpnessLowerBound
    }

    /// The lower bound for a minimiser implementing `w` instead of w* (MATH.md §6.2, for n < d, where
    /// the gradient-flow limit can be another interpolator): `2 L (w*ᵀΣw*) ‖w‖^{−2/L} ‖p‖^{2/L}`.
    /// Equal to `sharpnessLowerBound` when `w = w*`.
    public func lowerBound(implementing w: [Double]) -> Double {
        let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let L = Double(depth)
        return 2 * L * covarianceQuadratic * pow(norm, -2 / L) * pow(projectionNorm, 2 / L)
    }

    /// Name–value pairs for the trajectory file's `/bounds` attributes (names as in MATH.md).
    public var attributes: [(String, AttributeValue)] {
        var list: [(String, AttributeValue)] = [
            ("sharpness_lower_bound", .double(sharpnessLowerBound)),
            ("explicit_minimizer_sharpness", .double(explicitMinimizerSharpness)),
            ("paper_upper_bound", .double(paperUpperBound)),
            ("critical_lr_lower", .double(criticalLearningRateLower)),
            ("critical_lr_upper", .double(criticalLearningRateUpper)),
            ("corollary2_note", .string(corollary2Note)),
        ]
        if let c2 = corollary2UpperBound { list.append(("corollary2_upper_bound", .double(c2))) }
        return list
    }
}
