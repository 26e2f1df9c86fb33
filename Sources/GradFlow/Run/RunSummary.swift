/// The outcome of a run of any dynamics, for the summary (`GradientFlowRunSummary`,
/// `GradientDescentRunSummary`).
public struct RunSummary<Result: Sendable>: Sendable {
    public var report: RunReport
    /// What the dynamics reports (`GradientFlowResult`, `GradientDescentResult`).
    public var result: Result
    /// The configuration the run used (for a resumed run, the one recorded in its file).
    public var configuration: RunConfiguration
    public var stopReason: StopReason
    /// The file's closing `message`.
    public var message: String
    public var setup: RunSetup { report.setup }
    public var verdicts: [MonitorVerdict] { report.verdicts }
    public var bounds: TheoreticalBounds? { report.bounds }
    public var outputPath: String { report.outputPath }
}
