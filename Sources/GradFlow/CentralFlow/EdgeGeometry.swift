/// The spectral quantities the central flow needs at θ (MATH.md §11), on a risk instance of its own so that
/// they can be taken between the integrator's right-hand sides:
/// - S = λ_1 and its unit eigenvector u by Lanczos (top pair to `eigenTolerance` relative), warm-started from
///   the last u;
/// - when asked, λ_2 by a second Lanczos run on H restricted to u⊥ (deflation: it sees a repeated λ_1, which
///   one run from one start vector cannot);
/// - when asked, ∇S = ∇³R[u, u, ·] (exact, forward mode), ∇R, ⟨∇S, ∇R⟩, ‖∇S‖² and ‖∇R‖².
///
/// The last point is cached (compared bit for bit), so that a root function at the end of a step and the
/// right-hand side there (Dormand–Prince's FSAL stage) cost one evaluation. Cost of a new point: one Lanczos
/// run (a few to tens of Hessian-vector products, each iteration allocating nothing but the growing j×P
/// basis), one more for λ_2, and with gradients ≈ 2 more products and a gradient.
final class EdgeGeometry {
    /// What is known at one point (NaN: not computed).
    struct Point {
        var sharpness: Double
        var secondEigenvalue: Double = .nan
        /// ⟨∇S, ∇R⟩, ‖∇S‖² and ‖∇R‖².
        var alignment: Double = .nan
        var sharpnessGradientNormSquared: Double = .nan
        var lossGradientNormSquared: Double = .nan
        var hasGradients: Bool { !alignment.isNaN || !sharpnessGradientNormSquared.isNaN }
        var hasSecond: Bool { !secondEigenvalue.isNaN }

        /// σ² = −2⟨∇S, ∇R⟩/‖∇S‖².
        var sigmaSquared: Double { -2 * alignment / sharpnessGradientNormSquared }
        /// ‖Π∇R‖² = ‖∇R‖² − ⟨∇S, ∇R⟩²/‖∇S‖²: the squared norm of the edge phase's velocity without its
        /// Baumgarte term (0 at a stationary point of R on S = 2/η).
        var projectedGradientNormSquared: Double {
            max(lossGradientNormSquared - alignment * alignment / sharpnessGradientNormSquared, 0)
        }
    }

    let risk: any ThirdOrderDifferentiableRisk
    let threshold: Double
    /// The relative Lanczos residual of the top pair.
    static let eigenTolerance = 1e-12
    private let estimator: SharpnessEstimator
    private let deflated: SharpnessEstimator
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
    /// The first error a callback could not throw (a LAPACK failure inside Lanczos, or an interruption).
    private(set) var failure: Error?
    /// Asked before every Hessian-vector product (a signal handler's flag).
    var shouldStop: () -> Bool = { false } {
        didSet {
            estimator.shouldStop = shouldStop
            deflated.shouldStop = shouldStop
        }
    }

    init(risk: any ThirdOrderDifferentiableRisk, threshold: Double, seed: UInt64) {
        self.risk = risk
        self.threshold = threshold
        let iterations = min(risk.parameterCount, 300), floor = 1e-14 * max(threshold, 1)
        estimator = SharpnessEstimator(risk: risk, tolerance: Self.eigenTolerance, maxIterations: iterations, floor: floor, seed: seed)
        deflated = SharpnessEstimator(risk: risk, tolerance: 1e-8, maxIterations: iterations, floor: floor, seed: seed &+ 1)
        sharpnessGradient = [Double](repeating: 0, count: risk.parameterCount)
        lossGradient = sharpnessGradient
    }

    /// The quantities at θ: S always, λ_2 when `second`, ∇S and ∇R when `gradients`. NaN values if Lanczos failed
    /// (`failure` says why).
    func point(at weights: UnsafeBufferPointer<Double>, gradients: Bool, second: Bool = false) -> Point {
        do {
            var p: Point
            if let cached = point, weights.elementsEqual(theta) {
                p = cached
            } else {
                theta = Array(weights)
                point = nil
                let estimate = try run(estimator, start: start, deflating: nil)
                var u = estimate.ritzVector
                let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if norm > 0 { for i in u.indices { u[i] /= norm } }
                start = u
                p = Point(sharpness: estimate.lambdaMax)
            }
            if second && !p.hasSecond { p.secondEigenvalue = try run(deflated, start: nil, deflating: start).lambdaMax }
            if gradients && !p.hasGradients { computeGradients(&p) }
            point = p
            return p
        } catch {
            if failure == nil { failure = error }
            point = nil
            return Point(sharpness: .nan)
        }
    }

    private func run(_ lanczos: SharpnessEstimator, start: [Double]?, deflating u: [Double]?) throws -> SharpnessEstimate {
        let estimate = try lanczos.lanczos(at: theta, start: start, converging: .top, deflating: u)
        lanczosRuns += 1
        lanczosProducts += estimate.products
        return estimate
    }

    /// ∇S = ∇³R[u, u, ·] at the cached point (both Lanczos runs left the risk linearized there), ∇R, and their
    /// products.
    private func computeGradients(_ p: inout Point) {
        guard let u = start else { return }
        thirdDerivatives += 1
        u.withUnsafeBufferPointer { uu in
            sharpnessGradient.withUnsafeMutableBufferPointer { risk.thirdDerivative(along: uu, into: $0, scale: 1) }
        }
        theta.withUnsafeBufferPointer { t in
            lossGradient.withUnsafeMutableBufferPointer { risk.gradient(at: t, into: $0, scale: 1) }
        }
        var alignment = 0.0, normS = 0.0, normR = 0.0
        for i in sharpnessGradient.indices {
            alignment += sharpnessGradient[i] * lossGradient[i]
            normS += sharpnessGradient[i] * sharpnessGradient[i]
            normR += lossGradient[i] * lossGradient[i]
        }
        p.alignment = alignment
        p.sharpnessGradientNormSquared = normS
        p.lossGradientNormSquared = normR
    }
}
