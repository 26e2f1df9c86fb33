/// One recorded row, for callers that follow a run (`gradflow compare`): the time, the weights, the
/// risk, and the monitors' values keyed by their `/trajectory` column names.
public struct RecordedRow {
    public var time: Double
    public var weights: [Double]
    public var evaluation: RiskEvaluation
    public var monitors: [String: [Double]]
    /// Gradient descent's step k (nil for gradient flow).
    public var step: Int?
}
