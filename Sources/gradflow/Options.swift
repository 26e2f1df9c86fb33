import ArgumentParser
import CStartup
import GradFlow

extension IntegrationMethod: ExpressibleByArgument {}
extension KrylovPreconditioner: ExpressibleByArgument {}
extension GramSchmidt: ExpressibleByArgument {}
extension VectorKernels: ExpressibleByArgument {}
extension SharpnessMethod: ExpressibleByArgument {}
extension OutputSchedule.Spacing: ExpressibleByArgument {}
extension InitialWeightsFile.Snapshot: ExpressibleByArgument {}
extension NetworkModel: ExpressibleByArgument {}

/// Which initialisation `--init` selects.
enum InitKind: String, ExpressibleByArgument, CaseIterable {
    case gaussian, residual, balanced, spectral
}

/// Options shared by every command that builds a problem: the data.
struct ProblemOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: ArgumentHelp(
        "Regression data: an HDF5 file with datasets X [n, d] and y [n] (and optionally p; a 2-D y or Y [n, q] gives q outputs; optionally a held-out X_test, y_test), a GradFlow trajectory file, or a CSV file whose last column is y. Default: the built-in synthetic data.",
        valueName: "file"))
    var dataFile: String?

    @Option(parsing: .unconditional, help: "Synthetic data: number of samples n.")
    var samples: Int = 50

    @Option(name: .customLong("input-dim"), parsing: .unconditional, help: "Synthetic data: input dimension d.")
    var inputDimension: Int = 5

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Synthetic data: noise level ξ in y = X w_true + ξ·noise (then y is scaled so that ‖w*‖ = 1). Default 1, or 0 with --model gelu (the paper's noiseless GELU experiment).",
        valueName: "ξ"))
    var noise: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Synthetic data: number of outputs q. With q > 1 the network has no projection and W_L has q rows (multivariate regression, the paper's Theorem 5).",
        valueName: "q"))
    var outputs: Int = 1

    @Option(name: .customLong("test-samples"), parsing: .unconditional, help: ArgumentHelp(
        "Synthetic data: size of the held-out set drawn beside the training data (same w_true, fresh noise; the test error is recorded in /trajectory/test_loss). Default: n, as in the paper's code; 0 for none.",
        valueName: "count"))
    var testSamples: Int?

    @Option(name: .customLong("condition-number"), parsing: .unconditional, help: "Synthetic data: make the covariance Σ = XᵀX/n ill-conditioned, with eigenvalues spaced evenly in log from 1 down to 1/κ (a stiff flow). Default: the paper's Gaussian X.")
    var conditionNumber: Double?

    @Option(parsing: .unconditional, help: "Seed of the synthetic data and of the initial weights (same seed, same bits).")
    var seed: UInt64 = 20240521

    /// The synthetic data set of these options for `model` (whose default noise differs).
    func synthetic(model: NetworkModel) -> SyntheticData {
        SyntheticData(samples: samples, dimension: inputDimension, noise: noise ?? (model == .gelu ? 0 : 1), seed: seed,
                      conditionNumber: conditionNumber, outputs: outputs, testSamples: testSamples)
    }
}

/// Options shared by every command that builds a network.
struct NetworkOptions: ParsableArguments {
    @Option(help: "Model: 'linear' (deep linear network; the default) or 'gelu' (the tanh-form GELU after every layer but the last, no biases, as in the paper's App. C). Depth and widths work the same way; with q outputs W_L has q rows.")
    var model: NetworkModel = .linear

    @Option(parsing: .unconditional, help: "Depth L (number of weight matrices). Default 10, or the depth of --init-weights.")
    var depth: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Widths: one number (every hidden layer), L−1 hidden widths, or all L+1 widths m_0 = d, …, m_L, comma-separated. Default: hidden layers d wide, m_L = 1 (m_L = q for q outputs).",
        valueName: "list"))
    var widths: String?

    @Option(help: "Initialisation: 'gaussian' (fully connected, i.i.d. N(0, s²) entries; the default, except for critical-lr), 'residual' (W_k = I + s/√(L·d)·N_k, all layers d×d, p a random unit vector), 'balanced' (W_L⋯W_1 = A with A i.i.d. N(0, s²), every D_k(0) = 0; MATH.md §10.5) or 'spectral' (the modes of M*, each at strength --mode-strength, balanced; MATH.md §10.2).")
    var `init`: InitKind?

    @Option(name: .customLong("init-scale"), parsing: .unconditional, help: ArgumentHelp(
        "Scale s of the initialisation. Default \(RunConfiguration.defaultGaussianScale) for gaussian, \(RunConfiguration.defaultResidualScale) for residual.",
        valueName: "s"))
    var initScale: Double?

    @Option(name: .customLong("scale-exponent"), parsing: .unconditional, help: ArgumentHelp(
        "Width-dependent scale (MATH.md §10.5, Min et al.'s width sweep): draw with s = c·h^−α, c the --init-scale (or its default) and h the first hidden width m_1; /network/init_scale records s. Not with --init spectral or --init-weights.",
        valueName: "α"))
    var scaleExponent: Double?

    @Option(name: .customLong("zero-layer"), parsing: .unconditional, help: ArgumentHelp("Gaussian init: set W_k(0) = 0 for this layer k (1…L).", valueName: "k"))
    var zeroLayer: Int?

    @Option(name: .customLong("mode-strength"), parsing: .unconditional, help: ArgumentHelp(
        "Spectral init: the initial mode strength a_i(0) = u_iᵀM(0)v_i, one value for every mode of M* or one per mode, comma-separated. Default 1e-3.",
        valueName: "list"))
    var modeStrength: String?

    @Option(name: .customLong("layer-scales"), parsing: .unconditional, help: ArgumentHelp(
        "Gaussian init with one scale per layer: W_k has i.i.d. N(0, s_k²) entries (L values, comma-separated; sets the imbalance D_k(0)).",
        valueName: "list"))
    var layerScales: String?

    @Option(name: .customLong("init-weights"), help: ArgumentHelp(
        "Start from these weights: an HDF5 file with datasets W1 … WL [m_k, m_{k−1}] (optionally p), or a GradFlow trajectory file. Fixes depth and widths.",
        valueName: "file"))
    var initWeights: String?

    @Option(name: .customLong("init-from"), help: "With a trajectory file as --init-weights: start from its 'final' or 'initial' weights.")
    var initFrom: InitialWeightsFile.Snapshot = .final

    func widthList() throws -> [Int]? {
        guard let widths else { return nil }
        guard !widths.trimmingWhitespace().isEmpty else {
            throw GradFlowError.invalidConfiguration(field: .widths, value: "\"\(widths)\"",
                                                     reason: "is empty: give one width, the L−1 hidden widths, or all L+1 widths")
        }
        // An empty entry ("5,,1", a trailing comma) is refused, not skipped.
        let parts = widths.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
        return try parts.map { part in
            guard let value = Int(part) else {
                throw GradFlowError.invalidConfiguration(field: .widths, value: "\(widths)", reason: "\"\(part)\" is not an integer")
            }
            return value
        }
    }

    var initialization: WeightInitialization { get throws { try initialization(default: .gaussian) } }

    /// Refuses `--zero-layer` with a residual initialisation (`kind` when `--init` is not given), which has no
    /// zero layer: W_k(0) = I + noise.
    func checkZeroLayer(default kind: InitKind = .gaussian) throws {
        guard let zeroLayer, initWeights == nil, (`init` ?? kind) == .residual else { return }
        throw GradFlowError.invalidConfiguration(field: .zeroLayer, value: "\(zeroLayer)",
                                                 reason: "has no meaning with \(field: .initialization) residual (W_k(0) = I + s/√(L·d)·N_k); it sets a layer of the Gaussian initialisation to 0")
    }

    /// The initialisation the options select (`kind` when `--init` is not given).
    func initialization(default kind: InitKind) throws -> WeightInitialization {
        let chosen = `init` ?? kind
        if modeStrength != nil, chosen != .spectral {
            throw UsageError(option: "--mode-strength", value: modeStrength ?? "", reason: "goes with --init spectral")
        }
        let drawn = chosen == .balanced || chosen == .spectral || layerScales != nil || modeStrength != nil
        if let initWeights, drawn {
            throw UsageError(option: "--init-weights", value: initWeights,
                             reason: "starts from the file's weights: --init \(chosen.rawValue), --mode-strength and --layer-scales would be ignored; give one or the other")
        }
        if model == .gelu, chosen == .balanced || chosen == .spectral {
            throw UsageError(option: "--init", value: chosen.rawValue,
                             reason: "is defined for linear networks (W_L⋯W_1 = M, MATH.md §10.5); a GELU network has no end-to-end map")
        }
        if let zeroLayer, chosen == .balanced || chosen == .spectral {
            throw UsageError(option: "--zero-layer", value: "\(zeroLayer)",
                             reason: "has no meaning with --init \(chosen.rawValue); it sets a layer of the Gaussian initialisation to 0")
        }
        if let layerScales {
            guard chosen == .gaussian, initScale == nil, zeroLayer == nil else {
                throw UsageError(option: "--layer-scales", value: layerScales,
                                 reason: "gives a Gaussian initialisation its scales layer by layer: use it without --init-scale, --zero-layer or another --init")
            }
            return .layerwise(scales: try Self.numbers(layerScales, option: "--layer-scales"))
        }
        switch chosen {
        case .gaussian: return .gaussian(scale: initScale ?? RunConfiguration.defaultGaussianScale, zeroLayer: zeroLayer)
        case .residual: return .residual(scale: initScale ?? RunConfiguration.defaultResidualScale)
        case .balanced: return .balanced(scale: initScale ?? RunConfiguration.defaultGaussianScale)
        case .spectral:
            if let initScale { throw UsageError(option: "--init-scale", value: "\(initScale)", reason: "a spectral initialisation takes --mode-strength") }
            return .spectral(strengths: try modeStrength.map { try Self.numbers($0, option: "--mode-strength") } ?? [1e-3])
        }
    }

    /// A comma-separated list of numbers.
    static func numbers(_ text: String, option: String) throws -> [Double] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let trimmed = part.trimmingWhitespace()
            guard let value = Double(trimmed) else { throw UsageError(option: option, value: text, reason: "\"\(trimmed)\" is not a number") }
            return value
        }
    }
}

/// Options of the output file.
struct OutputOptions: ParsableArguments {
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The trajectory file to write (HDF5).", valueName: "file"))
    var output: String = "trajectory.h5"

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    @Flag(name: .shortAndLong, help: "Print no progress lines (the summary is still printed).")
    var quiet = false

    @Option(name: .customLong("flush-interval"), parsing: .unconditional, help: ArgumentHelp("Seconds between flushes of the trajectory file to disk.", valueName: "seconds"))
    var flushInterval: Double = 1

    @Option(parsing: .unconditional, help: "OpenBLAS threads, 1…256 (1 is fastest for small networks; same threads and seed give the same bits). 2 or more also splits GradFlow's own kernels over two threads for at least 2^18 parameters: the integrator's vector operations, and the deep linear network's gradient and Hessian-vector product (their matrix–vector sweeps and outer products). OpenBLAS runs at most its compiled maximum (MAX_THREADS, 64 in Debian's build): a larger count is capped to it.")
    var threads: Int = 1

    @Flag(inversion: .prefixedNo, help: "Record each output row (the monitors and the file writes) on a second thread while the integration goes on, when that can help: --threads 1, some monitor on, a second core this process may use, and not the transitions monitor (on by default with 2 or more outputs: its root finding changes a monitor from the integration's thread). The results are the same bits; --no-monitor-thread records on the run's own thread. The summary's time line says how long the run waited for that thread (its monitors and its file writes).")
    var monitorThread = true

    /// `--monitor-thread` as the library takes it; never in a point of `gradflow sweep --isolate processes`, whose
    /// sweep already runs one point per core (as its `--isolate threads` points never do).
    var recordingThread: RecordingThreadPolicy { monitorThread && gf_startup_is_sweep_point() == 0 ? .whenItHelps : .never }
}

/// Options of the monitors (MATH.md §7).
struct MonitorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Monitors to record: 'all', 'none', or a comma-separated list of "
                               + MonitorRegistry.selectableSummaries.joined(separator: ", ") + ".", valueName: "list"))
    var monitors: String = "all"

    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional,
            help: "A sharpness checkpoint every this many output times (t = 0 included), and always at the end.")
    var checkpointEvery: Int = 20

    @Option(name: .customLong("sharpness-method"), help: "Sharpness by 'lanczos' (exact Hessian-vector products, any P) or 'dense' (the full Hessian and LAPACK dsyevr; P ≤ 4000).")
    var sharpnessMethod: SharpnessMethod = .lanczos

    @Option(name: .customLong("sharpness-tol"), parsing: .unconditional, help: "Relative tolerance of the Lanczos residuals (both ends of the spectrum).")
    var sharpnessTol: Double = 1e-8

    @Option(name: .customLong("lanczos-max"), parsing: .unconditional, help: "Most Lanczos iterations per checkpoint.")
    var lanczosMax: Int = 300

    func selection() throws -> MonitorSelection { try MonitorSelection(parsing: monitors) }

    var sharpness: SharpnessSettings {
        SharpnessSettings(method: sharpnessMethod, tolerance: sharpnessTol, checkpointEvery: checkpointEvery, maxIterations: lanczosMax)
    }
}

/// What is recorded and when a run stops early (shared by `run`, `descent` and `compare`).
struct RecordingOptions: ParsableArguments {
    @Option(name: .customLong("loss-tol"), parsing: .unconditional,
            help: "Stop when R − R_min = ‖X(w − w*)‖²/n reaches this value (R itself for a GELU network; for gradient flow, CVODE root finding locates the time). 0: never stop on the loss (run to the horizon, or take all --steps).")
    var lossTol: Double = 1e-10

    @Flag(name: .customLong("no-loss-stop"), help: "Run to the horizon even when R − R_min falls below --loss-tol.")
    var noLossStop = false

    @Option(name: .customLong("output-times"), parsing: .unconditional, help: "Number of output times after t = 0 (rows of /trajectory).")
    var outputTimes: Int = 200

    @Option(help: "Spacing of the output times: 'log' (default, for plateaus) or 'uniform'.")
    var spacing: OutputSchedule.Spacing = .log

    @Option(name: .customLong("save-weights"), parsing: .unconditional, help: ArgumentHelp(
        "Save the weights θ(t) of every k-th row (t = 0 and the last row always) in the group /weights (time [M], weights [M, P]). --save-weights alone: every row.",
        valueName: "k"))
    var saveWeights: Int?

    /// `--save-weights` given without its k (the last argument, or followed by another option) means every row:
    /// the arguments with a `1` after such a bare `--save-weights`, for the parser, which needs the value.
    static func completingSaveWeights(_ arguments: [String]) -> [String] {
        var result: [String] = []
        for (i, argument) in arguments.enumerated() {
            result.append(argument)
            if argument == "--" { return result + arguments.dropFirst(i + 1) }
            guard argument == "--save-weights" else { continue }
            let next = arguments.indices.contains(i + 1) ? arguments[i + 1] : nil
            if next.map({ $0.hasPrefix("-") && Int($0) == nil && Double($0) == nil }) ?? true { result.append("1") }
        }
        return result
    }

    /// nil (no loss stop) with --no-loss-stop or --loss-tol 0.
    var lossTolerance: Double? { noLossStop || lossTol == 0 ? nil : lossTol }
}

/// CVODE's options (shared by `run` and `compare`).
struct IntegratorOptions: ParsableArguments {
    @Option(help: "Integrator: 'auto' (explicit Dormand–Prince 5(4) while the flow is not stiff, then BDF + SPGMR once the explicit steps are held down by stability; the default), 'erk' (explicit Dormand–Prince 5(4), ARKODE; non-stiff flows), 'bdf-krylov' (CVODE BDF, SPGMR on the exact J v = −H v; stiff flows, any size), 'bdf-dense' (BDF, dense −H from P Hessian-vector products; P up to a few hundred), 'adams' (CVODE Adams, fixed-point; non-stiff).")
    var method: IntegrationMethod = .auto

    @Option(parsing: .unconditional, help: "Relative tolerance of CVODE.")
    var rtol: Double = 1e-8

    @Option(parsing: .unconditional, help: "Absolute tolerance of CVODE (every weight).")
    var atol: Double = 1e-12

    @Option(name: .customLong("max-steps"), parsing: .unconditional, help: "Most internal steps between two output times (SUNDIALS' mxstep); more fails with CV_TOO_MUCH_WORK (ARK_TOO_MUCH_WORK for erk).")
    var maxSteps: Int = 1_000_000

    @Option(name: .customLong("krylov-dim"), parsing: .unconditional, help: "SPGMR's maximum Krylov dimension (bdf-krylov).")
    var krylovDim: Int = 10

    @Option(name: .customLong("max-order"), parsing: .unconditional, help: "Largest method order CVODE may use (BDF ≤ 5, Adams ≤ 12).")
    var maxOrder: Int?

    @Option(name: .customLong("vector-kernels"), help: "N_Vector loop kernels: 'gradflow' (optimised, default) or 'sundials' (Debian's unoptimised serial vector, for comparison).")
    var vectorKernels: VectorKernels = .gradflow

    @Option(help: "SPGMR's preconditioner (bdf-krylov and auto): 'gauss-newton' ((I + γH_GN)⁻¹ by the Woodbury identity on the Gauss–Newton part of the Hessian, rank ≤ qd for linear networks with q outputs (qd ≤ 2000) and ≤ qn for GELU networks (qn ≤ 2000); the default) or 'none'.")
    var preconditioner: KrylovPreconditioner = .gaussNewton

    @Option(name: .customLong("gram-schmidt"), help: "SPGMR's orthogonalisation: 'modified' (the default) or 'classical' (fused dot products).")
    var gramSchmidt: GramSchmidt = .modified

    @Option(name: .customLong("eps-lin"), parsing: .unconditional, help: "CVODE's linear-solver tolerance factor (default: CVODE's 0.05).")
    var epsLin: Double?

    var settings: SolverSettings {
        SolverSettings(method: method, relativeTolerance: rtol, absoluteTolerance: atol, maxSteps: maxSteps,
                       krylovDimension: krylovDim, maxOrder: maxOrder, vectorKernels: vectorKernels,
                       preconditioner: preconditioner, gramSchmidt: gramSchmidt, linearSolverToleranceFactor: epsLin)
    }
}

/// Gradient descent's options (shared by `descent` and `compare`).
struct DescentOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Learning rate η.")
    var lr: Double

    @Option(parsing: .unconditional, help: "Most steps K (default 100000, or ⌈t-final/η⌉ when --t-final is given); at most 10000000000 (10^10).")
    var steps: Int?

    @Option(name: .customLong("t-final"), parsing: .unconditional, help: "Horizon in time units: K = ⌈t-final/η⌉ steps.")
    var tFinal: Double?

    @Option(name: .customLong("divergence-factor"), parsing: .unconditional,
            help: "Diverged when R − R_min exceeds this factor times max(R(0), 1).")
    var divergenceFactor: Double = 1e6

    /// K from --steps and --t-final (the smaller when both are given). A K = ⌈t-final/η⌉ above
    /// `DescentSettings.maximumSteps` is refused, naming the count, unless a smaller --steps is given.
    func stepCount() throws -> Int {
        var k = steps
        if let k { try DescentSettings.checkStepCount(k, field: .descentSteps) }
        if let tFinal {
            guard tFinal.isFinite, tFinal > 0 else {
                throw GradFlowError.invalidConfiguration(field: .tFinal, value: "\(tFinal)", reason: "must be a finite number > 0")
            }
            if lr.isFinite, lr > 0 {
                if let given = k, given >= 1, tFinal / lr > Double(given) { return given }  // --steps is the smaller
                let fromTime = try DescentSettings.stepCount(tFinal: tFinal, learningRate: lr)
                k = min(k ?? fromTime, fromTime)
            }
        }
        return k ?? 100_000
    }

    func settings() throws -> DescentSettings {
        DescentSettings(learningRate: lr, steps: try stepCount(), divergenceFactor: divergenceFactor)
    }
}

extension RunConfiguration {
    /// A configuration from the option groups every command shares.
    init(problem: ProblemOptions, network: NetworkOptions, recording: RecordingOptions, monitors: MonitorOptions,
         output: OutputOptions, solver: SolverSettings = SolverSettings(), schedule: OutputSchedule,
         descent: DescentSettings? = nil, central: CentralFlowSettings? = nil) throws {
        try network.checkZeroLayer()
        self.init(
            dataFile: problem.dataFile,
            synthetic: problem.synthetic(model: network.model),
            seed: problem.seed, model: network.model, depth: network.depth, widths: try network.widthList(),
            initialization: try network.initialization, initWeightsFile: network.initWeights, initWeightsSnapshot: network.initFrom,
            solver: solver, schedule: schedule, lossTolerance: recording.lossTolerance, threads: output.threads,
            outputPath: output.output, overwrite: output.force, flushInterval: output.flushInterval,
            monitors: try monitors.selection(), sharpness: monitors.sharpness, descent: descent,
            scaleExponent: network.scaleExponent, saveWeights: recording.saveWeights, central: central)
    }
}
