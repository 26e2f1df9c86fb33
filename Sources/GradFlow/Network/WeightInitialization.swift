import Glibc

/// How the initial weights `W(0)` are chosen (MATH.md §0).
public enum WeightInitialization: Sendable, Equatable, Codable {
    /// Fully connected: i.i.d. `N(0, s²)` entries in every layer; `zeroLayer = k` sets `W_k(0) = 0`
    /// (assumption (A1) of the paper holds a.s. with one zero layer).
    case gaussian(scale: Double, zeroLayer: Int?)
    /// Residual: `W_k(0) = I_d + (s/√(L·d)) N_k` with `N_k` i.i.d. `N(0, 1)`.
    case residual(scale: Double)
    /// Balanced (MATH.md §10.5): A (q×d, q = m_L) with i.i.d. `N(0, s²)` entries, `A = UΣ_AVᵀ` (rank r), and
    /// `W_1 = O_1Σ_A^{1/L}Vᵀ, W_k = O_kΣ_A^{1/L}O_{k−1}ᵀ, W_L = UΣ_A^{1/L}O_{L−1}ᵀ` with random `O_k` (m_k×r,
    /// orthonormal columns): every `D_k(0) = 0` and `W_L⋯W_1 = A`. Needs every hidden width ≥ r.
    case balanced(scale: Double)
    /// Spectral (MATH.md §10.2, §10.5): from the target's SVD `M* = Σ_i σ_i u_i v_iᵀ`,
    /// `W_1 = O_1CV*ᵀ, W_k = O_kCO_{k−1}ᵀ, W_L = U*CO_{L−1}ᵀ` with `C = diag(a_i(0)^{1/L})`: every mode starts
    /// at strength a_i(0) (one value for all modes, or one per mode) and stays balanced.
    case spectral(strengths: [Double])
    /// Fully connected with one scale per layer: `W_k` has i.i.d. `N(0, s_k²)` entries (sets the imbalance,
    /// for example a heavy W_2).
    case layerwise(scales: [Double])
    /// Weights read from a file (`initWeightsFile`).
    case file(path: String)

    /// The name written to the trajectory file's `/network` attribute `init`.
    public var name: String {
        switch self {
        case .gaussian: return "gaussian"
        case .residual: return "residual"
        case .balanced: return "balanced"
        case .spectral: return "spectral"
        case .layerwise: return "layerwise"
        case .file: return "file"
        }
    }

    /// The scale `s` (the first mode strength for `spectral`, the largest layer scale for `layerwise`; NaN
    /// for weights from a file).
    public var scale: Double {
        switch self {
        case let .gaussian(s, _), let .residual(s), let .balanced(s): return s
        case let .spectral(strengths): return strengths.first ?? .nan
        case let .layerwise(scales): return scales.max() ?? .nan
        case .file: return .nan
        }
    }

    /// The field of the scale `s` in a configuration's encoding (`initialization.gaussian.scale`, …).
    var scaleField: ConfigurationField {
        switch self {
        case .residual: return .residualScale
        case .balanced: return .balancedScale
        case .spectral: return .modeStrengths
        case .layerwise: return .layerScales
        default: return .gaussianScale
        }
    }

    /// Whether it draws a fully connected network (all but `residual`).
    public var isFullyConnected: Bool { if case .residual = self { return false } else { return true } }

    /// The random stream used for initial weights (the data use stream 0, the projection stream 2).
    static let weightStream: UInt64 = 1
    static let projectionStream: UInt64 = 2

    /// Checks the scale (and the zero layer, the layer scales against `depth`) before anything is drawn; `draw`
    /// checks them too.
    public func validate(depth: Int) throws {
        switch self {
        case .file: return
        case let .spectral(strengths):
            guard !strengths.isEmpty else {
                throw GradFlowError.invalidConfiguration(field: .modeStrengths, value: "(none)", reason: "give one initial mode strength, or one per mode")
            }
            if let bad = strengths.first(where: { !($0.isFinite && $0 > 0) }) {
                throw GradFlowError.invalidConfiguration(field: .modeStrengths, value: "\(bad)",
                                                         reason: "every initial mode strength a_i(0) must be a finite number > 0")
            }
            return
        case let .layerwise(scales):
            guard scales.count == depth else {
                throw GradFlowError.invalidConfiguration(field: .layerScales, value: "\(scales.map { "\($0)" }.joined(separator: ","))",
                                                         reason: "give one scale per layer: \(depth) for L = \(depth), not \(scales.count)")
            }
            if let bad = scales.first(where: { !($0.isFinite && $0 > 0) }) {
                throw GradFlowError.invalidConfiguration(field: .layerScales, value: "\(bad)", reason: "every layer scale must be a finite number > 0")
            }
            return
        default:
            break
        }
        let s = scale
        guard s.isFinite, s >= 0 else {
            throw GradFlowError.invalidConfiguration(field: scaleField, value: "\(s)", reason: "must be a finite number ≥ 0")
        }
        switch self {
        case let .gaussian(_, zeroLayer):
            guard s > 0 else {
                throw GradFlowError.invalidConfiguration(field: scaleField, value: "\(s)",
                                                    reason: "must be > 0 for a Gaussian initialisation (W = 0 is a saddle where the gradient vanishes)")
            }
            if let k = zeroLayer, !(1...max(depth, 1)).contains(k) {
                throw GradFlowError.invalidConfiguration(field: .zeroLayer, value: "\(k)", reason: "must be a layer index in 1…\(depth)")
            }
        case .balanced:
            guard s > 0 else {
                throw GradFlowError.invalidConfiguration(field: scaleField, value: "\(s)", reason: "must be > 0 for a balanced initialisation")
            }
        default:
            break
        }
    }

    /// Draws `W(0)` for a network of the given shape, as one stacked vector (layout of `NetworkShape`).
    /// Draws happen layer by layer, each row-major, from the seed's weight stream. `target` is M* (m_L×d
    /// row-major), which only `spectral` uses.
    /// - Throws: `GradFlowError.invalidConfiguration` for a negative or non-finite scale, a zero layer out of
    ///   range, hidden widths too narrow for the modes, or `.file` (those weights are read, not drawn).
    public func draw(shape: NetworkShape, seed: UInt64, target: [Double]? = nil) throws -> [Double] {
        try validate(depth: shape.depth)
        let s = scale
        var rng = GaussianGenerator(seed: seed, stream: Self.weightStream)
        switch self {
        case .balanced:
            let q = shape.outputWidth, d = shape.inputDimension
            let a = rng.gaussians(q * d, scale: s)
            let svd = try LAPACK.thinSVD(a, rows: q, columns: d)
            return try Self.factor(svd, strengths: svd.values, shape: shape, rng: &rng, field: .balancedScale)
        case let .spectral(strengths):
            let q = shape.outputWidth, d = shape.inputDimension
            guard let target, target.count == q * d else {
                throw GradFlowError.invalidConfiguration(field: .initialization, value: "spectral",
                                                         reason: "needs the target M* with m_L = \(q) rows (a linear network whose output width is q)")
            }
            let svd = try LAPACK.thinSVD(target, rows: q, columns: d)
            let rank = svd.values.filter { $0 > 1e-12 * (svd.values.first ?? 0) }.count
            guard strengths.count == 1 || strengths.count == rank else {
                throw GradFlowError.invalidConfiguration(field: .modeStrengths, value: "\(strengths.map { "\($0)" }.joined(separator: ","))",
                                                         reason: "give one strength, or one per mode of M* (\(rank))")
            }
            let a = (0..<rank).map { strengths.count == 1 ? strengths[0] : strengths[$0] }
            let k = svd.values.count
            let kept = (u: (0..<q).flatMap { r in (0..<rank).map { svd.u[r * k + $0] } }, vt: Array(svd.vt.prefix(rank * d)))
            return try Self.factor((values: a, u: kept.u, vt: kept.vt), strengths: a, shape: shape, rng: &rng, field: .modeStrengths)
        case let .layerwise(scales):
            var theta: [Double] = []
            theta.reserveCapacity(shape.parameterCount)
            for k in 1...shape.depth { theta += rng.gaussians(shape.range(k).count, scale: scales[k - 1]) }
            return theta
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

    /// The balanced factorisation of `U diag(a) Vᵀ` (u: m_L×r, vt: r×d, row-major) into L layers
    /// `W_1 = O_1CVᵀ, W_k = O_kCO_{k−1}ᵀ, W_L = UCO_{L−1}ᵀ`, `C = diag(a_i^{1/L})`, with random `O_k` (m_k×r,
    /// orthonormal columns, from `rng`). Cost O(Σ_k m_k m_{k−1} r).
    static func factor(_ svd: (values: [Double], u: [Double], vt: [Double]), strengths a: [Double], shape: NetworkShape,
                       rng: inout GaussianGenerator, field: ConfigurationField) throws -> [Double] {
        let L = shape.depth, r = a.count
        let c = a.map { Glibc.pow($0, 1 / Double(L)) }
        for k in 1..<L where shape.rows(k) < r {
            throw GradFlowError.invalidConfiguration(field: .widths, value: "\(shape.widths.map(String.init).joined(separator: ","))",
                                                     reason: "a \(field == .modeStrengths ? "spectral" : "balanced") initialisation of \(r) modes needs every hidden width ≥ \(r) (m_\(k) = \(shape.rows(k)))")
        }
        // left[k] (m_k×r) and right[k] (r×m_{k−1}) for W_k = left·C·right; O_0 = V, O_L = U.
        let frames: [[Double]] = (0...L).map { k in
            if k == 0 { return (0..<shape.inputDimension).flatMap { col in (0..<r).map { svd.vt[$0 * shape.inputDimension + col] } } }  // V, d×r
            if k == L { return svd.u }  // U, m_L×r
            return randomOrthonormalColumns(rows: shape.rows(k), columns: r, rng: &rng)
        }
        var theta = [Double](repeating: 0, count: shape.parameterCount)
        for k in 1...L {
            let rows = shape.rows(k), columns = shape.columns(k), left = frames[k], right = frames[k - 1]
            for i in 0..<rows { for j in 0..<columns {
                var sum = 0.0
                for m in 0..<r { sum += left[i * r + m] * c[m] * right[j * r + m] }
                theta[shape.offset(k) + i * columns + j] = sum
            } }
        }
        return theta
    }

    /// An m×r matrix (row-major) with orthonormal columns: Gaussian columns orthonormalised by modified
    /// Gram–Schmidt, twice. Needs m ≥ r.
    static func randomOrthonormalColumns(rows m: Int, columns r: Int, rng: inout GaussianGenerator) -> [Double] {
        var q = rng.gaussians(m * r)
        for j in 0..<r {
            for _ in 0..<2 {
                for i in 0..<j {
                    var dot = 0.0
                    for row in 0..<m { dot += q[row * r + i] * q[row * r + j] }
                    for row in 0..<m { q[row * r + j] -= dot * q[row * r + i] }
                }
            }
            var norm = 0.0
            for row in 0..<m { norm += q[row * r + j] * q[row * r + j] }
            norm = norm.squareRoot()
            for row in 0..<m { q[row * r + j] /= norm }
        }
        return q
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
