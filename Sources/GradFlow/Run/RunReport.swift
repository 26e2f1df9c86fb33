import FoundationEssentials

/// What every run's summary shows, whatever the dynamics.
public struct RunReport: Sendable {
    public var setup: RunSetup
    /// ‖w_∞ − w*‖ for the final end-to-end vector (‖M − M*‖_F for q outputs); nil for a GELU network.
    public var distanceToSolution: Double?
    /// The test error `(1/n')‖Y' − f(X')‖²` of the final weights on the held-out set, when there is one.
    public var testError: Double?
    public var wallTime: Double
    public var outputPath: String
    /// The monitors' verdicts (MATH.md §7), also written to `/monitors`.
    public var verdicts: [MonitorVerdict]
    /// The theoretical values for this problem (also in `/bounds`); nil for multivariate targets.
    public var bounds: TheoreticalBounds?
    /// Sharpness checkpoints written.
    public var checkpoints: Int
    /// Seconds spent in the monitors: included in `wallTime` when the rows were recorded on the run's thread;
    /// on a second thread (`monitorWait` not nil) they overlap the dynamics.
    public var monitorTime: Double
    /// When the rows were recorded on a second thread (`RecordingThread`), the seconds the dynamics waited for
    /// it: the part of `wallTime` the monitors and the file writes added (the closing checkpoint aside). Nil otherwise.
    public var monitorWait: Double?
    /// The last sharpness estimate (at the end), when the sharpness monitor ran.
    public var finalSharpness: Double?
    /// Rows in the trajectory file (for a resumed run, those before the interruption too).
    public var rows: Int
    /// What the summary should say beyond the numbers (a damaged partial that was set aside).
    public var notes: [String] = []
    /// The process's peak resident memory at the end of the run, in bytes.
    public var peakMemory: Double

    init(setup: RunSetup, finalWeights: [Double], start: Date, outputPath: String, verdicts: [MonitorVerdict], recorder: RunRecorder) {
        self.setup = setup
        let risk = recorder.suite.risk
        distanceToSolution = risk.endToEndMap(finalWeights).map { w in
            zip(w, setup.problem.minimumNormSolution).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        }
        testError = setup.problem.test.flatMap { test in
            setup.problem.testError(predictions: risk.predictions(at: finalWeights, inputs: test.inputs, count: test.count))
        }
        wallTime = Date().timeIntervalSince(start)
        self.outputPath = outputPath
        self.verdicts = verdicts
        bounds = recorder.suite.bounds
        checkpoints = recorder.checkpoints
        monitorTime = recorder.monitorTime
        monitorWait = recorder.secondThreadWait
        finalSharpness = recorder.suite.lastSharpness?.estimate.lambdaMax
        rows = recorder.rows
        peakMemory = MemoryEstimate.peakResident
    }
}
