import FoundationEssentials

/// What `gradflow sweep` runs: a grid over method, initialisation, scale, scale exponent, learning rate, depth,
/// hidden width and seed (a JSON spec file, or the command's options), expanded in that fixed order.
public struct SweepSpec: Sendable, Codable, Equatable {
    /// `flow` (`gradflow run`), `descent` (`gradflow descent`) and/or `central` (`gradflow run --central-lr η
    /// --allow-catapult`: the central flow at each learning rate, MATH.md §11).
    public var methods: [String]
    /// `gaussian` and/or `residual`.
    public var initializations: [String]
    public var initScales: [Double]
    /// Exponents α of a width-dependent scale s = c·h^{−α} (MATH.md §10.4–10.5), c the point's scale and h its
    /// hidden width (the point's width, or the run's default d); empty: none, s = c.
    public var scaleExponents: [Double]
    /// Learning rates (descent points only; flow points ignore them).
    public var learningRates: [Double]
    public var depths: [Int]
    /// Hidden widths (empty: the default, d).
    public var widths: [Int]
    public var seeds: [UInt64]
    /// Further arguments given to every run, in the front end's language (the executable's options); the
    /// library keeps them for the front end and does not read them.
    public var arguments: [String]
    /// Further arguments for the flow runs only (as `arguments`).
    public var flowArguments: [String]
    /// Further arguments for the descent runs only (as `arguments`).
    public var descentArguments: [String]
    /// The model of every run: `linear` or `gelu`.
    public var model: NetworkModel

    public init(methods: [String] = ["flow"], initializations: [String] = ["gaussian"], initScales: [Double] = [0.1],
                learningRates: [Double] = [], depths: [Int] = [10], widths: [Int] = [], seeds: [UInt64] = [20240521],
                arguments: [String] = [], flowArguments: [String] = [], descentArguments: [String] = [], model: NetworkModel = .linear,
                scaleExponents: [Double] = []) {
        self.model = model
        self.scaleExponents = scaleExponents
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
        case methods, initializations, initScales, learningRates, depths, widths, seeds, arguments, flowArguments, descentArguments, model,
             scaleExponents
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
                  model: try c.decodeIfPresent(NetworkModel.self, forKey: .model) ?? .linear,
                  scaleExponents: try c.decodeIfPresent([Double].self, forKey: .scaleExponents) ?? [])
    }

    /// What each key of a spec file holds, for the messages.
    static let keyTypes: [(CodingKeys, String)] = [
        (.methods, "a list of strings (flow, descent, central)"), (.initializations, "a list of strings (gaussian, residual, balanced, spectral)"),
        (.initScales, "a list of numbers"), (.learningRates, "a list of numbers"), (.depths, "a list of integers"),
        (.widths, "a list of integers"), (.seeds, "a list of integers ≥ 0"), (.arguments, "a list of strings"),
        (.flowArguments, "a list of strings"), (.descentArguments, "a list of strings"), (.model, "\"linear\" or \"gelu\""),
        (.scaleExponents, "a list of numbers"),
    ]

    /// Reads a spec file (the JSON grid of a sweep), refusing a non-regular file, text that is not a JSON
    /// object, an unknown key (`FILE: spec: unknown key "depht" (known: methods, …)`) and a value of the wrong
    /// type, naming its key.
    public static func load(_ path: String) throws -> SweepSpec {
        let text = try InputFile.text(path)
        let data = Data(text.utf8)
        func fail(_ reason: String) -> GradFlowError { .invalidData(file: path, field: "spec", reason: reason) }
        // What the JSON reader does not say: a key given twice (it keeps one), and which key holds a number
        // that no 64-bit floating-point number holds (it refuses the whole text).
        if let entries = JSONKeyScanner.entries(text) {
            var seen = Set<String>()
            if let twice = entries.first(where: { !seen.insert($0.key).inserted }) {
                throw fail("key \"\(twice.key)\" is given twice (give each key once)")
            }
            for entry in entries {
                if let number = entry.numbers.first(where: { !(Double($0)?.isFinite ?? false) }) {
                    throw fail("key \"\(entry.key)\": \(number) is not a finite 64-bit floating-point number")
                }
            }
        }
        guard let dictionary = try? JSONDecoder().decode([String: JSONValue].self, from: data) else {
            throw fail("is not a JSON object (expected {\"depths\": [5, 10], …})")
        }
        let known = keyTypes.map(\.0.rawValue)
        if let unknown = dictionary.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail("unknown key \"\(unknown)\" (known: \(known.joined(separator: ", ")))")
        }
        if let (key, expected) = keyTypes.first(where: { dictionary[$0.0.rawValue] == .null }) {
            throw fail("key \"\(key.rawValue)\" must be \(expected), not null")
        }
        do { return try JSONDecoder().decode(SweepSpec.self, from: data) } catch {
            // Find the key (and the entry) whose value does not decode, one key at a time: the decoder's own
            // coding path is not always filled in (a number that does not fit an Int, say).
            func decodes(_ key: String, _ value: JSONValue) -> Bool {
                guard let one = try? JSONEncoder().encode([key: value]) else { return false }
                return (try? JSONDecoder().decode(SweepSpec.self, from: one)) != nil
            }
            for (key, expected) in keyTypes.map({ ($0.0.rawValue, $0.1) }) {
                guard let value = dictionary[key], !decodes(key, value) else { continue }
                var entry: Int?
                if case let .array(items) = value { entry = items.indices.first { !decodes(key, .array([items[$0]])) } }
                throw fail("key \"\(key)\" must be \(expected)" + (entry.map { " (entry \($0 + 1) is not)" } ?? ""))
            }
            throw fail("is not a sweep specification")
        }
    }

    /// The extra arguments of one point, in the front end's language: the common ones, then its method's.
    public func extraArguments(for point: SweepPoint) -> [String] {
        arguments + (point.method == "descent" ? descentArguments : flowArguments)
    }

    /// - Parameter source: the spec file the grid was read from: errors then name its key
    ///   (`FILE: spec: depths: 0 must be at least 1`); without it they name the field (`sweep.depths`).
    public func validate(source: String? = nil) throws {
        func fail(_ field: ConfigurationField, _ value: String, _ reason: String) -> GradFlowError {
            guard let source else { return .invalidConfiguration(field: field, value: "\(value)", reason: "\(reason)") }
            return .invalidData(file: source, field: "spec", reason: "\(field.key): \(value) \(reason)")
        }
        for method in methods where !["flow", "descent", "central"].contains(method) {
            throw fail(.sweepMethods, method, "must be flow, descent or central")
        }
        for kind in initializations where !["gaussian", "residual", "balanced", "spectral"].contains(kind) {
            throw fail(.sweepInitializations, kind, "must be gaussian, residual, balanced or spectral")
        }
        if let method = methods.first(where: { $0 != "flow" }), learningRates.isEmpty {
            throw fail(.sweepLearningRates, "(none)", "\(method) points need learning rates")
        }
        for (field, list) in [(ConfigurationField.sweepMethods, methods.count), (.sweepInitializations, initializations.count),
                              (.sweepInitScales, initScales.count), (.sweepDepths, depths.count), (.sweepSeeds, seeds.count)] where list == 0 {
            throw fail(field, "(empty)", "needs at least one value")
        }
        if let s = initScales.first(where: { !($0.isFinite && $0 >= 0) }) {
            throw fail(.sweepInitScales, "\(s)", "must be finite and ≥ 0")
        }
        if let alpha = scaleExponents.first(where: { !$0.isFinite }) {
            throw fail(.sweepScaleExponents, "\(alpha)", "must be a finite number")
        }
        if let eta = learningRates.first(where: { !($0.isFinite && $0 > 0) }) {
            throw fail(.sweepLearningRates, "\(eta)", "must be finite and > 0")
        }
        if let depth = depths.first(where: { $0 < 1 }) {
            throw fail(.sweepDepths, "\(depth)", "must be at least 1")
        }
        if let width = widths.first(where: { $0 < 1 }) {
            throw fail(.sweepWidths, "\(width)", "must be at least 1")
        }
        // The grid's size, before it is expanded (a product of list lengths can be any size).
        let lengths = [methods.count, initializations.count, initScales.count, max(scaleExponents.count, 1), max(learningRates.count, 1),
                       depths.count, max(widths.count, 1), seeds.count]
        var count = 1
        for length in lengths {
            let (product, overflow) = count.multipliedReportingOverflow(by: length)
            guard !overflow, product <= Self.maximumPoints else {
                let grid = lengths.map(String.init).joined(separator: "×")
                let reason = "the grid (\(grid) values of methods, inits, scales, scale exponents, learning rates, depths, widths, seeds) has more than \(Self.maximumPoints) points"
                if let source { throw GradFlowError.invalidData(file: source, field: "spec", reason: reason) }
                throw GradFlowError.invalidRequest(subject: "sweep", value: "grid", reason: "\(reason)")
            }
            count = product
        }
    }

    /// The most points a grid may have (each is a process, a trajectory file and a log).
    public static let maximumPoints = 10_000_000

    /// Every grid point, numbered from 0 in the fixed expansion order.
    public func points(source: String? = nil) throws -> [SweepPoint] {
        try validate(source: source)
        var points: [SweepPoint] = []
        for method in methods {
            for kind in initializations {
                for scale in initScales {
                    for alpha in scaleExponents.isEmpty ? [nil] : scaleExponents.map(Optional.some) {
                        for eta in method != "flow" ? learningRates.map(Optional.some) : [nil] {
                            for depth in depths {
                                for width in widths.isEmpty ? [nil] : widths.map(Optional.some) {
                                    for seed in seeds {
                                        points.append(SweepPoint(index: points.count, method: method, initialization: kind, initScale: scale,
                                                                 learningRate: eta, depth: depth, width: width, seed: seed, scaleExponent: alpha))
                                    }
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
    /// The exponent α of a width-dependent scale: the run draws with s = `initScale`·h^{−α}, h its first hidden
    /// width; nil: s = `initScale`.
    public var scaleExponent: Double?

    public init(index: Int, method: String, initialization: String, initScale: Double, learningRate: Double?, depth: Int,
                width: Int?, seed: UInt64, scaleExponent: Double? = nil) {
        self.scaleExponent = scaleExponent
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

    /// The values of a point that `configuration(from:keeping:)` sets.
    public enum Parameter: Hashable, Sendable, CaseIterable {
        case initialization, initScale, scaleExponent, learningRate, depth, width, seed
    }

    /// The scale the run draws with, s = c·h^{−α} for a hidden width h (c without an exponent); NaN when the
    /// point has an exponent and `hiddenWidth` is nil (the run's default width is not known here).
    public func effectiveInitScale(hiddenWidth: Int?) -> Double {
        guard let alpha = scaleExponent else { return initScale }
        guard let h = hiddenWidth else { return .nan }
        return initScale * WeightInitialization.widthFactor(hiddenWidth: h, exponent: alpha)
    }

    /// The configuration of this run: `base` with the point's values set, except those in `keeping` (which a
    /// caller took from elsewhere, and which stay as `base` has them). The initialisation becomes the point's
    /// kind with its scale (a Gaussian one keeps `base`'s zero layer when `base` is Gaussian); the depth, the
    /// seed (of the data and of the weights) and, when the point has one, the hidden width are the point's, and
    /// so is the scale exponent (none: `base`'s is cleared, s = c).
    /// A descent point sets the learning rate η and keeps `base`'s step count K (the horizon becomes K·η); a
    /// flow point ignores it.
    public func configuration(from base: RunConfiguration, keeping: Set<Parameter> = []) -> RunConfiguration {
        var config = base
        let kind = keeping.contains(.initialization) ? base.initialization.name : initialization
        let scale = keeping.contains(.initScale) ? base.initialization.scale : initScale
        if !(keeping.contains(.initialization) && keeping.contains(.initScale)) {
            switch kind {
            case "residual": config.initialization = .residual(scale: scale)
            case "balanced": config.initialization = .balanced(scale: scale)
            case "spectral": config.initialization = .spectral(strengths: [scale])  // the scale is the initial mode strength
            case "gaussian":
                var zeroLayer: Int?
                if case let .gaussian(_, layer) = base.initialization { zeroLayer = layer }
                config.initialization = .gaussian(scale: scale, zeroLayer: zeroLayer)
            default: break  // weights from a file: nothing is drawn
            }
        }
        if !keeping.contains(.scaleExponent) { config.scaleExponent = scaleExponent }
        if !keeping.contains(.depth) { config.depth = depth }
        if !keeping.contains(.width), let width { config.widths = [width] }
        if !keeping.contains(.seed) {
            config.seed = seed
            config.synthetic.seed = seed
        }
        if !keeping.contains(.learningRate), method == "descent", let eta = learningRate, var descent = config.descent {
            descent.learningRate = eta
            config.descent = descent
            config.schedule.tFinal = max(Double(descent.steps) * eta, .leastNormalMagnitude)
        }
        // A central point: the central flow at η (MATH.md §11), started even above 2/η (its rows then say so).
        if !keeping.contains(.learningRate), method == "central", let eta = learningRate {
            config.central = CentralFlowSettings(learningRate: eta, allowCatapult: true,
                                                 gapTolerance: config.central?.gapTolerance ?? CentralFlowSettings.defaultGapTolerance)
        }
        return config
    }

    /// The points of shard `shard` (0-based) of `count`: every point whose index is `shard` modulo `count`.
    public static func shard(_ points: [SweepPoint], _ shard: Int, of count: Int) throws -> [SweepPoint] {
        guard count >= 1, (0..<count).contains(shard) else {
            throw GradFlowError.invalidConfiguration(field: .sweepShard, value: "\(shard + 1)/\(count)", reason: "must be i/N with 1 ≤ i ≤ N")
        }
        return points.filter { $0.index % count == shard }
    }
}
