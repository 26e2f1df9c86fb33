/// The settings of a central-flow run (MATH.md §11): gradient descent's learning rate η, whose edge of
/// stability 2/η the flow keeps the sharpness at, and how its degenerate cases are treated.
public struct CentralFlowSettings: Sendable, Codable, Equatable {
    /// η: the flow describes gradient descent at this learning rate, in time t = kη.
    public var learningRate: Double
    /// Start even when S(0) > 2/η. Descent then first catapults (S jumps and falls), which the central flow
    /// does not describe: the run starts as gradient flow and enters the edge phase when S next crosses 2/η
    /// upward.
    public var allowCatapult: Bool
    /// The edge phase stops ("multiple eigenvalues at 2/η") once λ_1 − λ_2 ≤ `gapTolerance · λ_1`: there the
    /// single-eigenvalue form is not valid.
    public var gapTolerance: Double

    public static let defaultGapTolerance = 1e-3

    public init(learningRate: Double, allowCatapult: Bool = false, gapTolerance: Double = defaultGapTolerance) {
        self.learningRate = learningRate
        self.allowCatapult = allowCatapult
        self.gapTolerance = gapTolerance
    }

    /// 2/η, the edge of stability.
    public var threshold: Double { 2 / learningRate }

    /// The relative slack of the constraint S = 2/η at relative tolerance rtol: min(max(1e3·rtol, 1e-10), 1e-3).
    /// S within it of 2/η counts as at the edge (a start there is not a catapult), and the closing verdict
    /// S(final) ≤ 2/η allows it.
    public static func constraintSlack(relativeTolerance rtol: Double) -> Double { min(max(1e3 * rtol, 1e-10), 1e-3) }

    public func validate() throws {
        guard learningRate.isFinite, learningRate > 0, (2 / learningRate).isFinite else {
            throw GradFlowError.invalidConfiguration(field: .centralLearningRate, value: "\(learningRate)",
                                                     reason: "must be a finite number > 0 whose 2/η is finite")
        }
        guard gapTolerance.isFinite, gapTolerance > 0, gapTolerance < 1 else {
            throw GradFlowError.invalidConfiguration(field: .centralGapTolerance, value: "\(gapTolerance)",
                                                     reason: "must be in (0, 1): the relative gap (λ_1 − λ_2)/λ_1 below which the edge phase stops")
        }
    }
}
