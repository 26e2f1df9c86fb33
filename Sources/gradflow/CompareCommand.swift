import ArgumentParser
import Foundation
import GradFlow

/// `gradflow compare`: gradient flow and gradient descent from the same initial weights.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run gradient flow and gradient descent from the same initial weights and compare them at t = kη.",
        discussion: """
            Writes OUT-flow.h5 and OUT-descent.h5 (ordinary trajectory files) and OUT.h5, the shared summary: at \
            every descent output step k, the distance ‖W_GD(k) − W_GF(kη)‖/‖W_GF(kη)‖, both excess risks, the \
            flow's conservation drift and the descent's drift beside its exact η² prediction (MATH.md §5). The \
            flow is recorded at exactly t = kη and integrated to the descent's horizon Kη.

            Example: gradflow compare --lr 0.01 -o cmp.h5
            """
    )

    @OptionGroup(title: "Problem") var problem: ProblemOptions
    @OptionGroup(title: "Network") var network: NetworkOptions
    @OptionGroup(title: "Gradient descent") var descentOptions: DescentOptions
    @OptionGroup(title: "Integrator (gradient flow)") var integrator: IntegratorOptions
    @OptionGroup(title: "Recording") var recording: RecordingOptions
    @OptionGroup(title: "Monitors") var monitorOptions: MonitorOptions
    @OptionGroup(title: "Output") var output: OutputOptions

    @Option(name: .customLong("table-rows"), parsing: .unconditional, help: "Rows of the side-by-side table printed at the end.")
    var tableRows: Int = 12

    /// The comparison's configuration (written to OUT.h5, or comparison.h5 by default).
    func configuration() throws -> RunConfiguration {
        let descent = try descentOptions.settings()
        var options = output
        if options.output == "trajectory.h5" { options.output = "comparison.h5" }
        return try RunConfiguration(
            problem: problem, network: network, recording: recording, monitors: monitorOptions, output: options,
            solver: integrator.settings,
            schedule: OutputSchedule(tFinal: max(Double(descent.steps) * descent.learningRate, .leastNormalMagnitude),
                                     count: recording.outputTimes, spacing: recording.spacing),
            descent: descent)
    }

    /// Refuses bad options before `run()` (nothing is written).
    func validate() throws {
        try ValidationFailure.checking {
            let config = try configuration()
            try config.validate()
            try GradientComparison.validateFlowTimes(config)
        }
    }

    func run() throws {
        let config = try configuration()
        Terminal.installInterruptHandlers()
        let reporter = ProgressReporter(enabled: !output.quiet)
        let summary = try GradientComparison.execute(config, commandLine: Terminal.commandLine, progress: { reporter.report($0) },
                                                     shouldStop: { Terminal.interrupted })
        reporter.finish()
        print(summary)
        if let message = summary.descent.divergenceMessage {
            Terminal.error(message)
            throw ExitCode(1)
        }
    }

    func print(_ s: ComparisonSummary) {
        let g = RunSummaryPrinter.g
        let eta = s.descent.settings.learningRate
        Terminal.print("GradFlow \(GradFlowVersion.string): gradient flow (\(integrator.method.solverDescription), rtol \(g(integrator.rtol, 2))) against gradient descent (η = \(g(eta, 6)), 2/η = \(g(2 / eta, 6)))")
        Terminal.print(RunSummaryPrinter.problemAndNetwork(s.flow.setup))
        let header = ["t", "step", "‖W_GD−W_GF‖/‖W_GF‖", "R−R_min GF", "R−R_min GD", "drift GF (rel)", "drift GD", "η² prediction"]
        let widths = [11, 8, 20, 12, 12, 15, 11, 13]
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
        }
        Terminal.print("")
        Terminal.print("  " + line(header))
        let count = s.rows.count, shown = min(max(tableRows, 2), count)
        let indices = count == 0 ? [] : Set((0..<shown).map { shown == 1 ? 0 : $0 * (count - 1) / (shown - 1) }).sorted()
        for i in indices {
            let r = s.rows[i]
            Terminal.print("  " + line([g(r.time, 5), String(r.step), g(r.relativeDistance, 4), g(r.flowExcessRisk, 4), g(r.descentExcessRisk, 4),
                                         g(r.flowDrift, 3), g(r.descentDrift, 4), g(r.descentPredictedDrift, 4)]))
        }
        let flowS = s.flow.report.finalSharpness.map { g($0, 6) } ?? "–"
        let descentS = s.descent.report.finalSharpness.map { g($0, 6) } ?? "–"
        Terminal.print("")
        Terminal.print("  final     GF: R − R_min = \(g(s.flow.result.finalEvaluation.excessRisk, 4)), S = \(flowS) at t = \(g(s.flow.result.finalTime, 6))")
        Terminal.print("            GD: R − R_min = \(g(s.descent.result.finalEvaluation.excessRisk, 4)), S = \(descentS) after \(s.descent.result.steps) steps (\(s.descent.result.stopReason.rawValue)); 2/η = \(g(2 / eta, 6))")
        if let bounds = s.flow.bounds, s.flow.setup.network.isScalarLinear {
            Terminal.print("  bounds    S_min ∈ [\(g(bounds.sharpnessLowerBound, 5)), \(g(bounds.explicitMinimizerSharpness, 5))], critical η = 2/S_min ∈ [\(g(bounds.criticalLearningRateLower, 4)), \(g(bounds.criticalLearningRateUpper, 4))]")
        }
        Terminal.print("  output    \(s.outputPath) (\(s.rows.count) rows), \(s.flowPath), \(s.descentPath)")
    }
}
