/// Everything that defines a run, as the user gave it. It is written as JSON to the trajectory
/// file's `config` attribute, so any run can be reproduced.
public struct RunConfiguration: Sendable, Codable, Equatable {
    /// The data file (`dataFile`); nil for the built-in synthetic data.
    public var dataFile: String?
    /// The synthetic data set, used when `dataFile` is nil.
    public var synthetic: SyntheticData
    /// The seed of the synthetic data and the initial weights.
    public var seed: UInt64
    /// The model (`model`): linear (the default) or GELU.
    public var model: NetworkModel
    /// The depth L; nil for the default (10), or the depth of `initWeightsFile`.
    public var depth: Int?
    /// The widths, as given (see `NetworkShape.widths(from:…)`).
    public var widths: [Int]?
    /// How W(0) is drawn, when `initWeightsFile` is nil.
    public var initialization: WeightInitialization
    /// Initial weights from a file: an HDF5 file with W1 … WL, or a trajectory file.
    public var initWeightsFile: String?
    /// Which weights of a trajectory file `initWeightsFile` starts from.
    public var initWeightsSnapshot: InitialWeightsFile.Snapshot
    /// A width-dependent initial scale (MATH.md §10.5): the weights are drawn with s = c·h^{−α}, c the scale of
    /// `initialization` and h the first hidden width (`/network/init_scale` records s); nil: s = c.
    public var scaleExponent: Double?
    public var solver: SolverSettings
    public var schedule: OutputSchedule
    /// Stop when R − R_min ≤ this (nil: run to the horizon).
    public var lossTolerance: Double?
    /// OpenBLAS threads.
    public var threads: Int
    /// The trajectory file to write.
    public var outputPath: String
    /// Replace an existing output file.
    public var overwrite: Bool
    /// Seconds between flushes of the trajectory file.
    public var flushInterval: Double
    /// The monitors recorded along the run.
    public var monitors: MonitorSelection
    /// The sharpness checkpoints.
    public var sharpness: SharpnessSettings
    /// Save the weights of every k-th output row (the first and the last always) to the `/weights` group of
    /// the trajectory file; nil: not saved.
    public var saveWeights: Int?
    /// Gradient descent's settings (`gradflow descent`, `compare`); nil for gradient flow.
    public var descent: DescentSettings?
    /// The central flow's settings (MATH.md §11: gradient descent at learning rate η as an ODE); nil for
    /// gradient flow.
    public var central: CentralFlowSettings?

    /// The files this run reads, which its output must never be (`OutputFile.checkTarget`).
    package var inputFiles: [OutputFile.Input] {
        [dataFile.map { OutputFile.Input($0, role: "the data file") },
         initWeightsFile.map { OutputFile.Input($0, role: "the initial-weights file") }].compactMap { $0 }
    }

    public static let defaultDepth = 10
    public static let defaultGaussianScale = 0.1
    public static let defaultResidualScale = 0.25

    public init(dataFile: String? = nil, synthetic: SyntheticData = SyntheticData(), seed: UInt64 = 20240521,
                model: NetworkModel = .linear, depth: Int? = nil, widths: [Int]? = nil,
                initialization: WeightInitialization = .gaussian(scale: defaultGaussianScale, zeroLayer: nil),
                initWeightsFile: String? = nil, initWeightsSnapshot: InitialWeightsFile.Snapshot = .final,
                solver: SolverSettings = SolverSettings(), schedule: OutputSchedule = OutputSchedule(tFinal: 1e6),
                lossTolerance: Double? = 1e-10, threads: Int = 1, outputPath: String = "trajectory.h5",
                overwrite: Bool = false, flushInterval: Double = 1, monitors: MonitorSelection = .all,
                sharpness: SharpnessSettings = SharpnessSettings(), descent: DescentSettings? = nil,
                scaleExponent: Double? = nil, saveWeights: Int? = nil, central: CentralFlowSettings? = nil) {
        self.dataFile = dataFile
        self.synthetic = synthetic
        self.seed = seed
        self.model = model
        self.depth = depth
        self.widths = widths
        self.initialization = initialization
        self.initWeightsFile = initWeightsFile
        self.initWeightsSnapshot = initWeightsSnapshot
        self.solver = solver
        self.schedule = schedule
        self.lossTolerance = lossTolerance
        self.threads = threads
        self.outputPath = outputPath
        self.overwrite = overwrite
        self.flushInterval = flushInterval
        self.monitors = monitors
        self.sharpness = sharpness
        self.descent = descent
        self.scaleExponent = scaleExponent
        self.saveWeights = saveWeights
        self.central = central
    }

    private enum CodingKeys: String, CodingKey {
        case dataFile, synthetic, seed, model, depth, widths, initialization, initWeightsFile, initWeightsSnapshot, solver, schedule,
             lossTolerance, threads, outputPath, overwrite, flushInterval, monitors, sharpness, descent,
             scaleExponent, saveWeights, central
    }

    /// Configurations written before `model` existed decode as linear; those before `scaleExponent` and
    /// `saveWeights` existed, without either.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataFile = try c.decodeIfPresent(String.self, forKey: .dataFile)
        synthetic = try c.decode(SyntheticData.self, forKey: .synthetic)
        seed = try c.decode(UInt64.self, forKey: .seed)
        model = try c.decodeIfPresent(NetworkModel.self, forKey: .model) ?? .linear
        depth = try c.decodeIfPresent(Int.self, forKey: .depth)
        widths = try c.decodeIfPresent([Int].self, forKey: .widths)
        initialization = try c.decode(WeightInitialization.self, forKey: .initialization)
        initWeightsFile = try c.decodeIfPresent(String.self, forKey: .initWeightsFile)
        initWeightsSnapshot = try c.decode(InitialWeightsFile.Snapshot.self, forKey: .initWeightsSnapshot)
        solver = try c.decode(SolverSettings.self, forKey: .solver)
        schedule = try c.decode(OutputSchedule.self, forKey: .schedule)
        lossTolerance = try c.decodeIfPresent(Double.self, forKey: .lossTolerance)
        threads = try c.decode(Int.self, forKey: .threads)
        outputPath = try c.decode(String.self, forKey: .outputPath)
        overwrite = try c.decode(Bool.self, forKey: .overwrite)
        flushInterval = try c.decode(Double.self, forKey: .flushInterval)
        monitors = try c.decode(MonitorSelection.self, forKey: .monitors)
        sharpness = try c.decode(SharpnessSettings.self, forKey: .sharpness)
        descent = try c.decodeIfPresent(DescentSettings.self, forKey: .descent)
        scaleExponent = try c.decodeIfPresent(Double.self, forKey: .scaleExponent)
        saveWeights = try c.decodeIfPresent(Int.self, forKey: .saveWeights)
        central = try c.decodeIfPresent(CentralFlowSettings.self, forKey: .central)
    }

    /// Checks the values that do not need the data, and refuses sizes that would not fit in memory
    /// (`MemoryEstimate.checkPlan`); the data, the network and the output path are checked by `RunSetup.prepare`.
    public func validate() throws {
        try solver.validate()
        try central?.validate()
        if let central, descent != nil {
            throw GradFlowError.invalidConfiguration(field: .centralLearningRate, value: "\(central.learningRate)",
                                                     reason: "is a flow's setting; gradient descent has its own learning rate")
        }
        try descent?.validate()  // first: a descent run's horizon K·η is derived from its learning rate and steps
        try schedule.validate()
        if let tol = lossTolerance, !(tol.isFinite && tol >= 0) {  // 0: never stop on the loss
            throw GradFlowError.invalidConfiguration(field: .lossTolerance, value: "\(tol)", reason: "must be a finite number ≥ 0 (0: never stop on the loss)")
        }
        try BLASThreads.validate(threads)
        if let depth, depth < 1 {
            throw GradFlowError.invalidConfiguration(field: .depth, value: "\(depth)", reason: "the depth must be at least 1")
        }
        guard flushInterval.isFinite, flushInterval >= 0 else {
            throw GradFlowError.invalidConfiguration(field: .flushInterval, value: "\(flushInterval)", reason: "must be ≥ 0")
        }
        if let k = saveWeights, k < 1 {
            throw GradFlowError.invalidConfiguration(field: .saveWeights, value: "\(k)", reason: "must be at least 1 (1: every row)")
        }
        if let alpha = scaleExponent {
            guard alpha.isFinite else {
                throw GradFlowError.invalidConfiguration(field: .scaleExponent, value: "\(alpha)", reason: "must be a finite number")
            }
            if initWeightsFile != nil {
                throw GradFlowError.invalidConfiguration(field: .scaleExponent, value: "\(alpha)",
                                                         reason: "scales drawn weights: it does not apply to weights from \(field: .initWeightsFile)")
            }
            if !initialization.takesScaleFactor {
                throw GradFlowError.invalidConfiguration(field: .scaleExponent, value: "\(alpha)",
                                                         reason: "multiplies the scale of a gaussian, residual, balanced or layer-wise initialisation, not of a \(initialization.name) one")
            }
            if let depth, depth < 2 {
                throw GradFlowError.invalidConfiguration(field: .scaleExponent, value: "\(alpha)",
                                                         reason: "needs a hidden width h: \(field: .depth) \(depth) has no hidden layer")
            }
        }
        if dataFile == nil { try synthetic.validate() }
        if initWeightsFile == nil, (depth ?? 1) >= 1 { try initialization.validate(depth: depth ?? Self.defaultDepth) }
        // Sizes from the options alone (the data, P, the output schedule), before anything is allocated.
        try MemoryEstimate.checkPlan(self)
        // The flow's output times (after the memory check: they are computed one by one); a descent records steps.
        if descent == nil { try schedule.validateTimes() }
    }
}
