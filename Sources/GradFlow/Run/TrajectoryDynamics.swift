/// A dynamics that `RunPipeline` can run, record and resume: gradient flow, gradient descent, and any
/// integrator added later (one new file conforming to this protocol).
///
/// The pipeline does everything else, the same way for every dynamics: the set-up, the monitors and the
/// trajectory file, progress, errors and the file's final status, verdicts and the summary. A dynamics holds
/// no global state, so several runs can go on in one process.
public protocol TrajectoryDynamics {
    /// Where a run of this dynamics begins: θ(0) for a new run, or the state a resumed run continues from.
    associatedtype Start
    /// What the dynamics reports at the end, beyond `TrajectoryOutcome`'s common part (for the summary).
    associatedtype Result: Sendable

    /// The trajectory file's `method` attribute ("gradient-flow", "gradient-descent").
    static var method: String { get }

    /// Refuses a configuration this dynamics cannot run, before anything is set up. `resuming` is the file
    /// whose recorded configuration it is (nil for a new run).
    static func check(_ configuration: RunConfiguration, resuming file: String?) throws

    /// Refuses (read-only) a file this dynamics cannot continue: another method, or a run that ended.
    static func checkResumable(_ file: TrajectoryFile) throws

    /// The dynamics of one run, on `setup`'s network and problem. Cheap: builds the risk and the stepper.
    init(configuration: RunConfiguration, setup: RunSetup) throws

    /// What the monitors need to know of the dynamics.
    var monitorDynamics: MonitorSuite.Dynamics { get }
    /// `/trajectory` columns this dynamics writes beyond the monitors' (descent: `step`).
    var extraColumns: [TrajectoryColumn] { get }
    /// The resume extras of θ(0) (`ResumeState.extras`): fixes the width of `/resume/state`.
    var initialResumeExtras: [Double] { get }
    /// The time the run ends at if nothing stops it earlier (for progress).
    var horizon: Double { get }
    /// The start of a new run: θ(0) at t = 0, not yet recorded.
    var initialStart: Start { get }

    /// The start a resumed run continues from, checked against the network (`file` names it in errors).
    func start(resuming state: ResumeState, file: String) throws -> Start

    /// Runs from `start`, handing every output row to `record` in time order (`record` may throw to end the
    /// run), and reporting the crossings of `events` as it finds them. `shouldStop` true ends it with
    /// `GradFlowError.interrupted`.
    func run(from start: Start, events: (any TrajectoryEvents)?, shouldStop: @escaping () -> Bool,
             record: (TrajectoryRow) throws -> Void) throws -> TrajectoryOutcome<Result>

    /// The `/solver` attributes of a run that ended with `error` after `wallTime` seconds.
    func failureAttributes(after error: GradFlowError, wallTime: Double) -> [(String, AttributeValue)]
}

extension TrajectoryDynamics {
    /// The `/solver` attributes of an integration that ended with `error`: `base` (the integrator and its
    /// tolerances), then SUNDIALS' flag and the time reached when the solver failed, then the wall time.
    static func integrationFailureAttributes(_ base: [(String, AttributeValue)], after error: GradFlowError,
                                             wallTime: Double) -> [(String, AttributeValue)] {
        var attributes = base
        if case let .solver(flagName, _, time, _) = error {
            attributes += [(TrajectoryLayout.Solver.flag, .string(flagName)), (TrajectoryLayout.Solver.timeReached, .double(time))]
        }
        return attributes + [(TrajectoryLayout.Solver.wallTime, .double(wallTime))]
    }
}
