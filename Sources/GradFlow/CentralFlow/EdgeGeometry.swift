/// The spectral quantities the central flow needs at θ (MATH.md §11), on a risk instance of its own so that
/// they can be taken between the integrator's right-hand sides: S = λ_1 and λ_2 of H(θ) by Lanczos with full
/// reorthogonalisation (both top pairs converged to `eigenTolerance` relative), warm-started from the last
/// top eigenvector; and, when asked, ∇S = ∇³R[u, u, ·] (exact, forward mode), ∇R, ⟨∇S, ∇R⟩ and ‖∇S‖².
///
/// The last point is cached (compared bit for bit), so that a root function at the end of a step and the
/// right-hand side there (Dormand–Prince's FSAL stage) cost one evaluation. Cost of a new point: one Lanczos
/// run (a few to tens of Hessian-vector products plus ≈ 8jP per iteration j for the reorthogonalisation,
/// allocating its j×P basis), and with gradients ≈ 2 more products and a gradient.
final class EdgeGeometry {
    /// What is known at one point.
    struct Point {
        var sharpness: Double
        var secondEigenvalue: Double
        /// ⟨∇S, ∇R⟩ and ‖∇S‖² (NaN until gradients are asked for).
        var alignment: Double = .nan
        var sharpnessGradientNormSquared: Double = .nan
        var hasGradients: Bool { !alignment.isNaN }
    }

    let risk: any ThirdOrderDifferentiableRisk
    let threshold: Double
    /// The relative Lanczos residual both top pairs meet.
    static let eigenTolerance = 1e-12
    private let estimator: SharpnessEstimator
    private var start: [Double]?
    private var theta: [Double] = []
    private var point: Point?
    /// ∇S and ∇R at the cached point, once gradients were asked for.
    private(set) var sharpnessGradient: [Double]
    private(set) var lossGradient: [Double]
    /// Work done so far: Lanczos runs, their Hessian-vector products, and third derivatives (each ≈ 2 products).
    private(set) var lanczosRuns = 0
    private(set) var lanczosProducts = 0
    private(set) var thirdDerivatives = 0
    /// The first error a callback could not throw (a LAPACK failure inside Lanczos).
    private(set) var failure: Error?

    init(risk: any ThirdOrderDifferentiableRisk, threshold: Double, seed: UInt64) {
        self.risk = risk
        self.threshold = threshold
        estimator = SharpnessEstimator(risk: risk, tolerance: Self.eigenTolerance, maxIterations: min(risk.parameterCount, 300),
                                       floor: 1e-14 * max(threshold, 1), seed: seed)
        sharpnessGradient = [Double](repeating: 0, count: risk.parameterCount)
        lossGradient = sharpnessGradient
    }

    /// The quantities at θ: the spectrum always, and ∇S, ∇R when `gradients`. NaN values if Lanczos failed.
    func point(at weights: UnsafeBufferPointer<Double>, gradients: Bool) -> Point {
        if var cached = point, weights.elementsEqual(theta) {
            if gradients && !cached.hasGradients {
                computeGradients(&cached)
                point = cached
            }
            return cached
        }
        theta = Array(weights)
        do {
            let estimate = try estimator.lanczos(at: theta, start: start, converging: .topTwo)
            lanczosRuns += 1
            lanczosProducts += estimate.products
            var u = estimate.ritzVector
            let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for i in u.indices { u[i] /= norm } }
            start = u
            var next = Point(sharpness: estimate.lambdaMax, secondEigenvalue: estimate.lambdaSecond)
            if gradients { computeGradients(&next) }
            point = next
            return next
        } catch {
            if failure == nil { failure = error }
            point = nil
            return Point(sharpness: .nan, secondEigenvalue: .nan, alignment: .nan, sharpnessGradientNormSquared: .nan)
        }
    }

    /// ∇S = ∇³R[u, u, ·] at the cached point (Lanczos left the risk linearized there), ∇R, and their products.
    private func computeGradients(_ p: inout Point) {
        guard let u = start else { return }
        thirdDerivatives += 1
        u.withUnsafeBufferPointer { uu in
            sharpnessGradient.withUnsafeMutableBufferPointer { risk.thirdDerivative(along: uu, into: $0, scale: 1) }
        }
        theta.withUnsafeBufferPointer { t in
            lossGradient.withUnsafeMutableBufferPointer { risk.gradient(at: t, into: $0, scale: 1) }
        }
        var alignment = 0.0, norm = 0.0
        for i in sharpnessGradient.indices {
            alignment += sharpnessGradient[i] * lossGradient[i]
            norm += sharpnessGradient[i] * sharpnessGradient[i]
        }
        p.alignment = alignment
        p.sharpnessGradientNormSquared = norm
    }

    /// σ² = −2⟨∇S, ∇R⟩/‖∇S‖² at a point with gradients.
    static func sigmaSquared(_ p: Point) -> Double { -2 * p.alignment / p.sharpnessGradientNormSquared }
}
