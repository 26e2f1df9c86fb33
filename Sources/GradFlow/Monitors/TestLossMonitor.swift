/// The error on the held-out set, `(1/n')‖Y' − f(X')‖²`, at every output time (when the problem has one).
///
/// Column: `test_loss`. Cost per output time: one forward pass over the n' held-out samples.
public final class TestLossMonitor: Monitor {
    let context: MonitorContext
    private var last: Double?

    public init(context: MonitorContext) {
        self.context = context
    }

    public var columns: [TrajectoryColumn] { [.scalar("test_loss", "held-out risk (1/n')‖Y' − f(X')‖²")] }

    public func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {
        guard let test = context.problem.test else { return }
        let predictions = context.risk.predictions(at: sample.weights, inputs: test.inputs, count: test.count)
        row["test_loss"] = [context.problem.testError(predictions: predictions) ?? .nan]
    }

    public func track(_ row: inout MonitorRow) {
        if let value = row["test_loss"]?.first { last = value }
    }

    public func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] {
        guard let test = context.problem.test, let last else { return [] }
        return [MonitorVerdict(key: "test_loss", title: "test error (1/n')‖Y' − f(X')‖² on the held-out set", value: last, valueDigits: 6,
                               outcome: .info,
                               note: "n' = \(test.count) samples, at the last output time; train R = \(end.evaluation.loss, digits: 6)")]
    }
}
