import ArgumentParser
import GradFlow

/// `gradflow critical-lr`: the largest learning rate at which gradient descent converges, per depth.
struct CriticalLRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "critical-lr",
        abstract: "Find, per depth and seed, the largest learning rate at which gradient descent converges.",
        discussion: """
            Bisection on a log scale between a converging and a failing η, started from the prediction \
            η_crit = 2/S_min ∈ [2/upper, 2/lower] of MATH.md §4.7, which the table shows beside the result. \
            A trial converges when R − R_min ≤ --loss-tol within --steps steps. The default is the paper's \
            residual setting: d = 5, --init residual, --init-scale 0.25, depths 5, 10, 20, 40, where η_crit·L \
            is roughly constant. Results go to an HDF5 file (-o, default critical-lr.h5).

            Example: gradflow critical-lr --depths 5,10,20 --seeds 1,2
            """
    )

    @OptionGroup(title: "Problem") var problem: ProblemOptions
    @OptionGroup(title: "Network") var network: NetworkOptions

    @Option(help: ArgumentHelp("Depths to scan, comma-separated.", valueName: "list"))
    var depths: String = "5,10,20,40"

    @Option(help: ArgumentHelp("Seeds to scan, comma-separated (default: --seed).", valueName: "list"))
    var seeds: String?

    @Option(name: .customLong("bisection-steps"), parsing: .unconditional, help: "Bisection steps once the threshold is bracketed.")
    var bisectionSteps: Int = 10

    @Option(parsing: .unconditional, help: "Most gradient-descent steps per trial.")
    var steps: Int = 20_000

    @Option(name: .customLong("loss-tol"), parsing: .unconditional, help: "A trial converges when R − R_min reaches this.")
    var lossTol: Double = 1e-8

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The results file (HDF5).", valueName: "file"))
    var output: String = "critical-lr.h5"

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    static func integers(_ text: String, option: String) throws -> [Int] {
        try text.split(separator: ",").map { part in
            guard let value = Int(part.trimmingWhitespace()), value >= 1 else {
                throw UsageError(option: option, value: text, reason: "\"\(part)\" is not a positive integer")
            }
            return value
        }
    }

    /// A library error as critical-lr's user reads it: the library names a run's depth and seed, which this
    /// user typed as --depths and --seeds (the depth also inside a memory message).
    static func renamed(_ error: GradFlowError, seedsGiven: Bool) -> any Error {
        switch error {
        case let .invalidConfiguration(field, _, _):
            guard field == .depth || (field == .seed && seedsGiven) else { return error }
            return UsageError(message: OptionNames.message(error, head: { $0 == .depth ? "--depths" : $0 == .seed ? "--seeds" : OptionNames.flag($0) }))
        case .invalidRequest(subject: "memory", _, _):
            return UsageError(message: OptionNames.message(error, text: { $0 == .depth ? "--depths" : OptionNames.flag($0) }))
        default: return error
        }
    }

    /// The checks of the options alone, before anything is computed or written.
    func checkOptions() throws -> (depths: [Int], seeds: [UInt64], settings: CriticalLearningRateSettings) {
        let depthList = try Self.integers(depths, option: "--depths")
        let seedList = try seeds.map { try Self.integers($0, option: "--seeds").map(UInt64.init) } ?? [problem.seed]
        let settings = CriticalLearningRateSettings(bisectionSteps: bisectionSteps, steps: steps, lossTolerance: lossTol)
        try settings.validate()
        try network.checkZeroLayer(default: .residual)
        if let alpha = network.scaleExponent, !alpha.isFinite {
            throw GradFlowError.invalidConfiguration(field: .scaleExponent, value: "\(alpha)", reason: "must be a finite number")
        }
        guard network.model == .linear else {
            throw GradFlowError.invalidConfiguration(field: .model, value: "\(network.model.rawValue)",
                                                     reason: "critical-lr brackets the prediction of MATH.md §4.7, which is for scalar-output linear networks")
        }
        return (depthList, seedList, settings)
    }

    /// Refuses bad options before `run()` (nothing is written).
    func validate() throws {
        try ValidationFailure.checking { _ = try checkOptions() }
    }

    func run() throws {
        let (depthList, seedList, settings) = try checkOptions()
        let inputs = [problem.dataFile.map { OutputFile.Input($0, role: "the data file") },
                      network.initWeights.map { OutputFile.Input($0, role: "the initial-weights file") }].compactMap { $0 }
        try OutputFile.checkTarget(output, overwrite: force, inputs: inputs)
        let initialization = try network.initialization(default: .residual)
        let g = RunSummaryPrinter.g
        var results: [CriticalLearningRateResult] = []
        Terminal.print("GradFlow \(GradFlowVersion.string): critical learning rate of gradient descent, \(initialization.name) initialisation s = \(g(initialization.scale, 4))")
        let header = ["L", "seed", "η_crit (bracket)", "2/S_min interval", "η_crit·L", "S at η_crit", "2/η_crit", "trials"]
        let widths = [5, 10, 22, 22, 10, 12, 10, 6]
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padded(toLength: $1) }.joined(separator: " ")
        }
        Terminal.print("  " + line(header))
        for depth in depthList {
            for seed in seedList {
                var synthetic = problem.synthetic(model: network.model)
                synthetic.seed = seed
                var config = RunConfiguration(
                    dataFile: problem.dataFile, synthetic: synthetic,
                    seed: seed, model: network.model, depth: depth, widths: try network.widthList(), initialization: initialization,
                    initWeightsFile: network.initWeights, initWeightsSnapshot: network.initFrom, outputPath: output, overwrite: force,
                    scaleExponent: network.scaleExponent)
                config.lossTolerance = lossTol
                let r: CriticalLearningRateResult
                do { r = try CriticalLearningRate.find(config, settings: settings) } catch let error as GradFlowError {
                    throw Self.renamed(error, seedsGiven: seeds != nil)
                }
                results.append(r)
                Terminal.print("  " + line([String(depth), String(seed), "[\(g(r.converging, 5)), \(g(r.failing, 5))]",
                                            "[\(g(r.predictionLower, 4)), \(g(r.predictionUpper, 4))]", g(r.estimate * Double(depth), 4),
                                            g(r.sharpnessAtConverging, 5), g(2 / r.estimate, 5), String(r.trials)]))
            }
        }
        try CriticalLearningRate.write(results, to: output, overwrite: force, settings: settings, commandLine: Terminal.commandLine,
                                       inputs: inputs)
        Terminal.print("  output    \(output) (\(results.count) rows)")
    }
}
