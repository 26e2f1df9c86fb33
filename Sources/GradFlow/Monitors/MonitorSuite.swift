/// The monitors of one run (MATH.md §7), composed from `MonitorRegistry`: the columns they declare, their
/// values at every output time and at the sharpness checkpoints, the `/bounds` they are checked against,
/// and their closing verdicts in table order. It knows no monitor by name: each monitor is one type behind
/// the `Monitor` protocol.
///
/// Monitors read the weights and never write them; they share one risk instance of their own
/// (`MonitorContext.risk`), so the trajectory is the same bits with and without them.
/// Cost: the sum of its monitors' (each states its own).
public final class MonitorSuite {
    /// What produced the trajectory: gradient flow (with the integrator's relative tolerance) or gradient
    /// descent (with its learning rate η). Monitors judge by it (for example the conservation law:
    /// conserved up to the solver's error for the flow, MATH.md §5's exact η² sum for descent).
    public enum Dynamics: Sendable {
        case flow(relativeTolerance: Double)
        case descent(learningRate: Double)
        /// The central flow of descent at η (MATH.md §11), integrated at relative tolerance rtol; `startsAbove`:
        /// S(0) > 2/η, a start outside the flow's scope (descent would catapult).
        case central(relativeTolerance: Double, learningRate: Double, startsAbove: Bool)
    }

    public let context: MonitorContext
    /// The run's monitors, in table order.
    public let monitors: [any Monitor]
    /// The sample of the last output row (a checkpoint at the same point reuses what it computed).
    private var lastSample: MonitorSample?
    /// Asked before each monitor's work in `row`, `track` and `checkpoint` (a signal handler's flag): true ends
    /// the row with `GradFlowError.interrupted` (its `time` NaN: the caller knows the last recorded time). On a
    /// deep network one row takes seconds, so a signal is seen between monitors, not only between rows.
    public var shouldStop: () -> Bool = { false }

    private func checkStop() throws {
        if shouldStop() { throw GradFlowError.interrupted(time: .nan) }
    }

    /// The monitors of `registry` (by default every registered one) that `selection` turns on and that apply.
    public init(network: Network, problem: RegressionProblem, initialWeights: [Double], initialization: WeightInitialization,
                selection: MonitorSelection, sharpness: SharpnessSettings, dynamics: Dynamics,
                registry: [MonitorRegistry.Entry] = MonitorRegistry.all) throws {
        let context = try MonitorContext(network: network, problem: problem, initialWeights: initialWeights, initialization: initialization,
                                         dynamics: dynamics, selection: selection, sharpness: sharpness)
        self.context = context
        monitors = try registry.compactMap { entry in
            if let name = entry.name, !selection.contains(name) { return nil }
            return try entry.make(context)
        }
    }

    public var selection: MonitorSelection { context.selection }
    public var network: Network { context.network }
    public var problem: RegressionProblem { context.problem }
    public var dynamics: Dynamics { context.dynamics }
    /// The theoretical values of MATH.md §4 for scalar targets; nil for q outputs.
    public var bounds: TheoreticalBounds? { context.bounds }
    /// The monitors' risk instance, shared with the run's closing report.
    public var risk: any DifferentiableRisk { context.risk }

    /// The first monitor of type `T`, if the run has one.
    public func monitor<T: Monitor>(_ type: T.Type) -> T? { monitors.lazy.compactMap { $0 as? T }.first }

    /// The monitors' resume state (`Monitor.resumeState`), concatenated in table order: saved after the
    /// dynamics' own extras in every resume record.
    public var resumeStateCount: Int { monitors.map(\.resumeStateCount).reduce(0, +) }
    public func resumeState() -> [Double] { monitors.flatMap { $0.resumeState() } }
    /// Makes the monitors save and restore `stateCount` values per record, the width a partial being resumed
    /// records (its writer's dataset has that width): this build's layout, or an earlier build's
    /// (`Monitor.legacyResumeStateCount`). False, with nothing changed, for any other width.
    public func adoptResumeLayout(stateCount: Int) -> Bool {
        if stateCount == resumeStateCount { return true }
        let legacy = monitors.map { $0.legacyResumeStateCount ?? $0.resumeStateCount }.reduce(0, +)
        guard stateCount == legacy else { return false }
        for monitor in monitors where monitor.legacyResumeStateCount != nil { monitor.useLegacyResumeLayout() }
        return true
    }

    /// Restores `resumeState()`; a state of another length (a file written before monitors saved one) is
    /// ignored: the monitors then start cold, with values equal up to their stated accuracy.
    public func restore(_ state: ArraySlice<Double>, weights: [Double]) {
        guard state.count == resumeStateCount else { return }
        var offset = state.startIndex
        for monitor in monitors {
            let count = monitor.resumeStateCount
            monitor.restore(state[offset..<(offset + count)], weights: weights)
            offset += count
        }
    }

    /// The last sharpness checkpoint, when the sharpness monitor ran.
    public var lastSharpness: (time: Double, estimate: SharpnessEstimate, derived: Double, dxd: Double)? {
        monitor(SharpnessMonitor.self)?.last
    }

    /// The `/trajectory` columns of the monitors (beyond time, loss, excess_risk, grad_norm_sq).
    public var rowColumns: [TrajectoryColumn] { monitors.flatMap(\.columns) }

    /// The `/checkpoints` columns: `time`, the monitors' columns and `weights`; empty when no monitor
    /// records at checkpoints.
    public var checkpointColumns: [TrajectoryColumn] {
        let columns = monitors.flatMap(\.checkpointColumns)
        guard !columns.isEmpty else { return [] }
        return [.scalar(TrajectoryLayout.Trajectory.time, TrajectoryLayout.Trajectory.timeDescription)] + columns
            + [TrajectoryColumn("weights", width: network.shape.parameterCount, axis: .parameter,
                                description: "stacked weights θ at the checkpoint, each block row-major")]
    }

    /// Whether output row `index` (0 for t = 0) is a checkpoint: every `SharpnessSettings.checkpointEvery`
    /// rows, when a monitor records at checkpoints.
    public func isCheckpoint(row index: Int) -> Bool {
        monitors.contains { !$0.checkpointColumns.isEmpty } && index % context.sharpness.checkpointEvery == 0
    }

    /// The monitors' values at one output time, keyed by column name, folded into their worst values
    /// (`track`). For gradient descent, `predictedDrift` is the accumulated η² sum of MATH.md §5 after `step`
    /// steps.
    public func row(time: Double = .nan, weights theta: [Double], evaluation: RiskEvaluation,
                    predictedDrift: UnsafeBufferPointer<Double>? = nil, step: Int = 0) throws -> MonitorRow {
        let sample = MonitorSample(time: time, weights: theta, evaluation: evaluation, step: step,
                                   predictedDrift: predictedDrift, context: context)
        var row: MonitorRow = [:]
        for monitor in monitors {
            try checkStop()
            try monitor.measure(sample, into: &row)
        }
        try checkStop()
        lastSample = sample
        // `track` sees the row as a replay of the file would: with the columns every run records.
        let base = Self.baseColumns(time: time, evaluation: evaluation)
        row.merge(base) { monitorValue, _ in monitorValue }
        track(&row)
        for name in base.keys { row[name] = nil }
        return row
    }

    /// The columns of every row, which `track` sees beside the monitors' own.
    static func baseColumns(time: Double, evaluation: RiskEvaluation) -> MonitorRow {
        ["time": [time], "loss": [evaluation.loss], "excess_risk": [evaluation.excessRisk], "grad_norm_sq": [evaluation.gradientNormSquared]]
    }

    /// Folds one row's values into every monitor's worst values (also used to replay a resumed file's rows:
    /// every verdict is decided from recorded values alone). Adds running columns such as `pl_ratio_min`.
    public func track(_ row: inout MonitorRow) {
        for monitor in monitors { monitor.track(&row) }
    }

    /// The checkpoint at θ, keyed by `/checkpoints` column name (with `time` and `weights`).
    public func checkpoint(time: Double, weights theta: [Double], evaluation: RiskEvaluation? = nil) throws -> MonitorRow {
        let sample: MonitorSample
        if let last = lastSample, last.weights == theta {
            sample = last
        } else {
            sample = MonitorSample(time: time, weights: theta, evaluation: evaluation ?? risk.evaluate(at: theta), context: context)
        }
        var row: MonitorRow = ["time": [time], "weights": theta]
        for monitor in monitors {
            try checkStop()
            try monitor.checkpoint(sample, into: &row)
        }
        return row
    }

    /// The closing verdicts, in table order. `atMinimum` says whether the run stopped at the loss
    /// tolerance (the sharpness bounds concern minimisers).
    public func verdicts(time: Double = .nan, finalWeights: [Double], finalEvaluation: RiskEvaluation, atMinimum: Bool) -> [MonitorVerdict] {
        let end = MonitorSample(time: time, weights: finalWeights, evaluation: finalEvaluation, context: context)
        return monitors.flatMap { $0.verdicts(at: end, atMinimum: atMinimum) }
    }

    /// The datasets the monitors write when the run ends.
    public var closingDatasets: [(group: String, dataset: ConstantDataset)] { monitors.flatMap(\.closingDatasets) }

    /// The monitors' event functions, for the dynamics to locate (nil when no monitor has any).
    public var events: (any TrajectoryEvents)? { monitors.contains { $0.eventCount > 0 } ? self : nil }

    /// The datasets the monitors add to `/problem`.
    public var problemDatasets: [ConstantDataset] { monitors.flatMap(\.problemDatasets) }

    /// The `/bounds` attributes: the theoretical values, every monitor's constants, and the dynamics' own
    /// (`conservation_threshold` for the flow, `edge_of_stability` = 2/η for descent).
    public var boundAttributes: [(String, AttributeValue)] {
        var list = bounds?.attributes ?? []
        if network.model == .gelu, bounds != nil { list.append(("reference_only", .string("linear-network theory; not claimed for GELU"))) }
        list += monitors.flatMap(\.boundAttributes)
        switch dynamics {
        case .flow: list.append(("conservation_threshold", .double(ConservationMonitor.threshold(for: dynamics))))
        case let .descent(eta), let .central(_, eta, _): list.append(("edge_of_stability", .double(2 / eta)))
        }
        return list
    }
}

extension MonitorSuite: TrajectoryEvents {
    /// The monitors' event functions, one after the other in table order.
    public var eventCount: Int { monitors.reduce(0) { $0 + $1.eventCount } }

    public func eventValues(at weights: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>) {
        var offset = 0
        for monitor in monitors where monitor.eventCount > 0 {
            monitor.eventValues(at: weights, into: UnsafeMutableBufferPointer(rebasing: values[offset..<(offset + monitor.eventCount)]))
            offset += monitor.eventCount
        }
    }

    public func eventCrossed(_ index: Int, at time: Double) {
        var offset = 0
        for monitor in monitors where monitor.eventCount > 0 {
            if index < offset + monitor.eventCount { monitor.eventCrossed(index - offset, at: time); return }
            offset += monitor.eventCount
        }
    }
}
