import ArgumentParser
import GradFlow

/// `gradflow descent`: full-batch gradient descent on the same problems as `run`.
struct DescentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "descent",
        abstract: "Run gradient descent W ← W − η∇R(W) and write the trajectory file (time t = k·η).",
        discussion: """
            The same problem, initialisation, monitors and file layout as 'run', with a /trajectory/step column. \
            It stops after --steps K steps (or K = ⌈t-final/η⌉), or when R − R_min ≤ --loss-tol. The conservation \
            monitor compares the drift of D_k with the exact η² prediction of MATH.md §5, and the sharpness \
            checkpoints are shown beside 2/η, the edge of stability. Divergence (R − R_min above \
            --divergence-factor·max(R(0), 1), or a non-finite value) closes the file with status = diverged and \
            exits with code 1.

            Example: gradflow descent --lr 0.01 --depth 5 -o gd.h5
            """
    )

    @OptionGroup(title: "Problem") var problem: ProblemOptions
    @OptionGroup(title: "Network") var network: NetworkOptions

    @OptionGroup(title: "Gradient descent") var descentOptions: DescentOptions
    @OptionGroup(title: "Recording") var recording: RecordingOptions
    @OptionGroup(title: "Monitors") var monitorOptions: MonitorOptions
    @OptionGroup(title: "Output") var output: OutputOptions

    func configuration() throws -> RunConfiguration {
        let descent = try descentOptions.settings()
        return try RunConfiguration(
            problem: problem, network: network, recording: recording, monitors: monitorOptions, output: output,
            schedule: OutputSchedule(tFinal: max(Double(descent.steps) * descent.learningRate, .leastNormalMagnitude),
                                     count: recording.outputTimes, spacing: recording.spacing),
            descent: descent)
    }

    /// Refuses bad options before `run()` (nothing is written).
    func validate() throws {
        try ValidationFailure.checking { try configuration().validate() }
    }

    func run() throws {
        Terminal.installInterruptHandlers()
        let config = try configuration()
        let reporter = ProgressReporter(enabled: !output.quiet)
        let summary = try GradientDescentRun.execute(config, commandLine: Terminal.commandLine, progress: { reporter.report($0) },
                                                     shouldStop: { Terminal.interrupted }, recordingThread: output.recordingThread)
        reporter.finish()
        try Self.printSummary(summary, lossTolerance: config.lossTolerance)
    }

    /// The closing summary of a descent (also of one resumed by `gradflow run --resume`); exit 1 when it diverged.
    static func printSummary(_ summary: GradientDescentRunSummary, lossTolerance: Double?) throws {
        let r = summary.result, g = RunSummaryPrinter.g
        let stop: String
        switch r.stopReason {
        case .lossTolerance:
            stop = "early, at step \(r.steps) of \(summary.settings.steps) (t = \(g(r.finalTime, 6))): R − R_min ≤ --loss-tol \(g(lossTolerance ?? 0, 3)) (--loss-tol 0 takes all steps)"
        case .horizon, .event, .multipleEigenvalues, .stationary: stop = "took all \(r.steps) steps (t = \(g(r.finalTime, 6)))"
        case .diverged: stop = "DIVERGED at step \(r.steps) (t = \(g(r.finalTime, 6)))"
        }
        Terminal.print("GradFlow \(GradFlowVersion.string): gradient descent, η = \(g(summary.settings.learningRate, 6)) (edge of stability 2/η = \(g(2 / summary.settings.learningRate, 6)))")
        Terminal.print(RunSummaryPrinter.problemAndNetwork(summary.report.setup))
        Terminal.print("  stopped   \(stop)")
        Terminal.print(RunSummaryPrinter.finalLine(r.finalEvaluation, summary.report) + (r.stopReason == .diverged ? "   (last finite row)" : ""))
        Terminal.print("  descent   \(r.steps) steps, \(g(r.secondsPerStep * 1e6, 3)) µs per step")
        RunSummaryPrinter.footer(summary.report, rows: summary.report.rows)
        if let message = summary.divergenceMessage {
            Terminal.error(message)
            throw ExitCode(1)
        }
    }
}
