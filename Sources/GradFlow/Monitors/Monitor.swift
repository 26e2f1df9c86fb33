/// The values of one output row or checkpoint, keyed by column name (`TrajectoryColumn.name`).
public typealias MonitorRow = [String: [Double]]

/// A quantity monitored along a trajectory (MATH.md §7): the columns it records, how it computes them at
/// an output time, how it folds them into its verdicts, and those verdicts.
///
/// Adding a monitor is one file with a type that conforms to this protocol and one line in
/// `MonitorRegistry.all` (README, *Adding a monitor*). A monitor reads the weights and never writes them;
/// it shares the suite's risk instance (`MonitorContext.risk`), never the integrator's workspaces, so the
/// trajectory is the same bits with or without it.
///
/// `track` must decide everything from the recorded values alone: a resumed run replays the rows of its
/// file through it, so the verdicts cover the whole run.
public protocol Monitor: AnyObject {
    /// The `/trajectory` columns it writes.
    var columns: [TrajectoryColumn] { get }
    /// The `/checkpoints` columns it writes at sharpness checkpoints (besides `time` and `weights`).
    var checkpointColumns: [TrajectoryColumn] { get }
    /// The `/bounds` attributes it is checked against (constants of the run).
    var boundAttributes: [(String, AttributeValue)] { get }
    /// The datasets it adds to `/problem` (constants of the problem and of W(0)).
    var problemDatasets: [ConstantDataset] { get }
    /// Adds its values at one output time to `row`.
    func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws
    /// Folds one recorded row into its worst values; may add running columns. The row holds the monitors'
    /// columns and those of every run (`time`, `loss`, `excess_risk`, `grad_norm_sq`).
    func track(_ row: inout MonitorRow)
    /// Adds its values at a checkpoint to `row`.
    func checkpoint(_ sample: MonitorSample, into row: inout MonitorRow) throws
    /// The closing verdicts.
    func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict]
    /// Datasets written when the run ends, each into a group of its own (for example `/transitions`).
    var closingDatasets: [(group: String, dataset: ConstantDataset)] { get }

    /// How many functions of θ it wants located along the trajectory (`TrajectoryEvents`; default none).
    var eventCount: Int { get }
    /// Its event functions g_j(θ), j = 0…eventCount−1 (with its own risk instance, never the integrator's).
    func eventValues(at weights: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>)
    /// g_j changed sign at `time` (gradient flow: located by root finding; descent: interpolated).
    func eventCrossed(_ index: Int, at time: Double)

    /// The length of `resumeState` (fixed for the run; default 0).
    var resumeStateCount: Int { get }
    /// State that the next row's values depend on beyond θ (warm starts), saved with every row's resume
    /// record so that a resumed run continues bit for bit; `resumeStateCount` numbers.
    func resumeState() -> [Double]
    /// Restores `resumeState()` as saved after the row at which θ was `weights`.
    func restore(_ state: ArraySlice<Double>, weights: [Double])
    /// The length of the state an earlier GradFlow build saved, when this build saves more (default nil: the same).
    /// A partial written by that build is resumed in its layout (`useLegacyResumeLayout`).
    var legacyResumeStateCount: Int? { get }
    /// From now on `resumeState` and `restore` use the earlier build's layout (`legacyResumeStateCount` values).
    func useLegacyResumeLayout()
}

extension Monitor {
    public var checkpointColumns: [TrajectoryColumn] { [] }
    public var boundAttributes: [(String, AttributeValue)] { [] }
    public var problemDatasets: [ConstantDataset] { [] }
    public func track(_ row: inout MonitorRow) {}
    public func checkpoint(_ sample: MonitorSample, into row: inout MonitorRow) throws {}
    public var closingDatasets: [(group: String, dataset: ConstantDataset)] { [] }
    public var eventCount: Int { 0 }
    public func eventValues(at weights: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>) {}
    public func eventCrossed(_ index: Int, at time: Double) {}
    public var resumeStateCount: Int { 0 }
    public func resumeState() -> [Double] { [] }
    public func restore(_ state: ArraySlice<Double>, weights: [Double]) {}
    public var legacyResumeStateCount: Int? { nil }
    public func useLegacyResumeLayout() {}
}
