/// How `gradflow critical-lr` searches.
public struct CriticalLearningRateSettings: Sendable, Codable, Equatable {
    /// Bisection steps on a log scale once a converging and a non-converging η bracket the threshold.
    public var bisectionSteps: Int
    /// Most GD steps of one trial.
    public var steps: Int
    /// A trial converges when R − R_min ≤ this within `steps` steps.
    public var lossTolerance: Double

    public init(bisectionSteps: Int = 10, steps: Int = 20_000, lossTolerance: Double = 1e-8) {
        self.bisectionSteps = bisectionSteps
        self.steps = steps
        self.lossTolerance = lossTolerance
    }

    public func validate() throws {
        guard (1...60).contains(bisectionSteps) else {
            throw GradFlowError.invalidConfiguration(field: .bisectionSteps, value: "\(bisectionSteps)", reason: "must be in 1…60")
        }
        guard steps >= 1 else { throw GradFlowError.invalidConfiguration(field: .trialSteps, value: "\(steps)", reason: "must be at least 1") }
        try DescentSettings.checkStepCount(steps, field: .trialSteps)
        guard lossTolerance.isFinite, lossTolerance > 0 else {
            throw GradFlowError.invalidConfiguration(field: .trialLossTolerance, value: "\(lossTolerance)", reason: "must be a finite number > 0")
        }
    }
}

/// The critical learning rate of one (depth, seed): the largest η at which gradient descent from that
/// initialisation converges, bracketed by a converging η and a non-converging one.
public struct CriticalLearningRateResult: Sendable {
    public var depth: Int
    public var seed: UInt64
    /// The largest η found to converge.
    public var converging: Double
    /// The smallest η found not to converge (diverged, or not within the step budget).
    public var failing: Double
    /// The prediction of MATH.md §4.7: η_crit = 2/S_min ∈ [predictionLower, predictionUpper].
    public var predictionLower: Double
    public var predictionUpper: Double
    /// GD trials run.
    public var trials: Int
    /// failing/converging when the bracket was first found, before the bisection.
    public var initialBracketRatio: Double
    /// The sharpness of the minimiser reached at `converging` (2/η bounds it when GD is stable there).
    public var sharpnessAtConverging: Double
    /// The geometric midpoint of the bracket.
    public var estimate: Double { (converging * failing).squareRoot() }
}

/// Finds the critical learning rate by bisection on a log scale (MATH.md §4.7, §5): starting from the
/// predicted interval, it halves η until GD converges and doubles it until GD fails, then bisects the
/// bracket `bisectionSteps` times on a log scale, so its ratio shrinks from its initial value R₀ to
/// R₀^(2^−bisectionSteps).
/// "Converges" means R − R_min ≤ `lossTolerance` within `steps` steps; anything else (divergence, or
/// oscillation at the edge of stability until the budget runs out) counts as failing.
public enum CriticalLearningRate {
    /// Whether GD with step η converges from the setup's initial weights; the final sharpness when it does
    /// is computed by the caller.
    static func trial(_ setup: RunSetup, eta: Double, settings: CriticalLearningRateSettings) throws -> GradientDescentResult {
        let risk = RiskFactory.makeRisk(network: setup.network, problem: setup.problem)
        let descent = GradientDescent(risk: risk, shape: setup.network.shape, settings: DescentSettings(learningRate: eta, steps: settings.steps))
        return try descent.run(from: setup.initialWeights, outputSteps: [], lossTolerance: settings.lossTolerance,
                               trackDrift: false) { _, _, _, _, _ in }
    }

    /// The critical learning rate for the network and initialisation of `config` (its depth and seed).
    public static func find(_ config: RunConfiguration, settings: CriticalLearningRateSettings) throws -> CriticalLearningRateResult {
        try settings.validate()
        let scope = "critical-lr brackets the prediction of MATH.md §4.7, which is for scalar-output linear networks"
        guard config.model == .linear else { throw GradFlowError.invalidConfiguration(field: .model, value: "\(config.model.rawValue)", reason: "\(scope)") }
        BLASThreads.set(config.threads)
        let setup = try RunSetup.prepare(config, checkOutput: false)
        guard setup.network.isScalarLinear else {
            throw GradFlowError.invalidConfiguration(field: .outputs, value: "\(setup.problem.outputCount)", reason: "\(scope)")
        }
        let bounds = try TheoreticalBounds(problem: setup.problem, network: setup.network, initialization: setup.initialization)
        var trials = 0
        func converges(_ eta: Double) throws -> (Bool, GradientDescentResult) {
            trials += 1
            let result = try trial(setup, eta: eta, settings: settings)
            return (result.stopReason == .lossTolerance, result)
        }
        var low = bounds.criticalLearningRateLower / 2
        var lowResult: GradientDescentResult?
        for _ in 0..<40 {
            let (ok, result) = try converges(low)
            if ok { lowResult = result; break }
            low /= 2
        }
        guard var best = lowResult else {
            throw GradFlowError.invalidConfiguration(field: .trialSteps, value: "\(settings.steps)",
                                                reason: "gradient descent did not converge even at η = \(low); give it more steps")
        }
        var high = bounds.criticalLearningRateUpper * 2
        for _ in 0..<40 {
            let (ok, result) = try converges(high)
            if !ok { break }
            low = high
            best = result
            high *= 2
        }
        let initialRatio = high / low
        for _ in 0..<settings.bisectionSteps {
            let mid = (low * high).squareRoot()
            let (ok, result) = try converges(mid)
            if ok { low = mid; best = result } else { high = mid }
        }
        let estimator = SharpnessEstimator(risk: RiskFactory.makeRisk(network: setup.network, problem: setup.problem), tolerance: 1e-10)
        let sharpness = try estimator.lanczos(at: best.finalWeights).lambdaMax
        return CriticalLearningRateResult(depth: setup.network.shape.depth, seed: config.seed, converging: low, failing: high,
                                          predictionLower: bounds.criticalLearningRateLower,
                                          predictionUpper: bounds.criticalLearningRateUpper, trials: trials, initialBracketRatio: initialRatio,
                                          sharpnessAtConverging: sharpness)
    }

    /// Writes the table as HDF5: one row per (depth, seed), datasets `depth`, `seed`, `converging_lr`,
    /// `failing_lr`, `critical_lr` (geometric midpoint), `prediction_lower`, `prediction_upper`,
    /// `lr_times_depth`, `sharpness_at_converging`, `trials`.
    package static func write(_ results: [CriticalLearningRateResult], to path: String, overwrite: Bool,
                             settings: CriticalLearningRateSettings, commandLine: String, inputs: [OutputFile.Input] = []) throws {
        try HDF5Output.write(path, overwrite: overwrite, inputs: inputs, estimatedBytes: results.count * 10 * 16 + commandLine.utf8.count * 2) { root in
            let attributes: [(String, AttributeValue)] = [
                ("format", .string("gradflow-critical-lr")), ("format_version", .integer(GradFlowVersion.formatVersion)),
                ("gradflow_version", .string(GradFlowVersion.string)), ("command_line", .string(commandLine)),
                ("bisection_steps", .integer(settings.bisectionSteps)), ("max_steps", .integer(settings.steps)),
                ("loss_tol", .double(settings.lossTolerance)),
            ]
            for (name, value) in attributes { try root.setAttribute(name, value) }
            let columns: [(String, (CriticalLearningRateResult) -> Double)] = [
                ("depth", { Double($0.depth) }), ("seed", { Double($0.seed) }), ("converging_lr", { $0.converging }),
                ("failing_lr", { $0.failing }), ("critical_lr", { $0.estimate }), ("prediction_lower", { $0.predictionLower }),
                ("prediction_upper", { $0.predictionUpper }), ("lr_times_depth", { $0.estimate * Double($0.depth) }),
                ("sharpness_at_converging", { $0.sharpnessAtConverging }), ("trials", { Double($0.trials) }),
            ]
            for (name, value) in columns { try root.writeDataset(name, results.map(value), shape: [results.count]) }
            // Named dimension (format version 2): one `case` per (depth, seed).
            try root.createDimension("case", size: results.count)
            for (name, _) in columns { try root.label(name, name.replacing("_", with: " "), dimensions: ["/case"]) }
        }
    }
}
