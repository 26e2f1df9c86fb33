/// The two phases of the central flow (MATH.md §11).
public enum CentralFlowPhase: Int, Sendable, Codable {
    /// S < 2/η: gradient flow, dθ/dt = −∇R.
    case stable = 0
    /// S = 2/η and ⟨∇S, ∇R⟩ < 0: dθ/dt = −∇R − ½σ²∇S, σ² = −2⟨∇S, ∇R⟩/‖∇S‖², which keeps S at 2/η.
    case edge = 1
    /// S > 2/η, outside the central flow's scope: a start above the edge (descent would catapult), or a
    /// constraint lost at a loose tolerance. The run follows gradient flow until S falls to 2/η (stable) or
    /// gradient flow would sharpen (edge: its Baumgarte term then pulls S back to 2/η).
    case above = 2

    /// How summaries name the phase: `stable`, `edge`, `above 2/η`.
    public var name: String {
        switch self {
        case .stable: return "stable"
        case .edge: return "edge"
        case .above: return "above 2/η"
        }
    }
}

/// One switch of the central flow between its phases.
public struct CentralFlowSwitch: Sendable, Equatable {
    /// Where the switch was located by root finding (to the solver's tolerance).
    public var time: Double
    /// The phase entered.
    public var phase: CentralFlowPhase
}

/// The central flow's own quantities at one output row, beside the loss.
public struct CentralFlowRow: Sendable {
    public var phase: CentralFlowPhase
    /// S = λ_1(H) by Lanczos.
    public var sharpness: Double
    /// λ_2(H), whose gap to S the edge phase watches.
    public var secondEigenvalue: Double
    /// σ² = −2⟨∇S, ∇R⟩/‖∇S‖² in the edge phase (the variance of descent's oscillation along u), 0 in the
    /// stable phase.
    public var sigmaSquared: Double
    /// S − 2/η: the constraint residual in the edge phase (0 up to the solver's tolerance), negative in the
    /// stable phase, positive above.
    public var constraintResidual: Double
    /// Gradient descent's time-averaged loss as the central flow predicts it: R + σ²/η (= R + ½σ²S at the
    /// edge); R in the stable phase.
    public var averagedLoss: Double
}
