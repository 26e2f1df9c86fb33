/// How the initial weights `W(0)` are chosen (MATH.md §0).
public enum WeightInitialization: Sendable, Equatable, Codable {
    /// Fully connected: i.i.d. `N(0, s²)` entries in every layer; `zeroLayer = k` sets `W_k(0) = 0`
    /// (assumption (A1) of the paper holds a.s. with one zero layer).
    case gaussian(scale: Double, zeroLayer: Int?)
    /// Residual: `W_k(0) = I_d + (s/√(L·d)) N_k` with `N_k` i.i.d. `N(0, 1)`.
    case residual(scale: Double)
    /// Weights read from a file (`initWeightsFile`).
    case file(path: String)

    /// The name written to the trajectory file's `/network` attribute `init`.
    public var name: String {
        switch self {
        case .gaussian: return "gaussian"
        case .residual: return "residual"
        case .file: return "file"
        }
    }

    /// The scale `s` (NaN for weights from a file).
    public var scale: Double {
        switch self {
        case let .gaussian(s, _), let .residual(s): return s
        case .file: return .nan
        }
    }

    /// The field of the scale `s` in a configuration's encoding (`initialization.gaussian.scale`, …).
    var scaleField: ConfigurationField { if case .residual = self { return .residualScale } else { return .gaussianScale } }

    /// The random stream used for initial weights (the data use stream 0, the projection stream 2).
    static let weightStream: UInt64 = 1
    static let projectionStream: UInt64 = 2

    /// Checks the scale (and the zero layer against `depth`) before anything is drawn; `draw` checks them too.
    public func validate(depth: Int) throws {
        guard case .file = self else {
            let s = scale
            guard s.isFinite, s >= 0 else {
                throw GradFlowError.invalidConfiguration(field: scaleField, value: "\(s)", reason: "must be a finite number ≥ 0")
            }
            if case let .gaussian(_, zeroLayer) = self {
                guard s > 0 else {
                    throw GradFlowError.invalidConfiguration(field: scaleField, value: "\(s)",
                                                        reason: "must be > 0 for a Gaussian initialisation (W = 0 is a saddle where the gradient vanishes)")
                }
                if let k = zeroLayer, !(1...max(depth, 1)).contains(k) {
                    throw GradFlowError.invalidConfiguration(field: .zeroLayer, value: "\(k)", reason: "must be a layer index in 1…\(depth)")
                }
            }
            return
        }
    }

    /// Draws `W(0)` for a network of the given shape, as one stacked vector (layout of `NetworkShape`).
    /// Draws happen layer by layer, each row-major, from the seed's weight stream.
    /// - Throws: `GradFlowError.invalidConfiguration` for a negative or non-finite scale, a zero layer out of
    ///   range, or `.file` (those weights are read, not drawn).
    public func draw(shape: NetworkShape, seed: UInt64) throws -> [Double] {
        let s = scale
        guard s.isFinite, s >= 0 else {
            throw GradFlowError.invalidConfiguration(field: scaleField, value: "\(s)", reason: "must be a finite number ≥ 0")
        }
        var rng = GaussianGenerator(seed: seed, stream: Self.weightStream)
        switch self {
        case let .gaussian(_, zeroLayer):
            guard s > 0 else {
                throw GradFlowError.invalidConfiguration(field: scaleField, value: "\(s)",
                                                    reason: "must be > 0 for a Gaussian initialisation (W = 0 is a saddle where the gradient vanishes)")
            }
            if let k = zeroLayer, !(1...shape.depth).contains(k) {
                throw GradFlowError.invalidConfiguration(
                    field: .zeroLayer, value: "\(k)", reason: "must be a layer index in 1…\(shape.depth)")
            }
            var theta = rng.gaussians(shape.parameterCount, scale: s)
            if let k = zeroLayer {
                for i in shape.range(k) { theta[i] = 0 }
            }
            return theta
        case .residual:
            let d = shape.inputDimension
            let factor = s / Double(shape.depth * d).squareRoot()
            var theta = rng.gaussians(shape.parameterCount, scale: factor)
            for k in 1...shape.depth {
                for i in 0..<d { theta[shape.offset(k) + i * d + i] += 1 }
            }
            return theta
        case let .file(path):
            throw GradFlowError.invalidConfiguration(field: .initWeightsFile, value: "\(path)", reason: "weights from a file are read, not drawn")
        }
    }

    /// The residual network's projection: a random unit vector of length `d` from the seed's
    /// projection stream ("random isotropic vector of unit norm", paper App. C).
    public static func randomUnitProjection(dimension d: Int, seed: UInt64) -> [Double] {
        var rng = GaussianGenerator(seed: seed, stream: projectionStream)
        let v = rng.gaussians(d)
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }
}
