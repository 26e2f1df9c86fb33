/// What `gradflow sweep` runs: a grid over method, initialisation, scale, learning rate, depth, hidden
/// width and seed (a JSON spec file, or the command's options), expanded in that fixed order.
public struct SweepSpec: Sendable, Codable, Equatable {
    /// `flow` (`gradflow run`) and/or `descent` (`gradflow descent`).
    public var methods: [String]
    /// `gaussian` and/or `residual`.
    public var initializations: [String]
    public var initScales: [Double]
    /// Learning rates (descent points only; flow points ignore them).
    public var learningRates: [Double]
    public var depths: [Int]
    /// Hidden widths (empty: the default, d).
    public var widths: [Int]
    public var seeds: [UInt64]
    /// Further arguments given to every run (for example `--monitors pl,sharpness`).
    public var arguments: [String]
    /// Further arguments for the flow runs only (for example `--t-final 1e5`).
    public var flowArguments: [String]
    /// Further arguments for the descent runs only (for example `--steps 20000`).
    public var descentArguments: [String]
    /// The model of every run: `linear` or `gelu`.
    public var model: NetworkModel

    public init(methods: [String] = ["flow"], initializations: [String] = ["gaussian"], initScales: [Double] = [0.1],
                learningRates: [Double] = [], depths: [Int] = [10], widths: [Int] = [], seeds: [UInt64] = [20240521],
                arguments: [String] = [], flowArguments: [String] = [], descentArguments: [String] = [], model: NetworkModel = .linear) {
        self.model = model
        self.methods = methods
        self.initializations = initializations
        self.initScales = initScales
        self.learningRates = learningRates
        self.depths = depths
        self.widths = widths
        self.seeds = seeds
        self.arguments = arguments
        self.flowArguments = flowArguments
        self.descentArguments = descentArguments
    }

    enum CodingKeys: String, CodingKey {
        case methods, initializations, initScales, learningRates, depths, widths, seeds, arguments, flowArguments, descentArguments, model
    }

    /// Decodes a spec in which every key is optional (the defaults above fill the rest).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SweepSpec()
        self.init(methods: try c.decodeIfPresent([String].self, forKey: .methods) ?? d.methods,
                  initializations: try c.decodeIfPresent([String].self, forKey: .initializations) ?? d.initializations,
                  initScales: try c.decodeIfPresent([Double].self, forKey: .initScales) ?? d.initScales,
                  learningRates: try c.decodeIfPresent([Double].self, forKey: .learningRates) ?? d.learningRates,
                  depths: try c.decodeIfPresent([Int].self, forKey: .depths) ?? d.depths,
                  widths: try c.decodeIfPresent([Int].self, forKey: .widths) ?? d.widths,
                  seeds: try c.decodeIfPresent([UInt64].self, forKey: .seeds) ?? d.seeds,
                  arguments: try c.decodeIfPresent([String].self, forKey: .arguments) ?? [],
                  flowArguments: try c.decodeIfPresent([String].self, forKey: .flowArguments) ?? [],
                  descentArguments: try c.decodeIfPresent([String].self, forKey: .descentArguments) ?? [],
                  model: try c.decodeIfPresent(NetworkModel.self, forKey: .model) ?? .linear)
    }

    /// The extra arguments of one point: the model (when not linear), the common ones, then its method's.
    public func extraArguments(for point: SweepPoint) -> [String] {
        (model == .linear ? [] : ["--model", model.rawValue]) + arguments + (point.method == "descent" ? descentArguments : flowArguments)
    }

    public func validate() throws {
        for method in methods where !["flow", "descent"].contains(method) {
            throw GradFlowError.invalidArgument(option: "--methods", value: method, reason: "must be flow or descent")
        }
        for kind in initializations where !["gaussian", "residual"].contains(kind) {
            throw GradFlowError.invalidArgument(option: "--inits", value: kind, reason: "must be gaussian or residual")
        }
        if methods.contains("descent") && learningRates.isEmpty {
            throw GradFlowError.invalidArgument(option: "--lrs", value: "(none)", reason: "descent points need learning rates")
        }
        for (option, list) in [("--methods", methods.count), ("--inits", initializations.count), ("--init-scales", initScales.count),
                               ("--depths", depths.count), ("--seeds", seeds.count)] where list == 0 {
            throw GradFlowError.invalidArgument(option: option, value: "(empty)", reason: "needs at least one value")
        }
        if let s = initScales.first(where: { !($0.isFinite && $0 >= 0) }) {
            throw GradFlowError.invalidArgument(option: "--init-scales", value: "\(s)", reason: "must be finite and ≥ 0")
        }
        if let eta = learningRates.first(where: { !($0.isFinite && $0 > 0) }) {
            throw GradFlowError.invalidArgument(option: "--lrs", value: "\(eta)", reason: "must be finite and > 0")
        }
        if let depth = depths.first(where: { $0 < 1 }) {
            throw GradFlowError.invalidArgument(option: "--depths", value: "\(depth)", reason: "must be at least 1")
        }
        if let width = widths.first(where: { $0 < 1 }) {
            throw GradFlowError.invalidArgument(option: "--widths", value: "\(width)", reason: "must be at least 1")
        }
    }

    /// Every grid point, numbered from 0 in the fixed expansion order.
    public func points() throws -> [SweepPoint] {
        try validate()
        var points: [SweepPoint] = []
        for method in methods {
            for kind in initializations {
                for scale in initScales {
                    for eta in method == "descent" ? learningRates.map(Optional.some) : [nil] {
                        for depth in depths {
                            for width in widths.isEmpty ? [nil] : widths.map(Optional.some) {
                                for seed in seeds {
                                    points.append(SweepPoint(index: points.count, method: method, initialization: kind, initScale: scale,
                                                             learningRate: eta, depth: depth, width: width, seed: seed))
                                }
                            }
                        }
                    }
                }
            }
        }
        return points
    }
}

/// One run of a sweep.
public struct SweepPoint: Sendable, Codable, Equatable {
    public var index: Int
    public var method: String
    public var initialization: String
    public var initScale: Double
    public var learningRate: Double?
    public var depth: Int
    public var width: Int?
    public var seed: UInt64

    public init(index: Int, method: String, initialization: String, initScale: Double, learningRate: Double?, depth: Int,
                width: Int?, seed: UInt64) {
        self.index = index
        self.method = method
        self.initialization = initialization
        self.initScale = initScale
        self.learningRate = learningRate
        self.depth = depth
        self.width = width
        self.seed = seed
    }

    /// The run's trajectory file name, `run-00042.h5`.
    public var fileName: String {
        let digits = String(index)
        return "run-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".h5"
    }

    /// The `gradflow` arguments of this run (the subcommand first).
    public func commandArguments(output: String, extra: [String]) -> [String] {
        var arguments = [method == "descent" ? "descent" : "run", "--init", initialization, "--init-scale", "\(initScale)",
                         "--depth", "\(depth)", "--seed", "\(seed)"]
        if let eta = learningRate { arguments += ["--lr", "\(eta)"] }
        if let width { arguments += ["--widths", "\(width)"] }
        return arguments + extra + ["--output", output, "--force", "--quiet", "--threads", "1"]
    }

    /// The points of shard `shard` (0-based) of `count`: every point whose index is `shard` modulo `count`.
    public static func shard(_ points: [SweepPoint], _ shard: Int, of count: Int) throws -> [SweepPoint] {
        guard count >= 1, (0..<count).contains(shard) else {
            throw GradFlowError.invalidArgument(option: "--shard", value: "\(shard + 1)/\(count)", reason: "must be i/N with 1 ≤ i ≤ N")
        }
        return points.filter { $0.index % count == shard }
    }
}
