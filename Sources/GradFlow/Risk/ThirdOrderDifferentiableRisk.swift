/// A risk whose third derivative along a direction is available exactly: what the central flow
/// (MATH.md §11) needs for the sharpness gradient.
///
/// For a unit top eigenvector u of H(θ) with a simple eigenvalue S = λ_max(H(θ)),
/// `∇S(θ) = ∇³R(θ)[u, u, ·] = d/dε [H(θ + εu) u]|_{ε=0}`. Implementations compute it by forward-mode
/// differentiation of their Hessian-vector-product recursion (§2.1): every quantity x of the recursion
/// becomes (x, ẋ) with θ̇ = u and the direction v = u held fixed, and every product follows the product
/// rule. The cost is about two Hessian-vector products; nothing allocates.
public protocol ThirdOrderDifferentiableRisk: DifferentiableRisk {
    /// Writes `scale · ∇³R(θ)[u, u, ·]` into `out` (P entries), θ the point of the last `linearize(at:)`.
    /// For any u (unit or not) this is the derivative of θ ↦ H(θ)u along u; it is ∇S only when u is a
    /// unit eigenvector of a simple top eigenvalue. Overwrites the workspaces of `hessianVectorProduct`.
    func thirdDerivative(along u: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double)
}

extension ThirdOrderDifferentiableRisk {
    /// `scale · ∇³R(θ)[u, u, ·]` as a new array, linearizing at θ first (convenience; allocates).
    public func thirdDerivative(at theta: [Double], along u: [Double], scale: Double = 1) -> [Double] {
        precondition(theta.count == parameterCount && u.count == parameterCount)
        var out = [Double](repeating: 0, count: parameterCount)
        theta.withUnsafeBufferPointer { linearize(at: $0) }
        u.withUnsafeBufferPointer { uu in
            out.withUnsafeMutableBufferPointer { thirdDerivative(along: uu, into: $0, scale: scale) }
        }
        return out
    }
}
