import ArgumentParser
import GradFlow

/// The central flow's options (MATH.md §11), shared by `run` and `compare`.
struct CentralFlowOptions: ParsableArguments {
    @Option(name: .customLong("central-lr"), parsing: .unconditional, help: ArgumentHelp(
        "Integrate the central flow of gradient descent at learning rate η instead of gradient flow: gradient flow while the sharpness S < 2/η, then the flow that holds S at 2/η (dθ/dt = −∇R − ½σ²∇S) until ⟨∇S, ∇R⟩ ≥ 0. Time is descent's t = kη. Rows add the phase, S, λ_2, σ², S − 2/η and the predicted time-averaged loss R + σ²/η.",
        valueName: "eta"))
    var centralLearningRate: Double?

    @Flag(name: .customLong("allow-catapult"), help: "Start the central flow even when S(0) > 2/η (refused otherwise): descent first catapults, which the central flow does not describe, so it starts as gradient flow.")
    var allowCatapult = false

    @Option(name: .customLong("central-gap"), parsing: .unconditional, help: ArgumentHelp(
        "Stop the edge phase (\"multiple eigenvalues at 2/η\") once λ_1 − λ_2 ≤ this · λ_1: the single-eigenvalue central flow no longer holds.",
        valueName: "tol"))
    var gapTolerance: Double = CentralFlowSettings.defaultGapTolerance

    /// The settings, or nil without `--central-lr`; the other two options need it.
    func settings() throws -> CentralFlowSettings? {
        guard let eta = centralLearningRate else {
            if allowCatapult { throw ValidationError("--allow-catapult needs --central-lr") }
            if gapTolerance != CentralFlowSettings.defaultGapTolerance { throw ValidationError("--central-gap needs --central-lr") }
            return nil
        }
        return CentralFlowSettings(learningRate: eta, allowCatapult: allowCatapult, gapTolerance: gapTolerance)
    }
}
