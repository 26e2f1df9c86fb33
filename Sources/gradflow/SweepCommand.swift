import ArgumentParser
import FoundationEssentials
import Glibc
import GradFlow
import Synchronization

/// `gradflow sweep`: a grid of runs in parallel, each writing its trajectory file, and one summary table.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a grid of gradient-flow and gradient-descent runs in parallel, with one summary table.",
        discussion: """
            The grid comes from --spec FILE (JSON with keys methods, initializations, initScales, scaleExponents, learningRates, \
            depths, widths, seeds, arguments, flowArguments, descentArguments, model; all optional) or from the list options below, expanded in that order; point i \
            writes OUTDIR/run-0000i.h5 and what its run printed to OUTDIR/run-0000i.log. Runs go in parallel (--jobs, one BLAS thread each), \
            on worker threads of this process (--isolate threads, the default: no start-up per run, HDF5 writes taken one at a time) \
            or as separate processes (--isolate processes). \
            A sweep that is stopped and started again skips the runs whose files already hold a final outcome. \
            The summary (OUTDIR/summary.csv and summary.h5, or summary-shard-i-of-N.* with --shard) has one row \
            per run: its parameters, outcome (converged, horizon, diverged, failed), final loss, final sharpness, \
            bounds, time and final test error; init_scale is the scale the run drew with, s = c·h^−α with a scale \
            exponent α (scale_exponent; h the point's hidden width, or d). --shard i/N runs every point whose index is i−1 modulo N; 'gradflow merge' joins the \
            shards' tables (examples/slurm-sweep.sh uses both). Every point's options are checked before any run \
            starts (an error names the sweep's option or spec key and the point). Exit code 0 unless every run it \
            started failed: then 2 when all failed on bad input, 1 otherwise (when only some fail, their count is \
            printed; a diverged descent is an outcome, not a failure).

            Example: gradflow sweep --methods flow,descent --init-scales 0.05,0.1,0.2 --lrs 0.01,0.05 --depths 5 \
            --descent-args "--steps 20000" -o fig1
            """
    )

    @Option(help: ArgumentHelp("A JSON grid specification (replaces the list options).", valueName: "file"))
    var spec: String?

    @Option(help: ArgumentHelp("Methods: flow, descent, central (the central flow at each learning rate, started even above 2/η with --allow-catapult: its rows then say so, and its table outcome is 'catapult').", valueName: "list")) var methods: String = "flow"
    @Option(help: ArgumentHelp("Initialisations: gaussian, residual, balanced, spectral (its scale is the initial mode strength a_i(0) of every mode).", valueName: "list")) var inits: String = "gaussian"
    @Option(name: .customLong("init-scales"), help: ArgumentHelp("Initialisation scales.", valueName: "list")) var initScales: String = "0.1"
    @Option(name: .customLong("scale-exponents"), parsing: .unconditional, help: ArgumentHelp(
        "Exponents α of a width-dependent scale s = c·h^−α (c the point's init scale, h its hidden width, or d; MATH.md §10.5). Default: none (s = c).",
        valueName: "list"))
    var scaleExponents: String = ""
    @Option(help: ArgumentHelp("Learning rates (descent and central points).", valueName: "list")) var lrs: String = ""
    @Option(help: ArgumentHelp("Depths.", valueName: "list")) var depths: String = "10"
    @Option(help: ArgumentHelp("Hidden widths (default: d).", valueName: "list")) var widths: String = ""
    @Option(help: ArgumentHelp("Seeds.", valueName: "list")) var seeds: String = "20240521"
    @Option(help: "Model of every run: 'linear' or 'gelu' (see gradflow run --help).") var model: NetworkModel = .linear
    @Option(name: .customLong("run-args"), parsing: .unconditional,
            help: ArgumentHelp("Further options for every run, in one string (for example \"--t-final 1e5 --monitors pl,sharpness\").", valueName: "args"))
    var runArgs: String = ""
    @Option(name: .customLong("flow-args"), parsing: .unconditional,
            help: ArgumentHelp("Further options for the flow runs only (for example \"--t-final 1e5\").", valueName: "args"))
    var flowArgs: String = ""
    @Option(name: .customLong("descent-args"), parsing: .unconditional,
            help: ArgumentHelp("Further options for the descent runs only (for example \"--steps 20000\").", valueName: "args"))
    var descentArgs: String = ""

    @Option(name: [.short, .customLong("output-dir")], help: ArgumentHelp("The folder of the runs' files and the summary.", valueName: "dir"))
    var outputDirectory: String = "sweep"

    @Option(parsing: .unconditional, help: "Runs at once (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("Run shard i of N (1 ≤ i ≤ N): the points whose index is i−1 modulo N.", valueName: "i/N"))
    var shard: String?

    @Flag(name: .shortAndLong, help: "No progress bar.")
    var quiet = false

    @Option(help: ArgumentHelp(
        "How the runs are kept apart: 'threads' (the default) runs them on worker threads of this process, 'processes' starts one process per run. Both give the same files, bit for bit.",
        valueName: "threads|processes"))
    var isolate: SweepIsolation = .threads

    /// A comma-separated list ("" is the empty list; an empty item, as in "1,,2", is refused).
    static func list<T>(_ text: String, _ field: ConfigurationField, _ parse: (String) -> T?) throws -> [T] {
        guard !text.trimmingWhitespace().isEmpty else { return [] }
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let item = part.trimmingWhitespace()
            guard let value = parse(item) else {
                throw GradFlowError.invalidConfiguration(field: field, value: "\(text)", reason: "\"\(item)\" is not valid")
            }
            return value
        }
    }

    func gridSpec() throws -> SweepSpec {
        if let spec { return try SweepSpec.load(spec) }
        return SweepSpec(methods: try Self.list(methods, .sweepMethods) { $0 }, initializations: try Self.list(inits, .sweepInitializations) { $0 },
                         initScales: try Self.list(initScales, .sweepInitScales) { Double($0) },
                         learningRates: try Self.list(lrs, .sweepLearningRates) { Double($0) }, depths: try Self.list(depths, .sweepDepths) { Int($0) },
                         widths: try Self.list(widths, .sweepWidths) { Int($0) }, seeds: try Self.list(seeds, .sweepSeeds) { UInt64($0) },
                         arguments: runArgs.split(whereSeparator: \.isWhitespace).map(String.init),
                         flowArguments: flowArgs.split(whereSeparator: \.isWhitespace).map(String.init),
                         descentArguments: descentArgs.split(whereSeparator: \.isWhitespace).map(String.init), model: model,
                         scaleExponents: try Self.list(scaleExponents, .sweepScaleExponents) { Double($0) })
    }

    /// The spec key of a list option of `gradflow sweep` (`--init-scales` → `initScales`).
    static func specKey(of option: String) -> String? { OptionNames.sweepField(ofOption: option)?.key }

    /// The `gradflow` arguments of a point's run (the subcommand first): the grid's values as options, then
    /// `extra` (which comes later, so an option given there wins), then the output.
    static func arguments(of point: SweepPoint, output: String, extra: [String]) -> [String] {
        // A spectral start takes its scale as the initial mode strength.
        let scaleOption = point.initialization == "spectral" ? "--mode-strength" : "--init-scale"
        var arguments = [point.method == "descent" ? "descent" : "run", "--init", point.initialization, scaleOption, "\(point.initScale)",
                         "--depth", "\(point.depth)", "--seed", "\(point.seed)"]
        if let eta = point.learningRate {
            arguments += point.method == "central" ? ["--central-lr", "\(eta)", "--allow-catapult"] : ["--lr", "\(eta)"]
        }
        if let width = point.width { arguments += ["--widths", "\(width)"] }
        if let alpha = point.scaleExponent { arguments += ["--scale-exponent", "\(alpha)"] }
        return arguments + extra + ["--output", output, "--force", "--quiet", "--threads", "1"]
    }

    /// The extra arguments of one point: the model (when not linear), the common ones, then its method's.
    static func extraArguments(of point: SweepPoint, grid: SweepSpec) -> [String] {
        (grid.model == .linear ? [] : ["--model", grid.model.rawValue]) + grid.extraArguments(for: point)
    }

    /// The run option that sets each value of a point.
    static let optionOfParameter: [SweepPoint.Parameter: String] = [
        .initialization: "--init", .initScale: "--init-scale", .scaleExponent: "--scale-exponent", .learningRate: "--lr", .depth: "--depth", .width: "--widths", .seed: "--seed",
    ]

    /// Where an option of a point's command line came from: the grid's lists, or one of the argument
    /// strings (the spec's keys when there is a spec file).
    func origin(of option: String, grid: SweepSpec) -> String {
        let fromGrid = ["--init-scale": "--init-scales", "--mode-strength": "--init-scales", "--lr": "--lrs", "--depth": "--depths", "--depths": "--depths", "--seed": "--seeds",
                        "--init": "--inits"]
        if option == "--scale-exponent", !grid.scaleExponents.isEmpty { return spec == nil ? "--scale-exponents" : "scaleExponents" }
        if let list = fromGrid[option] { return spec == nil ? list : Self.specKey(of: list) ?? list }
        if option == "--widths", !grid.widths.isEmpty { return spec == nil ? "--widths" : "widths" }
        for (flag, arguments) in [("--descent-args", grid.descentArguments), ("--flow-args", grid.flowArguments), ("--run-args", grid.arguments)]
            where arguments.contains(where: { $0 == option || $0.hasPrefix(option + "=") }) {
            return spec == nil ? flag : Self.specKey(of: flag) ?? flag
        }
        return spec == nil ? "--run-args" : "arguments"
    }

    /// The configuration a point's run would have: the configuration of its command line, without running
    /// it. The command line of the first point of each method and initialisation is parsed (parsing is slow
    /// beside the checks), and the other points apply their values to its configuration
    /// (`SweepPoint.configuration(from:keeping:)`), except the values that the argument strings give (they
    /// come later on the command line, so they win). A descent's K = ⌈t-final/η⌉ depends on η: its options
    /// derive the descent of each point's η.
    func configuration(of point: SweepPoint, grid: SweepSpec, templates: inout [String: ParsableCommand]) throws -> RunConfiguration? {
        let extra = Self.extraArguments(of: point, grid: grid)
        func given(_ option: String) -> Bool { extra.contains { $0 == option || $0.hasPrefix(option + "=") } }
        let key = point.method + " " + point.initialization
        if templates[key] == nil {
            do {
                templates[key] = try GradFlowCommand.parseAsRoot(RecordingOptions.completingSaveWeights(Self.arguments(of: point, output: "run.h5", extra: extra)))
            } catch {
                throw ValidationFailure.take() ?? error  // the run's validate() refused the point's options
            }
        }
        var keeping = Set(SweepPoint.Parameter.allCases.filter { given(Self.optionOfParameter[$0] ?? "") })
        switch templates[key] {
        case let run as RunCommand:
            return point.configuration(from: try run.configuration(), keeping: keeping)
        case var descent as DescentCommand:
            if !given("--lr"), let eta = point.learningRate { descent.descentOptions.lr = eta }
            keeping.insert(.learningRate)
            return point.configuration(from: try descent.configuration(), keeping: keeping)
        default:
            return nil
        }
    }

    /// Parses and validates every point's command line in this process, before anything is launched or
    /// written: a grid whose runs would all refuse their options stops here with exit 2 and one line that
    /// names the sweep's own option (or spec key) and the point.
    func preflight(_ points: [SweepPoint], grid: SweepSpec) throws {
        var checked = Set<[String]>()
        var templates: [String: ParsableCommand] = [:]
        for point in points {
            // The seed changes no check: one point per combination of the other values is enough.
            var key = point
            key.seed = 0
            guard checked.insert(Self.arguments(of: key, output: "", extra: Self.extraArguments(of: point, grid: grid))).inserted else { continue }
            let described = "point \(point.index) (\(point.fileName))"
            do {
                guard let config = try configuration(of: point, grid: grid, templates: &templates) else { continue }
                try config.validate()
                for file in [config.dataFile, config.initWeightsFile].compactMap({ $0 }) { try InputFile.checkReadable(file) }
            } catch let error as GradFlowError {
                // The grid's --depths stand for the run's --depth, also inside a memory message.
                let plural: (ConfigurationField) -> String = { $0 == .depth ? "--depths" : OptionNames.flag($0) }
                let option: String, value: String, reason: String
                switch error {
                case let .invalidConfiguration(field, given, why):
                    (option, value, reason) = (plural(field), given.rendered(OptionNames.flag), why.rendered(OptionNames.flag))
                case let .invalidRequest(subject, given, why) where subject == "memory":
                    (option, value, reason) = (subject, given.rendered(plural), why.rendered(plural))
                case let .invalidRequest(subject, given, why):
                    (option, value, reason) = (subject, given.rendered(OptionNames.flag), why.rendered(OptionNames.flag))
                default:
                    throw error
                }
                let source = option.hasPrefix("-") ? origin(of: option, grid: grid) : option  // memory: no option
                // A grid list stands for the run's option (--init-scales for --init-scale); an argument string is
                // shown with the option inside it (--descent-args --steps …).
                let shown = source == option ? "" : source.hasSuffix("-args") || source.hasSuffix("rguments") ? option + " " : ""
                let text = shown + value
                if let spec {
                    throw GradFlowError.invalidData(file: spec, field: "spec", reason: "\(source) \(text): \(reason), at \(described)")
                }
                throw UsageError(option: source, value: text, reason: "\(reason), at \(described)")
            } catch {
                let message = GradFlowCommand.message(for: error)
                // The first option the parser's message quotes ('--steps <steps>', Unknown option '--bogus').
                let offending = Self.firstQuotedOption(in: message) ?? ""
                let source = origin(of: offending, grid: grid)
                let group = ["--run-args": grid.arguments, "arguments": grid.arguments, "--flow-args": grid.flowArguments,
                             "flowArguments": grid.flowArguments, "--descent-args": grid.descentArguments,
                             "descentArguments": grid.descentArguments][source] ?? []
                let value = "\"" + group.joined(separator: " ") + "\""
                if let spec { throw GradFlowError.invalidData(file: spec, field: "spec", reason: "\(source) \(value): \(message)") }
                throw UsageError(option: source, value: value, reason: message)
            }
        }
    }

    /// The grid, the points this command runs (its shard's) and the summary's name, from the options (and
    /// the spec file) alone.
    func plan() throws -> (grid: SweepSpec, points: [SweepPoint], summaryName: String) {
        let grid = try gridSpec()
        var points = try grid.points(source: spec)
        var summaryName = "summary.csv"
        if let shard {
            let parts = shard.split(separator: "/").compactMap { Int($0) }
            guard parts.count == 2 else {
                throw GradFlowError.invalidConfiguration(field: .sweepShard, value: "\(shard)", reason: "must be i/N, for example 2/8")
            }
            guard parts[0] >= 1 else {  // before i − 1, which overflows for the smallest Int
                throw GradFlowError.invalidConfiguration(field: .sweepShard, value: "\(shard)", reason: "must be i/N with 1 ≤ i ≤ N")
            }
            points = try SweepPoint.shard(points, parts[0] - 1, of: parts[1])
            summaryName = "summary-shard-\(parts[0])-of-\(parts[1]).csv"
        }
        guard jobs >= 1 else { throw UsageError(option: "--jobs", value: "\(jobs)", reason: "must be at least 1") }
        return (grid, points, summaryName)
    }

    /// Refuses a grid before `run()`: its own options, and every point's run options (`preflight`).
    func validate() throws {
        try ValidationFailure.checking {
            let (grid, points, _) = try plan()
            try preflight(points, grid: grid)
        }
    }

    func run() throws {
        let (grid, points, summaryName) = try plan()
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let directory = outputDirectory
        func path(_ point: SweepPoint) -> String { Self.path(of: point, in: directory) }
        // Before any run starts: no file the sweep writes (a run, its log, the summaries) is the spec.
        if let spec {
            let inputs = [OutputFile.Input(spec, role: "the sweep specification")]
            let summaryPath = PathName.appending(outputDirectory, summaryName)
            for target in points.flatMap({ [path($0), Self.logPath(of: $0, in: directory)] }) + [summaryPath, summaryPath.replacing(".csv", with: ".h5")] {
                try OutputFile.refuseInputs(target, inputs)
            }
        }
        do { try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true) } catch {
            throw GradFlowError.fileAccess(path: outputDirectory, reason: "cannot be created as a folder (\(FileSystemFailure.reason(error)))")
        }

        // The summary is claimed (locked) for the whole sweep: a second sweep of the same grid in this folder (same
        // summary name; shards have their own) is refused here, before it runs or overwrites anything.
        let summaryInputs = spec.map { [OutputFile.Input($0, role: "the sweep specification")] } ?? []
        let summaryClaim = try OutputFile(claiming: PathName.appending(outputDirectory, summaryName), overwrite: true, inputs: summaryInputs)
        Terminal.installInterruptHandlers()  // before any worker thread starts: they inherit the unblocked signals
        // A partial that a kill left shorter than its HDF5 superblock's end of file gets its tail back (as zeros) first,
        // so that HDF5 opens it: then it is judged (whole, resumable, torn) like any other.
        for point in points { _ = try? OutputFile.restoreCutShortPartial(path(point) + OutputFile.partialSuffix) }
        // A run killed between its closing flush and its rename left a partial that holds the whole run: put it in
        // place (not when a file is there already), so that its point counts as done.
        for point in points where FinishedPartial.isFinished(path(point) + OutputFile.partialSuffix) {
            _ = try? FinishedPartial.finalize(path(point) + OutputFile.partialSuffix)
        }
        let finished = points.filter { SweepRow.read($0, file: path($0)).isFinished }
        let pending = points.filter { point in !finished.contains(point) }
        Terminal.print("GradFlow \(GradFlowVersion.string): sweep of \(points.count) runs (\(finished.count) already done), \(jobs) at once, in \(outputDirectory)")
        let start = Date()
        var bar = SweepProgressBar(quiet: quiet, total: pending.count)
        // The runs launched by this command, and how they ended (a process's exit code, or the code it would have
        // had); the threads also read the summary rows of their runs as they end.
        let read = SweepRowStore()
        let exits = isolate == .processes
            ? try runProcesses(pending, grid: grid, executable: executable, bar: &bar)
            : try runThreads(pending, grid: grid, executable: executable, bar: &bar, rows: read)
        if !quiet, Terminal.stderrIsTerminal { Terminal.write("\n", toError: true) }
        let known = read.rows.withLock { $0 }
        let rows = points.map { known[$0.index] ?? SweepRow.read($0, file: path($0)) }
        let summary = PathName.appending(outputDirectory, summaryName)
        try SweepTable.write(rows, csvPath: summary, inputs: summaryInputs, claimed: summaryClaim)
        var counts: [String: Int] = [:]
        for row in rows { counts[row.outcome, default: 0] += 1 }
        Terminal.print("  outcomes  " + counts.keys.sorted().map { "\($0) \(counts[$0]!)" }.joined(separator: ", "))
        if counts["missing", default: 0] + counts["interrupted", default: 0] > 0 {
            Terminal.print("  note      runs without a final outcome are run again by the same command; their messages are in \(outputDirectory)/run-*.log")
        }
        let stuck = points.filter { $0.method == "central" && FileManager.default.fileExists(atPath: path($0) + OutputFile.partialSuffix) }
        if !stuck.isEmpty {
            Terminal.print("  note      \(stuck.count) central-flow runs were killed and left their partial files (\(stuck.prefix(3).map { $0.fileName + OutputFile.partialSuffix }.joined(separator: ", "))\(stuck.count > 3 ? ", …" : "")); a central-flow run cannot resume: move them away to run those points again")
        }
        Terminal.print("  summary   \(summary) and \(summary.replacing(".csv", with: ".h5")) (\(rows.count) rows)")
        if Terminal.interrupted {
            throw GradFlowError.interrupted(time: Date().timeIntervalSince(start))
        }
        // Runs that did not start or did not finish (a diverged descent, exit 1, is an outcome, not a failure).
        let outcomes = Dictionary(rows.map { ($0.point.index, $0.outcome) }, uniquingKeysWith: { a, _ in a })
        let failed = exits.filter { point, status in status != 0 && !(status == 1 && outcomes[point.index] == "diverged") }
        guard !failed.isEmpty else { return }
        let first = failed.min { $0.0.index < $1.0.index }!.0
        let log = Self.logPath(of: first, in: directory)
        let firstMessage = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(whereSeparator: \.isNewline)
            .first { $0.hasPrefix("gradflow: error: ") }.map { String($0.dropFirst("gradflow: error: ".count)) } ?? "see the log"
        if failed.count == exits.count {
            let badInput = failed.allSatisfy { $0.1 == 2 }
            Terminal.error("sweep: all \(failed.count) runs failed\(badInput ? " on bad input" : ""); the first, \(log): \(firstMessage)")
            throw ExitCode(badInput ? 2 : 1)
        }
        Terminal.print("  note      \(failed.count) of \(exits.count) runs failed (exit code ≠ 0); the first, \(log): \(firstMessage)")
    }

    /// A point's trajectory file, `DIR/run-00042.h5`.
    static func path(of point: SweepPoint, in directory: String) -> String {
        PathName.appending(directory, point.fileName)
    }

    /// A point's log (what its run printed), `DIR/run-00042.log`.
    static func logPath(of point: SweepPoint, in directory: String) -> String {
        PathName.appending(directory, point.fileName.replacing(".h5", with: ".log"))
    }

    /// The first match of the regular expression `'-[-A-Za-z0-9]+` in `message`, without its quote (`--steps` in
    /// `'--steps <steps>'`), on Unicode scalars; nil when there is none.
    static func firstQuotedOption(in message: String) -> String? {
        let scalars = Array(message.unicodeScalars)
        func isOptionScalar(_ c: Unicode.Scalar) -> Bool {
            c == "-" || ("A"..."Z").contains(c) || ("a"..."z").contains(c) || ("0"..."9").contains(c)
        }
        for start in scalars.indices where scalars[start] == "'" && start + 2 < scalars.count && scalars[start + 1] == "-"
            && isOptionScalar(scalars[start + 2]) {
            var end = start + 2
            while end < scalars.count, isOptionScalar(scalars[end]) { end += 1 }
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars[(start + 1)..<end])
            return String(text)
        }
        return nil
    }

    /// `--isolate processes`: one child process per point (`jobs` at once), each with one BLAS thread.
    func runProcesses(_ points: [SweepPoint], grid: SweepSpec, executable: String, bar: inout SweepProgressBar) throws -> [(SweepPoint, Int32)] {
        var pending = points
        var running: [(ChildProcess, SweepPoint)] = []
        var exits: [(SweepPoint, Int32)] = []
        var done = 0, failures = 0
        let start = Date()
        while !pending.isEmpty || !running.isEmpty {
            if Terminal.interrupted {
                for (process, _) in running { kill(process.processIdentifier, SIGINT) }
                for (process, _) in running { process.waitUntilExit() }
                running.removeAll()
                break
            }
            while running.count < jobs, !pending.isEmpty {
                let point = pending.removeFirst()
                let log = Self.logPath(of: point, in: outputDirectory)
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                // Output and errors both to the log (to /dev/null if it cannot be opened, as before).
                var handle = open(log, O_WRONLY | O_CLOEXEC)
                if handle < 0 { handle = open("/dev/null", O_WRONLY | O_CLOEXEC) }
                defer { if handle >= 0 { close(handle) } }
                let output: ChildProcess.Redirection = handle >= 0 ? .descriptor(handle) : .inherit
                // Children run with one BLAS thread: cap OpenBLAS' pool before it starts, so that no idle
                // worker spins beside the other runs. They end (interrupted, resumable) if this process is killed.
                let process = try ChildProcess(
                    executable: executable, arguments: Self.childArguments(of: point, grid: grid, in: outputDirectory),
                    environment: ProcessInfo.processInfo.environment.merging(["OPENBLAS_NUM_THREADS": "1", "GRADFLOW_SWEEP_PARENT": "\(getpid())"]) { _, new in new },
                    standardOutput: output, standardError: output)
                running.append((process, point))
            }
            running.removeAll { process, point in
                guard !process.isRunning else { return false }
                done += 1
                var status = process.terminationStatus
                if process.wasSignaled {
                    // Killed (the OOM killer, a kill -9): the process wrote nothing about it, so its log says so here,
                    // and its exit code is the shell's 128 + N (a bare N would read as an exit code: 2 as bad input).
                    let line = Terminal.capturing {
                        Terminal.error("the run's process was ended by signal \(status) (\(String(cString: strsignal(status))))")
                    }
                    Self.writeToLog(of: point, in: outputDirectory, line, appending: true)
                    status = 128 + status
                }
                if status != 0 { failures += 1 }
                exits.append((point, status))
                return true
            }
            bar.show(done: done, failures: failures, running: running.count, elapsed: Date().timeIntervalSince(start),
                     last: pending.isEmpty && running.isEmpty)
            usleep(20_000)
        }
        return exits
    }

    /// The `gradflow` arguments of a point's own process: a flow or descent run that a killed sweep left as its
    /// partial file is continued, not started again (a central-flow run cannot be resumed).
    static func childArguments(of point: SweepPoint, grid: SweepSpec, in directory: String) -> [String] {
        let partial = path(of: point, in: directory) + OutputFile.partialSuffix
        if point.method == "flow" || point.method == "descent", FileManager.default.fileExists(atPath: partial) {
            return ["run", "--resume", partial, "--quiet"]
        }
        return arguments(of: point, output: path(of: point, in: directory), extra: extraArguments(of: point, grid: grid))
    }

    /// `--isolate threads`: every point on `jobs` worker threads of this process (`InProcessSweep`), each run with
    /// the configuration its command line would have (`configuration(of:grid:templates:)`), recording that command
    /// line, and writing to its log what its process would have printed. A point whose options its run would
    /// refuse fails as its process would (exit code 2, the message in its log) without starting.
    /// Each run's summary row is read from its file by its thread as soon as it ends (into `rows`), beside the
    /// other threads' runs rather than all at the end.
    func runThreads(_ points: [SweepPoint], grid: SweepSpec, executable: String, bar: inout SweepProgressBar,
                    rows: SweepRowStore) throws -> [(SweepPoint, Int32)] {
        let directory = outputDirectory
        var templates: [String: ParsableCommand] = [:]
        var sweepJobs: [SweepJob] = []
        var refused: [(SweepPoint, Int32)] = []
        for point in points {
            let commandLine = Terminal.quoted([executable] + Self.childArguments(of: point, grid: grid, in: directory))
            let partial = Self.path(of: point, in: directory) + OutputFile.partialSuffix
            if point.method == "flow" || point.method == "descent", FileManager.default.fileExists(atPath: partial) {
                let work: SweepJob.Work = point.method == "flow" ? .resumeFlow(partial: partial) : .resumeDescent(partial: partial)
                sweepJobs.append(SweepJob(point: point, work: work, commandLine: commandLine))
                continue
            }
            do {
                guard var config = try configuration(of: point, grid: grid, templates: &templates) else { continue }
                config.outputPath = Self.path(of: point, in: directory)
                let work: SweepJob.Work = point.method == "descent" ? .descent(config) : point.method == "central" ? .central(config) : .flow(config)
                sweepJobs.append(SweepJob(point: point, work: work, commandLine: commandLine))
            } catch {
                refused.append((point, Self.writeLog(of: point, .failed(error), in: directory)))
            }
        }
        let results = InProcessSweep.run(
            sweepJobs, workers: jobs, shouldStop: { Terminal.interrupted },
            progress: { p in
                bar.show(done: refused.count + p.done, failures: refused.count + p.notClean, running: p.running, elapsed: p.elapsed,
                         last: p.running == 0 && p.done == sweepJobs.count)
            },
            completed: { job, result in
                Self.writeLog(of: job.point, result, in: directory)
                let row = SweepRow.read(job.point, file: Self.path(of: job.point, in: directory))
                rows.rows.withLock { $0[job.point.index] = row }
            })
        return refused + zip(sweepJobs, results).compactMap { job, outcome in outcome.map { (job.point, Self.exitCode(of: $0)) } }
    }

    /// The exit code a point's own process would have ended with.
    static func exitCode(of outcome: SweepJobOutcome) -> Int32 {
        switch outcome {
        case .completed: return 0
        case .diverged: return 1
        case let .failed(error): return Main.failure(error).code
        }
    }

    /// Writes a point's log as its process would have printed it (the closing summary; the error line of a failure)
    /// and returns that process's exit code.
    @discardableResult
    static func writeLog(of point: SweepPoint, _ result: SweepJobResult, in directory: String) -> Int32 {
        let text = Terminal.capturing {
            switch result {
            case let .flow(summary):
                RunSummaryPrinter.print(summary, config: summary.configuration)
            case let .central(summary):
                RunSummaryPrinter.print(summary, config: summary.configuration)
            case let .descent(summary):
                _ = try? DescentCommand.printSummary(summary, lossTolerance: summary.configuration.lossTolerance)  // prints its error line
            case let .failed(error):
                if let message = Main.failure(error).message { Terminal.error(message) }
            }
        }
        writeToLog(of: point, in: directory, text, appending: false)
        return exitCode(of: SweepJobOutcome(result))
    }

    /// Writes `text` as a point's log, or appends it. Plain writes, as a process's stdout would be
    /// (Data.write(to:) would fsync every log).
    static func writeToLog(of point: SweepPoint, in directory: String, _ text: String, appending: Bool) {
        let descriptor = open(logPath(of: point, in: directory), O_WRONLY | O_CREAT | O_CLOEXEC | (appending ? O_APPEND : O_TRUNC), 0o644)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else { break }
            bytes = bytes.dropFirst(written)
        }
    }
}

/// The summary rows that a sweep's threads read, by point index.
final class SweepRowStore: Sendable {
    let rows = Mutex<[Int: SweepRow]>([:])
}

/// How a sweep runs its points: on threads of its process (the default), or one process per point (as before).
enum SweepIsolation: String, ExpressibleByArgument, CaseIterable {
    case threads, processes
}

/// The sweep's progress bar on stderr: at most every half second, and once at the end.
struct SweepProgressBar {
    let quiet: Bool
    let total: Int
    private var lastBar = Date.distantPast
    private var ended = false

    init(quiet: Bool, total: Int) {
        self.quiet = quiet
        self.total = total
    }

    mutating func show(done: Int, failures: Int, running: Int, elapsed: Double, last: Bool) {
        guard !quiet, !ended, Date().timeIntervalSince(lastBar) >= 0.5 || last else { return }
        lastBar = Date()
        ended = last
        let left = done > 0 ? elapsed / Double(done) * Double(total - done) : .nan
        let width = 30, filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = "[\(bar)] \(done)/\(total) runs, \(failures) not clean, \(running) running, \(Int(elapsed)) s"
            + (left.isFinite ? ", ~\(Int(left)) s left" : "")
        Terminal.write(Terminal.stderrIsTerminal ? "\r\u{1B}[K" + line : line + "\n", toError: true)
    }
}

/// `gradflow merge`: join the summary tables of a sharded sweep.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the summary tables of a sharded sweep (CSV) into one table, CSV and HDF5.",
        discussion: """
            The tables must be the shards of one sweep, summary-shard-i-of-N.csv for one N, each once: tables of \
            different N, a shard or a point given twice, a point in the wrong shard and missing shards are refused \
            (exit 2); --allow-missing merges without the missing ones, with a warning.
            """)

    @Argument(help: "The shards' summary-shard-*.csv files.")
    var tables: [String]

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The merged table (CSV; an HDF5 copy is written beside it).", valueName: "file"))
    var output: String = "summary.csv"

    @Flag(name: .customLong("allow-missing"), help: "Merge even when some shards' tables are missing (with a warning); without it, missing shards are refused.")
    var allowMissing = false

    func run() throws {
        guard !tables.isEmpty else { throw UsageError(option: "merge", value: "(none)", reason: "give the shards' tables") }
        // Before anything is read: the merged table (and its HDF5 copy) must not be one of the tables.
        let inputs = tables.map { OutputFile.Input($0, role: "a table being merged") }
        try OutputFile.checkTarget(output, overwrite: true, inputs: inputs)
        try OutputFile.checkTarget((output.hasSuffix(".csv") ? String(output.dropLast(4)) : output) + ".h5", overwrite: true, inputs: inputs)
        let parsed = try tables.map { path -> [SweepRow] in
            let text = try InputFile.text(path)  // a FIFO or a device is refused before it is opened
            return try SweepTable.parse(text, source: path)
        }
        // The shards of one sweep, each once, no point twice, none missing (unless --allow-missing).
        for warning in try SweepShards.check(Array(zip(tables, parsed)).map { (path: $0.0, rows: $0.1) }, allowMissing: allowMissing) {
            Terminal.write("gradflow: warning: \(warning)\n", toError: true)
        }
        let merged = SweepTable.merge(parsed)
        try SweepTable.write(merged, csvPath: output, inputs: inputs)
        Terminal.print("merged \(tables.count) tables: \(merged.count) rows → \(output)")
    }
}
