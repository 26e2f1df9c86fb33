/// One setting a caller gives the library, named by where it lives in the JSON encoding of its settings type.
///
/// The library's errors name the setting they refuse by one of these fields, never by how a front end spells
/// it: `solver.relativeTolerance` is the key path in the `config` attribute of every trajectory file (the JSON
/// encoding of `RunConfiguration`), and a front end (the `gradflow` executable) maps each field to its own
/// option (`--rtol`). The fields of `RunConfiguration` have the `run` scope and are named by their key path
/// in its encoding; the few settings that a run's configuration does not hold belong to their own settings
/// type (the bisection of `CriticalLearningRateSettings`, the grid keys of a `SweepSpec`, the shard of a
/// sweep, the file a run resumes, the tables a merge joins, the projection of a `Network`) and are named
/// `scope.key`.
///
/// `allCases` lists every field the library can name in an error: a front end must give each a spelling.
public struct ConfigurationField: Hashable, Sendable, CustomStringConvertible {
    /// The settings type whose encoding holds the field.
    public enum Scope: String, Hashable, Sendable, CaseIterable {
        /// `RunConfiguration` (the `config` attribute of a trajectory file).
        case run
        /// `CriticalLearningRateSettings`.
        case criticalLearningRate
        /// `SweepSpec` (the keys of a sweep's spec file) and the sweep's shard.
        case sweep
        /// The run that `GradientFlowRun.resume` and `GradientDescentRun.resume` continue.
        case resume
        /// `SweepShards.check`, which joins the tables of a sharded sweep.
        case merge
        /// `Network`'s own parameters (its projection p).
        case network
    }

    /// The settings type whose encoding holds the field.
    public let scope: Scope
    /// The key path inside that encoding, for example `solver.relativeTolerance` or `depths`.
    public let key: String

    public init(_ scope: Scope, _ key: String) {
        self.scope = scope
        self.key = key
    }

    /// The field's name in messages: the key path for a run's field (`schedule.tFinal`), `scope.key` for the others
    /// (`sweep.depths`, `criticalLearningRate.bisectionSteps`).
    public var name: String { scope == .run ? key : "\(scope.rawValue).\(key)" }

    public var description: String { name }

    // MARK: RunConfiguration

    public static let dataFile = ConfigurationField(.run, "dataFile")
    public static let seed = ConfigurationField(.run, "seed")
    public static let model = ConfigurationField(.run, "model")
    public static let depth = ConfigurationField(.run, "depth")
    public static let widths = ConfigurationField(.run, "widths")
    /// The kind of `WeightInitialization` (its case: `gaussian` or `residual`).
    public static let initialization = ConfigurationField(.run, "initialization")
    public static let gaussianScale = ConfigurationField(.run, "initialization.gaussian.scale")
    public static let residualScale = ConfigurationField(.run, "initialization.residual.scale")
    public static let zeroLayer = ConfigurationField(.run, "initialization.gaussian.zeroLayer")
    public static let balancedScale = ConfigurationField(.run, "initialization.balanced.scale")
    public static let modeStrengths = ConfigurationField(.run, "initialization.spectral.strengths")
    public static let layerScales = ConfigurationField(.run, "initialization.layerwise.scales")
    public static let initWeightsFile = ConfigurationField(.run, "initWeightsFile")
    public static let initWeightsSnapshot = ConfigurationField(.run, "initWeightsSnapshot")
    /// The exponent α of a width-dependent initial scale s = c·h^{−α} (MATH.md §10.5).
    public static let scaleExponent = ConfigurationField(.run, "scaleExponent")

    public static let samples = ConfigurationField(.run, "synthetic.samples")
    public static let inputDimension = ConfigurationField(.run, "synthetic.dimension")
    public static let noise = ConfigurationField(.run, "synthetic.noise")
    public static let conditionNumber = ConfigurationField(.run, "synthetic.conditionNumber")
    public static let outputs = ConfigurationField(.run, "synthetic.outputs")
    public static let testSamples = ConfigurationField(.run, "synthetic.testSamples")

    public static let solverMethod = ConfigurationField(.run, "solver.method")
    public static let relativeTolerance = ConfigurationField(.run, "solver.relativeTolerance")
    public static let absoluteTolerance = ConfigurationField(.run, "solver.absoluteTolerance")
    public static let maxSteps = ConfigurationField(.run, "solver.maxSteps")
    public static let krylovDimension = ConfigurationField(.run, "solver.krylovDimension")
    public static let maxOrder = ConfigurationField(.run, "solver.maxOrder")
    public static let vectorKernels = ConfigurationField(.run, "solver.vectorKernels")
    public static let preconditioner = ConfigurationField(.run, "solver.preconditioner")
    public static let gramSchmidt = ConfigurationField(.run, "solver.gramSchmidt")
    public static let linearSolverToleranceFactor = ConfigurationField(.run, "solver.linearSolverToleranceFactor")

    /// The horizon; a descent's is K·η, which its step count and learning rate set.
    public static let tFinal = ConfigurationField(.run, "schedule.tFinal")
    public static let outputTimes = ConfigurationField(.run, "schedule.count")
    public static let spacing = ConfigurationField(.run, "schedule.spacing")
    public static let firstOutputTime = ConfigurationField(.run, "schedule.firstTime")

    public static let lossTolerance = ConfigurationField(.run, "lossTolerance")
    public static let threads = ConfigurationField(.run, "threads")
    public static let outputPath = ConfigurationField(.run, "outputPath")
    public static let overwrite = ConfigurationField(.run, "overwrite")
    public static let flushInterval = ConfigurationField(.run, "flushInterval")
    public static let monitors = ConfigurationField(.run, "monitors")
    /// Every how many rows the weights are saved to `/weights`.
    public static let saveWeights = ConfigurationField(.run, "saveWeights")

    public static let sharpnessMethod = ConfigurationField(.run, "sharpness.method")
    public static let sharpnessTolerance = ConfigurationField(.run, "sharpness.tolerance")
    public static let checkpointEvery = ConfigurationField(.run, "sharpness.checkpointEvery")
    public static let lanczosMaxIterations = ConfigurationField(.run, "sharpness.maxIterations")

    public static let learningRate = ConfigurationField(.run, "descent.learningRate")
    public static let descentSteps = ConfigurationField(.run, "descent.steps")
    public static let divergenceFactor = ConfigurationField(.run, "descent.divergenceFactor")

    public static let centralLearningRate = ConfigurationField(.run, "central.learningRate")
    public static let centralAllowCatapult = ConfigurationField(.run, "central.allowCatapult")
    public static let centralGapTolerance = ConfigurationField(.run, "central.gapTolerance")

    // MARK: Other settings types

    public static let bisectionSteps = ConfigurationField(.criticalLearningRate, "bisectionSteps")
    public static let trialSteps = ConfigurationField(.criticalLearningRate, "steps")
    public static let trialLossTolerance = ConfigurationField(.criticalLearningRate, "lossTolerance")

    public static let sweepMethods = ConfigurationField(.sweep, "methods")
    public static let sweepInitializations = ConfigurationField(.sweep, "initializations")
    public static let sweepInitScales = ConfigurationField(.sweep, "initScales")
    public static let sweepLearningRates = ConfigurationField(.sweep, "learningRates")
    public static let sweepDepths = ConfigurationField(.sweep, "depths")
    public static let sweepWidths = ConfigurationField(.sweep, "widths")
    public static let sweepSeeds = ConfigurationField(.sweep, "seeds")
    public static let sweepScaleExponents = ConfigurationField(.sweep, "scaleExponents")
    public static let sweepArguments = ConfigurationField(.sweep, "arguments")
    public static let sweepFlowArguments = ConfigurationField(.sweep, "flowArguments")
    public static let sweepDescentArguments = ConfigurationField(.sweep, "descentArguments")
    public static let sweepModel = ConfigurationField(.sweep, "model")
    /// Which shard i of N a sweep runs (not a key of the spec file).
    public static let sweepShard = ConfigurationField(.sweep, "shard")

    /// The trajectory file a run continues.
    public static let resumePath = ConfigurationField(.resume, "path")
    /// Whether a merge may join the tables of a sharded sweep without all its shards.
    public static let allowMissingShards = ConfigurationField(.merge, "allowMissing")
    /// The projection p of a scalar-output linear network.
    public static let projection = ConfigurationField(.network, "projection")

    /// Every field the library names in its errors.
    public static let allCases: [ConfigurationField] = [
        dataFile, seed, model, depth, widths, initialization, gaussianScale, residualScale, zeroLayer, balancedScale, modeStrengths,
        layerScales, initWeightsFile,
        initWeightsSnapshot, scaleExponent, saveWeights, samples, inputDimension, noise, conditionNumber, outputs, testSamples, solverMethod, relativeTolerance,
        absoluteTolerance, maxSteps, krylovDimension, maxOrder, vectorKernels, preconditioner, gramSchmidt,
        linearSolverToleranceFactor, tFinal, outputTimes, spacing, firstOutputTime, lossTolerance, threads, outputPath, overwrite,
        flushInterval, monitors, sharpnessMethod, sharpnessTolerance, checkpointEvery, lanczosMaxIterations, learningRate,
        descentSteps, divergenceFactor, centralLearningRate, centralAllowCatapult, centralGapTolerance, bisectionSteps, trialSteps, trialLossTolerance, sweepMethods, sweepInitializations,
        sweepInitScales, sweepLearningRates, sweepDepths, sweepWidths, sweepSeeds, sweepScaleExponents, sweepArguments, sweepFlowArguments,
        sweepDescentArguments, sweepModel, sweepShard, resumePath, allowMissingShards, projection,
    ]
}
