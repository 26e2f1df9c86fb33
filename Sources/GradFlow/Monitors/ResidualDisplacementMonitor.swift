/// Theorems 4 and 5 (MATH.md §4.8, §6.1) for residual networks `W_k = I + θ_k/L`: the displacement
/// `‖θ_k‖_F = L‖W_k − W_k(0)‖_F` of each layer, which the theorems predict stays O(1) as L grows. The
/// constant C is not recoverable (MATH.md §8), so the worst value is reported without a claim.
///
/// Column: `theta_norm` [L]. Cost per output time: P flops.
public final class ResidualDisplacementMonitor: Monitor {
    let context: MonitorContext
    private var worst = 0.0

    public init(context: MonitorContext) {
        self.context = context
    }

    public var columns: [TrajectoryColumn] {
        [.perLayer("theta_norm", depth: context.depth, "L‖W_k − W_k(0)‖_F (residual networks)")]
    }

    public func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {
        let shape = context.network.shape, L = Double(shape.depth), theta = sample.weights, initial = context.initialWeights
        row["theta_norm"] = (1...shape.depth).map { k in
            shape.range(k).map { (theta[$0] - initial[$0]) * (theta[$0] - initial[$0]) }.reduce(0, +).squareRoot() * L
        }
    }

    public func track(_ row: inout MonitorRow) {
        if let theta = row["theta_norm"] { worst = max(worst, theta.max() ?? 0) }
    }

    public func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] {
        let theorem = context.network.projection == nil ? "Theorem 5" : "Theorem 4"
        return [MonitorVerdict(key: "theta_norm", title: "\(theorem): max_k ‖θ_k‖_F = L‖W_k − W_k(0)‖_F", value: worst,
                               boundText: "C (not recoverable)", outcome: .info, note: "\(theorem) predicts O(1) as L grows")]
    }
}
