import ArgumentParser
import Foundation
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

    @Option(parsing: .unconditional, help: "Learning rate η.")
    var lr: Double

    @Option(parsing: .unconditional, help: "Most steps K (default 100000, or ⌈t-final/η⌉ when --t-final is given).")
    var steps: Int?

    @Option(name: .customLong("t-final"), parsing: .unconditional, help: "Horizon in time units: K = ⌈t-final/η⌉ steps.")
    var tFinal: Double?

    @Option(name: .customLong("divergence-factor"), parsing: .unconditional,
            help: "Diverged when R − R_min exceeds this factor times max(R(0), 1).")
    var divergenceFactor: Double = 1e6

    @OptionGroup(title: "Recording") var recording: RecordingOptions
    @OptionGroup(title: "Monitors") var monitorOptions: MonitorOptions
    @OptionGroup(title: "Output") var output: OutputOptions

    /// K from --steps and --t-final (the smaller when both are given).
    static func stepCount(steps: Int?, tFinal: Double?, lr: Double) throws -> Int {
        var k = steps
        if let tFinal {
            guard tFinal.isFinite, tFinal > 0 else {
                throw GradFlowError.invalidArgument(option: "--t-final", value: "\(tFinal)", reason: "must be a finite number > 0")
            }
            if lr.isFinite, lr > 0 {
                let fromTime = Int(min((tFinal / lr).rounded(.up), 1e12))
                k = min(k ?? fromTime, fromTime)
            }
        }
        return k ?? 100_000
    }

    func configuration() throws -> RunConfiguration {
        let k = try Self.stepCount(steps: steps, tFinal: tFinal, lr: lr)
        return RunConfiguration(
            dataFile: problem.dataFile,
            synthetic: SyntheticData(samples: problem.samples, dimension: problem.inputDimension, noise: problem.noise, seed: problem.seed),
            seed: problem.seed, depth: network.depth, widths: try network.widthList(),
            initialization: network.initialization, initWeightsFile: network.initWeights, initWeightsSnapshot: network.initFrom,
            schedule: OutputSchedule(tFinal: max(Double(k) * lr, .leastNormalMagnitude), count: recording.outputTimes, spacing: recording.spacing),
            lossTolerance: recording.lossTolerance, threads: output.threads, outputPath: output.output,
            overwrite: output.force, flushInterval: output.flushInterval, monitors: try monitorOptions.selection(),
            sharpness: monitorOptions.sharpness,
            descent: DescentSettings(learningRate: lr, steps: k, divergenceFactor: divergenceFactor))
    }

    func run() throws {
        let config = try configuration()
        let reporter = ProgressReporter(enabled: !output.quiet)
        let summary = try GradientDescentRun.execute(config, commandLine: Terminal.commandLine) { reporter.report($0) }
        reporter.finish()
        let r = summary.result, g = RunSummaryPrinter.g
        let stop: String
        switch r.stop {
        case .lossTolerance: stop = "R − R_min ≤ \(g(config.lossTolerance ?? 0, 3)) at step \(r.steps) (t = \(g(r.finalTime, 6)))"
        case .horizon: stop = "took all \(r.steps) steps (t = \(g(r.finalTime, 6)))"
        case .diverged: stop = "DIVERGED at step \(r.steps) (t = \(g(r.finalTime, 6)))"
        }
        Terminal.print("GradFlow \(GradFlowVersion.string): gradient descent, η = \(g(summary.settings.learningRate, 6)) (edge of stability 2/η = \(g(2 / summary.settings.learningRate, 6)))")
        Terminal.print(RunSummaryPrinter.problemAndNetwork(summary.report.setup))
        Terminal.print("  stopped   \(stop)")
        Terminal.print(RunSummaryPrinter.finalLine(r.finalEvaluation, summary.report) + (r.stop == .diverged ? "   (last finite row)" : ""))
        Terminal.print("  descent   \(r.steps) steps, \(g(r.secondsPerStep * 1e6, 3)) µs per step")
        RunSummaryPrinter.footer(summary.report, rows: r.samples)
        if let message = summary.divergenceMessage {
            Terminal.error(message)
            throw ExitCode(1)
        }
    }
}
