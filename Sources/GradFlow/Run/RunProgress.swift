/// What the executable is told while a run goes on.
public struct RunProgress: Sendable {
    public var time: Double
    public var tFinal: Double
    public var evaluation: RiskEvaluation
    public var rows: Int
    public var elapsed: Double
    /// The file being written: `OUT.partial` until the run ends (then renamed to `OUT`).
    public var file: String = ""
}
