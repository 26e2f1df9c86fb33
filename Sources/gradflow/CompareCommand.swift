import ArgumentParser
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

            With --central, also the central flow at the descent's η (MATH.md §11; OUT-central.h5): the distances             of descent and of its two-step average (θ_k + θ_{k+1})/2 to both flows, the three sharpnesses against             2/η, and descent's two-step average loss beside the central flow's prediction R + σ²/η.

            Example: gradflow compare --lr 0.01 -o cmp.h5
                     gradflow compare --depth 5 --init-scale 0.35 --lr 0.16 --steps 940 --central -o eos.h5
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

    @Flag(name: .customLong("central"), help: "Also run the central flow at the descent's η (OUT-central.h5) and compare all three.")
    var central = false

    @Flag(name: .customLong("allow-catapult"), help: "With --central: run the central flow even when S(0) > 2/η (refused otherwise); it starts as gradient flow.")
    var allowCatapult = false

    @Option(name: .customLong("central-gap"), parsing: .unconditional, help: ArgumentHelp(
        "With --central: stop the central flow's edge phase once λ_1 − λ_2 ≤ this · λ_1 (multiple eigenvalues at 2/η).", valueName: "tol"))
    var gapTolerance: Double = CentralFlowSettings.defaultGapTolerance

    /// The central flow's settings (its η is the descent's), nil without --central.
    func centralSettings(learningRate: Double) throws -> CentralFlowSettings? {
        guard central else {
            if allowCatapult { throw ValidationError("--allow-catapult needs --central") }
            if gapTolerance != CentralFlowSettings.defaultGapTolerance { throw ValidationError("--central-gap needs --central") }
            return nil
        }
        return CentralFlowSettings(learningRate: learningRate, allowCatapult: allowCatapult, gapTolerance: gapTolerance)
    }

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
            try centralSettings(learningRate: config.descent?.learningRate ?? 1)?.validate()
        }
    }

    func run() throws {
        let config = try configuration()
        Terminal.installInterruptHandlers()
        let reporter = ProgressReporter(enabled: !output.quiet)
        let summary = try GradientComparison.execute(config, central: try centralSettings(learningRate: config.descent?.learningRate ?? 1),
                                                     commandLine: Terminal.commandLine, progress: { reporter.report($0) },
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
        func line(_ cells: [String]) -> String { Self.line(cells, widths) }
        Terminal.print("")
        Terminal.print("  " + line(header))
        for i in shownRows(s.rows.count) {
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
        if let central = s.central { printCentral(s, central) }
        Terminal.print("  output    \(s.outputPath) (\(s.rows.count) rows), \(s.flowPath), \(s.descentPath)" + (s.centralPath.map { ", \($0)" } ?? ""))
    }

    /// The rows the tables show: `--table-rows` of them, evenly spread, the first and the last included.
    func shownRows(_ count: Int) -> [Int] {
        let shown = min(max(tableRows, 2), count)
        return count == 0 ? [] : Set((0..<shown).map { shown == 1 ? 0 : $0 * (count - 1) / (shown - 1) }).sorted()
    }

    /// The cells padded to their widths; a longer cell is kept whole (never cut).
    static func line(_ cells: [String], _ widths: [Int]) -> String {
        zip(cells, widths).map { $0.count >= $1 ? $0 : $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: " ")
    }

    /// The three-way table of `--central`: distances (descent and its two-step average to GF and CF), the three
    /// sharpnesses, and descent's average loss beside the central flow's prediction.
    func printCentral(_ s: ComparisonSummary, _ central: RunSummary<CentralFlowResult>) {
        let g = RunSummaryPrinter.g
        let eta = s.descent.settings.learningRate
        let header = ["t", "phase", "GD→GF", "GD→CF", "avg→GF", "avg→CF", "S GD", "S avg", "S CF", "S GF", "R̄ GD", "R+σ²/η CF"]
        let widths = [10, 6, 9, 9, 9, 9, 9, 9, 9, 9, 11, 11]
        func line(_ cells: [String]) -> String { Self.line(cells, widths) }
        Terminal.print("")
        Terminal.print("  central flow at η = \(g(eta, 6)) (2/η = \(g(2 / eta, 6))): relative distances, sharpnesses and averaged losses")
        Terminal.print("  " + line(header))
        for i in shownRows(s.rows.count) {
            let r = s.rows[i]
            let phase = r.centralPhase.isFinite ? CentralFlowPhase(rawValue: Int(r.centralPhase))?.name ?? "–" : "–"
            Terminal.print("  " + line([g(r.time, 5), phase, g(r.relativeDistance, 3), g(r.centralDistance, 3),
                                         g(r.averagedFlowDistance, 3), g(r.averagedCentralDistance, 3), g(r.descentSharpness, 5), g(r.averagedDescentSharpness, 5),
                                         g(r.centralSharpness, 5), g(r.flowSharpness, 5), g(r.descentAveragedLoss, 7), g(r.centralPredictedLoss, 7)]))
        }
        let r = central.result, last = s.rows.last
        let switches = r.switches.isEmpty ? (r.initialPhase == .stable ? "never reached 2/η (it is gradient flow)" : "no switch")
            : r.switches.map { "\($0.phase.name) at t = \(g($0.time, 6))" }.joined(separator: ", ")
        let descentFinal = s.descent.report.finalSharpness.map { g($0, 6) } ?? "–"
        Terminal.print("")
        Terminal.print("  final S   GD \(descentFinal) after step \(s.descent.result.steps) (at its two-step average \(g(last?.averagedDescentSharpness ?? .nan, 6)) at t = \(g(last?.time ?? .nan, 6))), central flow \(g(r.finalSharpness, 6)), GF \(g(last?.flowSharpness ?? .nan, 6)); 2/η = \(g(2 / eta, 6))")
        Terminal.print("  central   \(switches); stopped: \(r.stopReason.rawValue) at t = \(g(r.finalTime, 6))")
    }
}
