/// A run's problem, network and initial weights, resolved from a `RunConfiguration` and validated
/// before any output file is created (bad input loses nothing).
public struct RunSetup: Sendable {
    public var problem: RegressionProblem
    public var network: Network
    public var initialWeights: [Double]
    /// The initialisation, as recorded in `/network` (`init`, `init_scale`).
    public var initialization: WeightInitialization

    /// Resolves and validates everything: data (synthetic or file), widths, projection, W(0), and the
    /// output path (its folder exists; the file does not, unless overwriting).
    /// Also refuses, before any weight is drawn, a configuration that would not fit in memory
    /// (`MemoryEstimate`; from the options alone in `validate`, before any data are drawn);
    /// `storedWeightRows` counts extra copies of the weights the caller keeps.
    public static func prepare(_ config: RunConfiguration, checkOutput: Bool = true, storedWeightRows: Int = 0) throws -> RunSetup {
        try config.validate()
        // Without listing the folder: the claim that follows the set-up lists it once, for both of its checks.
        if checkOutput {
            try OutputFile.checkTarget(config.outputPath, overwrite: config.overwrite, inputs: config.inputFiles, scanningTemporaries: false)
        }

        var dataProjection: [Double]?
        let problem: RegressionProblem
        if let path = config.dataFile {
            let data = try DataFile.load(path)
            problem = try data.makeProblem(source: path)
            dataProjection = data.projection
        } else {
            var synthetic = config.synthetic
            synthetic.seed = config.seed
            problem = try synthetic.makeProblem()
        }
        let d = problem.dimension, q = problem.outputCount
        try MemoryEstimate.checkPlan(config, samples: problem.sampleCount, dimension: d, outputs: q, testSamples: problem.test?.count ?? 0,
                                     storedWeightRows: storedWeightRows, dataSource: config.dataFile)  // before any widths are built
        if config.model == .gelu { dataProjection = nil }  // a GELU network has no projection: a p in the data is for linear ones
        // Without a projection (multivariate output, GELU) the last layer has one row per output.
        let needsProjection = Network.takesProjection(model: config.model, outputCount: q)

        if let path = config.initWeightsFile {
            let file = try InitialWeightsFile.load(path, snapshot: config.initWeightsSnapshot)
            guard file.widths[0] == d else {
                throw GradFlowError.invalidData(file: path, field: "W1",
                                                reason: "has \(file.widths[0]) columns but the data have d = \(d) features")
            }
            if let depth = config.depth, depth != file.widths.count - 1 {
                throw GradFlowError.invalidConfiguration(field: .depth, value: "\(depth)",
                                                    reason: "\(path) holds a network of depth \(file.widths.count - 1)")
            }
            let shape = try NetworkShape(widths: file.widths, file: path, field: "W1 … W\(file.widths.count - 1)")
            try MemoryEstimate.check(config, parameters: shape.parameterCount, samples: problem.sampleCount, dimension: d,
                                     storedWeightRows: storedWeightRows, widths: shape.widths, testSamples: problem.test?.count ?? 0)
            let squareResidual = shape.widths.allSatisfy { $0 == d } && shape.outputWidth == d && d > 1
            let kind = file.kind ?? (squareResidual ? .residual : .fullyConnected)
            if !needsProjection, shape.outputWidth != q {
                throw GradFlowError.invalidData(file: path, field: "W\(shape.depth)",
                                                reason: "has \(shape.outputWidth) rows but the data have q = \(q) outputs")
            }
            let p = needsProjection
                ? try file.projection ?? dataProjection ?? defaultProjection(kind: kind, shape: shape, seed: config.seed, source: path) : nil
            let network = try fileNetwork(projectionFile: file.projection != nil ? path : config.dataFile, weightsFile: path) {
                try Network(shape: shape, kind: kind, model: config.model, projection: p)
            }
            try checkInitialLoss(network: network, problem: problem, weights: file.weights, initialization: .file(path: path))
            return RunSetup(problem: problem, network: network, initialWeights: file.weights, initialization: .file(path: path))
        }

        let depth = config.depth ?? RunConfiguration.defaultDepth
        let kind: NetworkKind
        if case .residual = config.initialization { kind = .residual } else { kind = .fullyConnected }
        let widths: [Int]
        switch kind {
        case .residual:
            widths = Array(repeating: d, count: depth + 1)
            if let given = config.widths, given.contains(where: { $0 != d }) {
                throw GradFlowError.invalidConfiguration(field: .widths, value: "\(given.map(String.init).joined(separator: ","))",
                                                    reason: "a residual network has all layers d×d (d = \(d))")
            }
            if !needsProjection, q != d {
                throw GradFlowError.invalidConfiguration(field: .initialization, value: "residual",
                                                    reason: "a residual network without projection needs q = d outputs (the data have q = \(q), d = \(d))")
            }
        case .fullyConnected:
            widths = try NetworkShape.widths(from: config.widths, depth: depth, inputDimension: d,
                                             outputWidth: needsProjection ? dataProjection?.count ?? 1 : q)
            if !needsProjection, widths[depth] != q {
                throw GradFlowError.invalidConfiguration(field: .widths, value: "\(widths.map(String.init).joined(separator: ","))",
                                                    reason: "the last width m_L must be the number of outputs q = \(q)")
            }
        }
        let shape = try NetworkShape(widths: widths)
        try MemoryEstimate.check(config, parameters: shape.parameterCount, samples: problem.sampleCount, dimension: d,
                                 storedWeightRows: storedWeightRows, widths: shape.widths, testSamples: problem.test?.count ?? 0)
        let p = needsProjection ? try dataProjection ?? defaultProjection(kind: kind, shape: shape, seed: config.seed, source: nil) : nil
        let network = try fileNetwork(projectionFile: dataProjection != nil ? config.dataFile : nil, weightsFile: nil) {
            try Network(shape: shape, kind: kind, model: config.model, projection: p)
        }
        let initialization = try effectiveInitialization(config, shape: shape)
        let theta = try initialization.draw(shape: shape, seed: config.seed, target: problem.minimumNormSolution)
        try checkInitialLoss(network: network, problem: problem, weights: theta, initialization: initialization)
        return RunSetup(problem: problem, network: network, initialWeights: theta, initialization: initialization)
    }

    /// The problem, network and initial weights stored in a trajectory file (to resume it, without
    /// depending on the original data file), with the initialisation recorded in its configuration.
    public static func fromTrajectory(_ path: String, configuration config: RunConfiguration) throws -> RunSetup {
        do { try config.validate() } catch let error as GradFlowError {
            // The configuration recorded in the file, named by its keys (not options the user typed).
            switch error {
            case .invalidConfiguration, .invalidRequest: throw GradFlowError.invalidData(file: path, field: "config", reason: error.description)
            default: throw error
            }
        }
        let data = try DataFile.load(path)
        let problem = try RegressionProblem(inputs: data.inputs, targets: data.targets, sampleCount: data.sampleCount,
                                            dimension: data.dimension, outputs: data.outputs, source: config.dataFile ?? "synthetic",
                                            seed: config.dataFile == nil ? config.seed : nil, test: data.test)
        let weights = try InitialWeightsFile.load(path, snapshot: .initial)
        let shape = try NetworkShape(widths: weights.widths, file: path, field: "/network/widths")
        let needsProjection = Network.takesProjection(model: config.model, outputCount: problem.outputCount)
        let network = try Network(shape: shape, kind: weights.kind ?? .fullyConnected, model: config.model,
                                  projection: needsProjection ? weights.projection ?? [1] : nil)
        let initialization = try config.initWeightsFile.map { WeightInitialization.file(path: $0) } ?? effectiveInitialization(config, shape: shape)
        return RunSetup(problem: problem, network: network, initialWeights: weights.weights, initialization: initialization)
    }

    /// Refuses initial weights whose risk R(W(0)) is not finite (the product W_L⋯W_1 overflows: a huge scale, a
    /// deep network, or finite but huge weights in a file), before any output exists. The error names the
    /// scale that drew them, or the file they came from. Cost: one risk evaluation (a forward pass) on an
    /// instance of its own, released before the run builds its own.
    static func checkInitialLoss(network: Network, problem: RegressionProblem, weights: [Double],
                                 initialization: WeightInitialization) throws {
        let risk = RiskFactory.makeRisk(network: network, problem: problem)
        let evaluation = risk.evaluate(at: weights)
        let loss = evaluation.loss
        // A finite loss whose gradient overflows stops the integrator at its first right-hand side: refused too.
        guard !loss.isFinite || !evaluation.gradientNormSquared.isFinite || !risk.gradient(at: weights).allSatisfy(\.isFinite) else { return }
        let depth = network.shape.depth
        let what: ConfigurationText = loss.isFinite
            ? "a non-finite initial gradient ∇R(W(0)) (R(W(0)) = \(loss))"
            : "a non-finite initial loss R(W(0)) = \(loss.isNaN ? "nan" : "\(loss)")"
        let overflow: ConfigurationText = what + ": the product W_L⋯W_1 of the L = \(depth) layers overflows"
        if case let .file(path) = initialization {
            throw GradFlowError.invalidConfiguration(field: .initWeightsFile, value: "\(path)", reason: "its weights give " + overflow + "; scale them down")
        }
        let field = initialization.scaleField
        throw GradFlowError.invalidConfiguration(field: field, value: "\(initialization.scale)", reason: "gives " + overflow + "; use a smaller \(field: field)")
    }

    /// The initialisation the weights are drawn with: the configured one, or with `scaleExponent` α its scale c
    /// becomes s = c·h^{−α}, h the first hidden width m_1 (MATH.md §10.5).
    static func effectiveInitialization(_ config: RunConfiguration, shape: NetworkShape) throws -> WeightInitialization {
        guard let alpha = config.scaleExponent else { return config.initialization }
        guard shape.depth >= 2 else {
            throw GradFlowError.invalidConfiguration(field: .scaleExponent, value: "\(alpha)",
                                                     reason: "needs a hidden width h: \(field: .depth) \(shape.depth) has no hidden layer")
        }
        return try config.initialization.widthScaled(hiddenWidth: shape.widths[1], exponent: alpha)
    }

    /// Builds the network; its errors name the file a projection p or the widths came from (not a projection
    /// or widths the user never gave).
    static func fileNetwork(projectionFile: String?, weightsFile: String?, _ make: () throws -> Network) throws -> Network {
        do { return try make() } catch let GradFlowError.invalidConfiguration(field, value, reason) {
            if field == .projection, let projectionFile {
                throw GradFlowError.invalidData(file: projectionFile, field: "p", reason: "has \(value): \(reason)")
            }
            if field == .widths, let weightsFile {
                throw GradFlowError.invalidData(file: weightsFile, field: "W1 … WL", reason: "widths \(value): \(reason)")
            }
            throw GradFlowError.invalidConfiguration(field: field, value: value, reason: reason)
        }
    }

    /// FC with m_L = 1: p = [1]. Residual: a random unit vector. Otherwise p must be given: the error names
    /// `source`, the weights file the widths came from, or (nil) the configuration's widths.
    static func defaultProjection(kind: NetworkKind, shape: NetworkShape, seed: UInt64, source: String?) throws -> [Double] {
        switch kind {
        case .residual:
            return WeightInitialization.randomUnitProjection(dimension: shape.outputWidth, seed: seed)
        case .fullyConnected:
            guard shape.outputWidth == 1 else {
                let value: ConfigurationText = "m_L = \(shape.outputWidth)"
                let reason: ConfigurationText = "a network with m_L > 1 needs a projection p (a dataset p in the data or weights file)"
                guard let source else { throw GradFlowError.invalidConfiguration(field: .widths, value: value, reason: reason) }
                throw GradFlowError.invalidRequest(subject: source, value: value, reason: reason)
            }
            return [1]
        }
    }

    /// The output folder must exist, and the file must not, unless `overwrite` (`OutputFile.checkTarget`).
    package static func checkOutputPath(_ path: String, overwrite: Bool, inputs: [OutputFile.Input] = []) throws {
        try OutputFile.checkTarget(path, overwrite: overwrite, inputs: inputs)
    }
}
