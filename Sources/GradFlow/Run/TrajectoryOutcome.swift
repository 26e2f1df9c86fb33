/// How a dynamics' run ended, in the terms every run shares (the final state, why it stopped, the file's
/// closing status, message and `/solver` attributes), with the dynamics' own `result`.
public struct TrajectoryOutcome<Result: Sendable>: Sendable {
    public var result: Result
    public var finalTime: Double
    public var finalWeights: [Double]
    public var finalEvaluation: RiskEvaluation
    public var stopReason: StopReason
    /// `completed`, or `diverged` (gradient descent).
    public var status: RunStatus
    /// The file's `message`: what ended the run.
    public var message: String
    /// The `/solver` attributes; the pipeline adds `wall_time`.
    public var solverAttributes: [(String, AttributeValue)]
}
