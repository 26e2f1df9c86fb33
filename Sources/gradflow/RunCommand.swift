import ArgumentParser
import GradFlow

/// `gradflow run`: gradient flow with CVODE, written to a trajectory file, with a closing summary.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Integrate gradient flow dW/dt = −∇R(W) and write the trajectory file.",
        discussion: """
            With no option: the paper-like default problem (synthetic n = 50, d = 5, ‖w*‖ = 1; fully connected \
            L = 10, widths 5, small Gaussian initialisation), integrated with BDF + Newton–Krylov on the exact \
            J v = −H v until R − R_min ≤ 1e-10 (located by root finding) or t = t-final.

            Example: gradflow run --depth 20 --widths 50 --input-dim 50 --samples 200 -o deep.h5
            """
    )

    @OptionGroup(title: "Problem") var problem: ProblemOptions
    @OptionGroup(title: "Network") var network: NetworkOptions

    @Option(name: .customLong("t-final"), parsing: .unconditional, help: "Horizon: integrate up to this time.")
    var tFinal: Double = 1e6

    @Option(name: .customLong("t-first"), parsing: .unconditional, help: "First positive output time of a log schedule (default min(0.01, t-final/output-times)).")
    var tFirst: Double?

    @OptionGroup(title: "Integrator") var integrator: IntegratorOptions
    @OptionGroup(title: "Recording") var recording: RecordingOptions
    @OptionGroup(title: "Monitors") var monitorOptions: MonitorOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @OptionGroup(title: "Central flow (gradient descent at the edge of stability)") var central: CentralFlowOptions

    @Option(help: ArgumentHelp(
        "Continue an interrupted or killed run (gradient flow or gradient descent; not a central flow) in FILE from its last flush, with its own configuration; other options are ignored. FILE is the run's FILE.partial after a crash or a full disk, or its interrupted file.",
        valueName: "file"))
    var resume: String?

    func configuration() throws -> RunConfiguration {
        try RunConfiguration(problem: problem, network: network, recording: recording, monitors: monitorOptions, output: output,
                             solver: integrator.settings,
                             schedule: OutputSchedule(tFinal: tFinal, count: recording.outputTimes, spacing: recording.spacing, firstTime: tFirst),
                             central: try central.settings())
    }

    /// Refuses bad options before `run()` (nothing is written). A resumed run has the file's own
    /// configuration, checked when it is read.
    func validate() throws {
        guard resume == nil else { return }
        try ValidationFailure.checking { try configuration().validate() }
    }

    func run() throws {
        Terminal.installInterruptHandlers()
        // A central-flow run cannot be resumed: its progress does not offer it.
        let reporter = ProgressReporter(enabled: !output.quiet, resumable: resume != nil || central.centralLearningRate == nil)
        defer { reporter.finish() }
        if let resume {
            // A partial that a kill left shorter than its HDF5 superblock's end of file: its tail as zeros, so that HDF5
            // opens it and the checks below (a whole run, a resumable one, torn objects) can judge it.
            if let restored = try OutputFile.restoreCutShortPartial(resume), !output.quiet {
                Terminal.print("GradFlow \(GradFlowVersion.string): \(resume) ended \(restored) bytes before the end its HDF5 superblock records "
                               + "(a kill inside a flush): the missing tail was restored as zeros")
            }
            // Killed between its closing flush and its rename: the whole run is there, to be put in place.
            if let status = FinishedPartial.endedStatus(resume) {
                let final = try FinishedPartial.finalize(resume)
                if !output.quiet {
                    Terminal.print("GradFlow \(GradFlowVersion.string): \(resume) holds a whole run (status \(status.rawValue)), "
                                   + "ended before its process could rename it: now \(final)")
                }
                if status == .diverged { throw ExitCode(1) }  // as the descent itself ended
                return
            }
            let method = (try? TrajectoryFile(path: resume))?.attribute(TrajectoryLayout.Root.method)
            if method == CentralFlowDynamics.method {  // refused, read-only, with the central flow's own reason
                _ = try CentralFlowRun.resume(resume, commandLine: Terminal.commandLine)
            }
            // A gradient-descent file is continued as a descent (bit for bit).
            if method == GradientDescentDynamics.method {
                let summary = try GradientDescentRun.resume(resume, commandLine: Terminal.commandLine, progress: { reporter.report($0) },
                                                            shouldStop: { Terminal.interrupted }, recordingThread: output.recordingThread)
                reporter.finish()
                try DescentCommand.printSummary(summary, lossTolerance: summary.configuration.lossTolerance)
                return
            }
            let summary = try GradientFlowRun.resume(resume, commandLine: Terminal.commandLine, progress: { reporter.report($0) },
                                                     shouldStop: { Terminal.interrupted }, recordingThread: output.recordingThread)
            reporter.finish()
            RunSummaryPrinter.print(summary, config: summary.configuration)
            return
        }
        let config = try configuration()
        if config.central != nil {
            let summary = try CentralFlowRun.execute(config, commandLine: Terminal.commandLine, progress: { reporter.report($0) },
                                                     shouldStop: { Terminal.interrupted }, recordingThread: output.recordingThread)
            reporter.finish()
            RunSummaryPrinter.print(summary, config: config)
            return
        }
        let summary = try GradientFlowRun.execute(config, commandLine: Terminal.commandLine, progress: { reporter.report($0) },
                                                  shouldStop: { Terminal.interrupted }, recordingThread: output.recordingThread)
        reporter.finish()
        RunSummaryPrinter.print(summary, config: config)
    }
}

/// Progress lines on stderr for runs longer than a second: at most one a second, overwritten in
/// place on a terminal.
final class ProgressReporter {
    private let enabled: Bool
    /// Whether the run's file can be continued with --resume (the hint on its partial file says so).
    private let resumable: Bool
    private var lastPrint = 0.0
    private var printed = false
    private var announced: Set<String> = []

    init(enabled: Bool, resumable: Bool = true) {
        self.enabled = enabled
        self.resumable = resumable
    }

    func report(_ p: RunProgress) {
        // Once per file: where the run is written while it goes on (the name to resume after a crash).
        if enabled, !p.file.isEmpty, !announced.contains(p.file) {
            announced.insert(p.file)
            if p.file.hasSuffix(OutputFile.partialSuffix) {
                let final = String(p.file.dropLast(OutputFile.partialSuffix.count))
                let hint = resumable ? "; after a crash: gradflow run --resume \(p.file)" : "; after a crash it keeps the rows written so far"
                Terminal.write("writing \(p.file) (renamed to \(final) when the run ends\(hint))\n", toError: true)
            }
        }
        guard enabled, p.elapsed >= 1, p.elapsed - lastPrint >= 1 else { return }
        lastPrint = p.elapsed
        let line = "t = \(Terminal.g(p.time)) / \(Terminal.g(p.tFinal))   R − R_min = \(Terminal.g(p.evaluation.excessRisk, 3))"
            + "   ‖∇R‖² = \(Terminal.g(p.evaluation.gradientNormSquared, 3))   rows \(p.rows)   \(Terminal.g(p.elapsed, 3)) s"
        if Terminal.stderrIsTerminal {
            Terminal.write("\r\u{1B}[K" + line, toError: true)
        } else {
            Terminal.write(line + "\n", toError: true)
        }
        printed = true
    }

    func finish() {
        if printed && Terminal.stderrIsTerminal { Terminal.write("\n", toError: true) }
        printed = false
    }
}

/// The closing summaries: a header (problem, network), the method's own lines, and a footer (time,
/// output, the table of monitors).
enum RunSummaryPrinter {
    static func g(_ x: Double, _ digits: Int = 4) -> String { Terminal.g(x, digits) }

    static func problemAndNetwork(_ setup: RunSetup) -> String {
        let p = setup.problem, n = setup.network
        let source = p.source == "synthetic" ? "synthetic (seed \(p.seed ?? 0))" : p.source
        let initText: String
        switch setup.initialization {
        case let .gaussian(scale, zero): initText = "gaussian s = \(g(scale, 4))" + (zero.map { ", W_\($0)(0) = 0" } ?? "")
        case let .residual(scale): initText = "residual s = \(g(scale, 4))"
        case let .balanced(scale): initText = "balanced s = \(g(scale, 4))"
        case let .spectral(strengths): initText = "spectral a(0) = " + strengths.map { g($0, 3) }.joined(separator: ",")
        case let .layerwise(scales): initText = "gaussian s_k = " + scales.map { g($0, 3) }.joined(separator: ",")
        case let .file(path): initText = "from \(path)"
        }
        let outputs = p.outputCount > 1 ? ", q = \(p.outputCount)" : ""
        let solution = p.outputCount > 1 ? "‖M*‖_F" : "‖w*‖"
        let underdetermined = p.isUnderdetermined ? " (underdetermined: rank \(p.rank) < d; λ is the smallest nonzero eigenvalue, w* = X⁺y the minimum-norm interpolator)" : ""
        let test = p.test.map { ", held-out set n' = \($0.count)" } ?? ""
        return """
              problem   \(source): n = \(p.sampleCount), d = \(p.dimension)\(outputs), R_min = \(g(p.minimumRisk, 6)), λ = \(g(p.lambdaMin)), Λ = \(g(p.lambdaMax)), a = \(g(p.a)), \(solution) = \(g(p.solutionNorm))\(test)\(underdetermined)
              network   \(n.modelDescription), \(n.kind.rawValue), L = \(n.shape.depth), widths \(n.shape.widths.map(String.init).joined(separator: "-")), P = \(n.shape.parameterCount), \(initText)
            """
    }

    static func finalLine(_ e: RiskEvaluation, _ report: RunReport) -> String {
        let network = report.setup.network
        var line = network.model == .gelu
            ? "  final     R = \(g(e.loss, 10))   ‖∇R‖² = \(g(e.gradientNormSquared, 4))"
            : "  final     R = \(g(e.loss, 10))   R − R_min = \(g(e.excessRisk, 4))   ‖∇R‖² = \(g(e.gradientNormSquared, 4))"
        if let distance = report.distanceToSolution {
            line += network.projection == nil ? "   ‖M − M*‖_F = \(g(distance, 4))" : "   ‖w_∞ − w*‖ = \(g(distance, 4))"
        }
        if let test = report.testError { line += "   test error = \(g(test, 6))" }
        return line
    }

    static func footer(_ report: RunReport, rows: Int) {
        Terminal.print("""
              time      \(g(report.wallTime, 3)) s (monitors \(g(report.monitorTime, 3)) s\(report.monitorWait.map { "; rows recorded on a second thread, \(g($0, 3)) s waited for;" } ?? ",") \
            \(report.checkpoints) sharpness checkpoints), peak memory \(g(report.peakMemory / 1_048_576, 3)) MiB
              output    \(report.outputPath) (\(rows) rows)
            """)
        for note in report.notes { Terminal.print("  note      \(note)") }
        if !report.verdicts.isEmpty { MonitorTablePrinter.print(report.verdicts) }
    }

    /// The central flow's summary: the phases and switches, S at both ends against 2/η, and the constraint.
    static func print(_ s: RunSummary<CentralFlowResult>, config: RunConfiguration) {
        let r = s.result, st = r.statistics, eta = config.central?.learningRate ?? .nan
        let stop: String
        switch r.stopReason {
        case .lossTolerance: stop = "R − R_min ≤ \(g(config.lossTolerance ?? 0, 3)) at t = \(g(r.finalTime, 6)) (located by root finding)"
        case .multipleEigenvalues: stop = "MULTIPLE EIGENVALUES at 2/η at t = \(g(r.finalTime, 6)): λ_1 = \(g(r.finalSharpness, 8)), λ_2 = \(g(r.finalSecondEigenvalue, 8)) (the single-eigenvalue central flow does not hold beyond)"
        case .stationary: stop = "stationary on S = 2/η at t = \(g(r.finalTime, 6)): ‖Π∇R‖² ≤ \(g(config.lossTolerance ?? 0, 3)) (a minimiser of R on the constraint; --loss-tol 0 runs to the horizon)"
        default: stop = "horizon t = \(g(r.finalTime, 6)) reached"
        }
        Terminal.print("GradFlow \(GradFlowVersion.string): central flow of gradient descent at η = \(g(eta, 6)) (2/η = \(g(2 / eta, 8))), \(config.solver.method.solverDescription) while S < 2/η, explicit Dormand–Prince at the edge (rtol \(g(config.solver.relativeTolerance, 2)), atol \(g(config.solver.absoluteTolerance, 2)))")
        Terminal.print(problemAndNetwork(s.setup))
        Terminal.print("  stopped   \(stop)")
        Terminal.print(finalLine(r.finalEvaluation, s.report))
        let finalPhase: String
        switch r.finalPhase {
        case .stable: finalPhase = "stable (S < 2/η)"
        case .edge: finalPhase = "edge (S held at 2/η)"
        case .above: finalPhase = "above 2/η (gradient flow, outside the central flow's scope)"
        }
        Terminal.print("  sharpness S(0) = \(g(r.initialSharpness, 8)), S(final) = \(g(r.finalSharpness, 8)), 2/η = \(g(2 / eta, 8)); final phase \(finalPhase)")
        if r.switches.isEmpty {
            Terminal.print(r.initialPhase == .stable ? "  switches  none: S stayed below 2/η, and the central flow is gradient flow"
                                                     : "  switches  none: the run stayed \(r.initialPhase.name) from its start")
        } else {
            let list = r.switches.map { "\($0.phase.name) at t = \(g($0.time, 8))" }.joined(separator: ", ")
            let residual = r.largestConstraintResidual.isNaN ? "– (no output row fell in the edge phase)" : g(r.largestConstraintResidual, 3)
            Terminal.print("  switches  \(list); largest |S − 2/η| at the edge's rows \(residual)")
        }
        if r.initialPhase == .above {
            Terminal.print("  warning   S(0) > 2/η: descent first catapults, which the central flow does not describe; it started as gradient flow")
        }
        Terminal.print("  solver    \(st.steps) steps, \(st.rhsEvaluations) right-hand sides, \(st.jacobianVectorProducts) J·v, \(st.rootFunctionEvaluations) root-function evaluations, \(st.errorTestFailures) error-test failures")
        let perStep = st.steps > 0 ? Double(r.lanczosProducts + 2 * r.thirdDerivatives) / Double(st.steps) : 0
        Terminal.print("  spectral  \(r.lanczosRuns) warm-started Lanczos runs (\(r.lanczosProducts) H·v, \(g(Double(r.lanczosProducts) / Double(max(r.lanczosRuns, 1)), 3)) per run), \(r.thirdDerivatives) third derivatives ∇³R[u,u]: \(g(perStep, 3)) H·v-equivalents per step")
        footer(s.report, rows: s.report.rows)
    }

    static func print(_ s: GradientFlowRunSummary, config: RunConfiguration) {
        let r = s.result, st = r.statistics
        let stop = r.stopReason == .lossTolerance
            ? "R − R_min ≤ \(g(config.lossTolerance ?? 0, 3)) at t = \(g(r.finalTime, 6)) (located by root finding), before the horizon t = \(g(config.schedule.tFinal, 6)) (--loss-tol 0 runs to the horizon)"
            : "horizon t = \(g(r.finalTime, 6)) reached"
        Terminal.print("GradFlow \(GradFlowVersion.string): gradient flow, \(config.solver.method.solverDescription) (rtol \(g(config.solver.relativeTolerance, 2)), atol \(g(config.solver.absoluteTolerance, 2)))")
        Terminal.print(problemAndNetwork(s.setup))
        Terminal.print("  stopped   \(stop)")
        Terminal.print(finalLine(r.finalEvaluation, s.report))
        if let ts = st.stiffnessSwitchTime {
            Terminal.print("  switch    explicit Dormand–Prince until t = \(g(ts, 6)), where its steps became stability-limited; BDF after")
        }
        Terminal.print("  solver    \(st.steps) steps, \(st.rhsEvaluations) right-hand sides, \(st.jacobianVectorProducts) J·v, \(st.jacobianEvaluations) Jacobians, \(st.linearIterations) linear iterations, \(st.errorTestFailures) error-test and \(st.nonlinearConvergenceFailures) convergence failures, last step \(g(st.lastStepSize, 3)), order \(st.lastOrder)")
        footer(s.report, rows: s.report.rows)
    }
}

/// The closing table of monitors: each quantity, its worst value along the run, its bound, and the verdict.
enum MonitorTablePrinter {
    static func print(_ verdicts: [MonitorVerdict]) {
        let rows = verdicts.map { v in
            (title: v.title, value: v.value.map { Terminal.g($0, v.valueDigits) } ?? "–",
             bound: v.boundText.isEmpty ? "–" : v.boundText.rendered(Terminal.g), verdict: v.outcome.rawValue,
             note: v.note.rendered(Terminal.g))
        }
        let titleWidth = min(60, rows.map { $0.title.count }.max() ?? 10)
        let valueWidth = max(12, rows.map { $0.value.count }.max() ?? 10)
        let boundWidth = max(10, rows.map { $0.bound.count }.max() ?? 10)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        Terminal.print("")
        Terminal.print("  " + pad("monitor", titleWidth) + "  " + pad("worst/value", valueWidth) + "  " + pad("bound", boundWidth) + "  verdict")
        for row in rows {
            Terminal.print("  " + pad(row.title, titleWidth) + "  " + pad(row.value, valueWidth) + "  " + pad(row.bound, boundWidth) + "  " + row.verdict)
            if !row.note.isEmpty { Terminal.print("  " + pad("", titleWidth) + "    " + row.note) }
        }
    }
}
