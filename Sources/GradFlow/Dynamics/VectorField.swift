/// A right-hand side dθ/dt = F(θ) other than gradient flow's −∇R(θ), for `GradientFlowIntegrator` with an
/// explicit method (it offers no Jacobian): the central flow's edge phase (MATH.md §11).
public protocol VectorField: AnyObject {
    /// Writes F(θ) into `out` (P entries); false when it is not finite (the solver then retries with a smaller
    /// step, and fails if that persists). Must not disturb the integrator's risk: use a risk instance of its own.
    func velocity(at theta: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) -> Bool
}
