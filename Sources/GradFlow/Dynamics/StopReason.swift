/// Why a run's dynamics ended, for gradient flow and gradient descent alike; the raw value is the
/// trajectory file's `/solver` attribute `stop_reason`.
public enum StopReason: String, Sendable, Codable {
    /// R − R_min reached the loss tolerance (gradient flow: the time located by CVODE's root finding).
    case lossTolerance = "loss-tolerance"
    /// The horizon was reached (`t-final`, or all K steps of descent).
    case horizon
    /// Gradient descent diverged: R − R_min grew beyond its divergence level or became non-finite.
    case diverged
    /// A terminal event function (`TrajectoryEvents.isTerminal`) crossed zero: the central flow's phase switch.
    case event
    /// The central flow reached a point where λ_2 comes within its tolerance of λ_1 = S at the edge of
    /// stability: its single-eigenvalue form no longer holds (MATH.md §11).
    case multipleEigenvalues = "multiple-eigenvalues"
    /// The central flow's edge phase reached a stationary point of R on S = 2/η: its velocity ‖Π∇R‖² fell to
    /// the loss tolerance (where 2/η is below every global minimiser's sharpness, R − R_min cannot).
    case stationary = "constrained-stationary"
}
