/// One output row as a dynamics hands it to the run pipeline, which records it (monitors, trajectory
/// file) and reports it. Valid only during the call that receives it (`predictedDrift` points into the
/// dynamics' own storage).
public struct TrajectoryRow {
    public var time: Double
    public var weights: [Double]
    public var evaluation: RiskEvaluation
    /// Gradient descent's step k (nil for gradient flow).
    public var step: Int?
    /// `/trajectory` columns of the dynamics beyond the monitors' (descent: `step`).
    public var columns: [String: [Double]] = [:]
    /// Gradient descent's accumulated η² drift up to this step (MATH.md §5), when it is tracked.
    public var predictedDrift: UnsafeBufferPointer<Double>?
    /// What a resumed run needs beside θ to continue from this row (`ResumeState.extras`; descent: k and the drift).
    public var resumeExtras: [Double] = []
}
