/// A preconditioner for CVODE's Newton matrix `I − γJ_F = I + γH`, applied by SPGMR: it is linearized at a
/// point, factored for a γ, and then solves `(I + γH̃) z = r` for an approximation H̃ of the Hessian (the
/// Gauss–Newton part, in GradFlow's preconditioners).
public protocol NewtonPreconditioner: AnyObject {
    /// Whether `linearize` has been called.
    var isLinearized: Bool { get }
    /// Fixes the point θ at which H̃ is taken.
    func linearize(at weights: UnsafeBufferPointer<Double>)
    /// Prepares the solve for `γ`. Returns false when the system is singular (then `solve` must not be used).
    func factor(gamma: Double) -> Bool
    /// `out = (I + γH̃)⁻¹ r`, for the γ of the last `factor`. `out` may be `r`.
    func solve(_ r: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>)
}

extension GaussNewtonPreconditioner: NewtonPreconditioner {}
