/// Values of the risk at one point.
public struct RiskEvaluation: Sendable, Equatable {
    /// R(θ) = (1/n)‖y − Xw‖² (the mean over samples of the squared output error).
    public var loss: Double
    /// R(θ) − R_min, computed as ‖X(w − w*)‖²/n for linear networks (no cancellation; MATH.md §1.2). A GELU
    /// network has no known R_min: its excess risk is R itself.
    public var excessRisk: Double
    /// ‖∇R(θ)‖² (Frobenius, over all layers).
    public var gradientNormSquared: Double
}

/// A twice-differentiable risk on a stacked parameter vector θ ∈ ℝ^P: the interface that the
/// integrators and monitors use, so that other models (multivariate output, GELU; MATH.md §6) slot in.
///
/// Implementations keep preallocated workspaces: no call allocates. They are not thread-safe; use one
/// instance per thread. Hessian-vector products are taken at the point last passed to `linearize(at:)`,
/// which is independent of the point of the last `gradient` call, so an ODE solver can interleave
/// right-hand sides with Jacobian-vector products.
public protocol DifferentiableRisk: AnyObject {
    /// P, the length of θ.
    var parameterCount: Int { get }
    /// Writes `scale · ∇R(θ)` into `out` (P entries). With `scale = −1` this is the gradient-flow field.
    func gradient(at theta: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double)
    /// Whether the last `gradient` call produced finite values (a cheap check on the quantities it
    /// multiplied, not a pass over the P outputs).
    var lastGradientIsFinite: Bool { get }
    /// Fixes θ as the point at which `hessianVectorProduct` evaluates the Hessian H = ∇²R(θ).
    func linearize(at theta: UnsafeBufferPointer<Double>)
    /// Writes `scale · H v` into `out`, H the exact Hessian at the linearization point.
    func hessianVectorProduct(_ v: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double)
    /// R(θ) − R_min, computed without cancellation.
    func excessRisk(at theta: UnsafeBufferPointer<Double>) -> Double
    /// Loss, excess risk and squared gradient norm at θ.
    func evaluate(at theta: UnsafeBufferPointer<Double>) -> RiskEvaluation
    /// A preconditioner for `I + γH` built on the Gauss–Newton part of H, or nil if the model has none.
    func makeGaussNewtonPreconditioner() -> (any NewtonPreconditioner)?
    /// The excess risk at the point of the last `gradient` call, from its cached forward state (no sweep
    /// over the weights): gradient descent's per-step stopping and divergence test.
    func excessRiskOfLastGradient() -> Double
    /// The network's outputs on `count` inputs (count×d row-major), as a count×q row-major matrix: the
    /// test error's predictions. Allocates.
    func predictions(at theta: [Double], inputs: [Double], count: Int) -> [Double]
    /// The end-to-end map of a linear network at θ (w ∈ ℝ^d, or M = W_L⋯W_1 as q×d row-major); nil for a
    /// nonlinear model. Allocates.
    func endToEndMap(_ theta: [Double]) -> [Double]?
}

extension DifferentiableRisk {
    /// No preconditioner unless the model provides one.
    public func makeGaussNewtonPreconditioner() -> (any NewtonPreconditioner)? { nil }

    /// No end-to-end map unless the model is linear.
    public func endToEndMap(_ theta: [Double]) -> [Double]? { nil }

    /// `scale · ∇R(θ)` as a new array (convenience; allocates).
    public func gradient(at theta: [Double], scale: Double = 1) -> [Double] {
        precondition(theta.count == parameterCount)
        var out = [Double](repeating: 0, count: parameterCount)
        theta.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { gradient(at: t, into: $0, scale: scale) }
        }
        return out
    }

    /// `H(θ) v` as a new array (convenience; allocates and re-linearizes at θ).
    public func hessianVectorProduct(at theta: [Double], direction v: [Double], scale: Double = 1) -> [Double] {
        precondition(theta.count == parameterCount && v.count == parameterCount)
        var out = [Double](repeating: 0, count: parameterCount)
        theta.withUnsafeBufferPointer { linearize(at: $0) }
        v.withUnsafeBufferPointer { vv in
            out.withUnsafeMutableBufferPointer { hessianVectorProduct(vv, into: $0, scale: scale) }
        }
        return out
    }

    /// The dense Hessian H(θ), row-major P×P, assembled from P Hessian-vector products with unit
    /// vectors (MATH.md §2.4, ≈ 11P² flops). For cross-checks and small P only.
    public func hessian(at theta: [Double]) -> [Double] {
        let p = parameterCount
        precondition(theta.count == p)
        var h = [Double](repeating: 0, count: p * p)
        var e = [Double](repeating: 0, count: p)
        theta.withUnsafeBufferPointer { linearize(at: $0) }
        h.withUnsafeMutableBufferPointer { hb in
            for j in 0..<p {
                e[j] = 1
                e.withUnsafeBufferPointer { eb in
                    hessianVectorProduct(eb, into: UnsafeMutableBufferPointer(rebasing: hb[(j * p)..<((j + 1) * p)]), scale: 1)
                }
                e[j] = 0
            }
        }
        return h  // row j holds H e_j, which is column j; H is symmetric
    }

    /// Loss, excess risk and ‖∇R‖² at θ (convenience).
    public func evaluate(at theta: [Double]) -> RiskEvaluation {
        precondition(theta.count == parameterCount)
        return theta.withUnsafeBufferPointer { evaluate(at: $0) }
    }
}
