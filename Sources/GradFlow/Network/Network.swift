/// A network without its weights: its shape, kind, model, and the fixed (untrained) projection
/// `p ∈ ℝ^{m_L}` when it has one (MATH.md §0).
///
/// - `linear` with `p`: the paper's scalar-output deep linear network `f(x) = pᵀW_L⋯W_1x`.
/// - `linear` without `p`: multivariate output `f(x) = W_L⋯W_1x ∈ ℝ^q`, q = m_L (MATH.md §6.1).
/// - `gelu`: the GELU perceptron of MATH.md §6.3, with q = m_L outputs and no projection.
public struct Network: Sendable, Equatable {
    public let shape: NetworkShape
    public let kind: NetworkKind
    public let model: NetworkModel
    /// The projection `p`, of length `m_L`; nil for multivariate output and for GELU networks.
    public let projection: [Double]?

    /// - Throws: `GradFlowError.invalidConfiguration` when `p` has the wrong length or is not finite, when a
    ///   GELU network is given a projection, or when a residual network is not square.
    public init(shape: NetworkShape, kind: NetworkKind, model: NetworkModel = .linear, projection: [Double]?) throws {
        if let projection {
            guard model == .linear else {
                throw GradFlowError.invalidConfiguration(field: .projection, value: "length \(projection.count)",
                                                    reason: "a GELU network has no projection (its output is z_L)")
            }
            guard projection.count == shape.outputWidth else {
                throw GradFlowError.invalidConfiguration(
                    field: .projection, value: "length \(projection.count)",
                    reason: "the projection must have m_L = \(shape.outputWidth) entries")
            }
            guard projection.allSatisfy(\.isFinite) else {
                throw GradFlowError.invalidConfiguration(field: .projection, value: "\(projection)", reason: "must be finite")
            }
        }
        if kind == .residual, shape.widths.contains(where: { $0 != shape.inputDimension }) {
            throw GradFlowError.invalidConfiguration(
                field: .widths, value: "\(shape.widths.map(String.init).joined(separator: ","))",
                reason: "a residual network has all layers d×d (d = \(shape.inputDimension))")
        }
        self.shape = shape
        self.kind = kind
        self.model = model
        self.projection = projection
    }

    /// Whether a network of `model` on data with `outputCount` targets has a projection p: only the linear
    /// network with scalar targets does (multivariate output and GELU networks end in W_L).
    public static func takesProjection(model: NetworkModel, outputCount: Int) -> Bool { model == .linear && outputCount == 1 }

    /// `‖p‖` (1 without a projection).
    public var projectionNorm: Double { projection.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() } ?? 1 }

    /// The number of outputs q: 1 with a projection, m_L without.
    public var outputCount: Int { projection == nil ? shape.outputWidth : 1 }

    /// Whether this is the paper's main setting, a linear network with scalar output `pᵀW_L⋯W_1x`, where
    /// Lemma 2, the PL certificate and the sharpness bounds of MATH.md §4 apply.
    public var isScalarLinear: Bool { model == .linear && projection != nil }

    /// Whether the conservation law of Lemma 1 holds under gradient flow (linear networks; MATH.md §4.1, §6.3).
    public var hasConservationLaw: Bool { model == .linear }

    /// A one-line name of the model, for summaries.
    public var modelDescription: String {
        switch (model, projection) {
        case (.gelu, _): return "GELU MLP"
        case (.linear, nil): return "deep linear, \(shape.outputWidth) outputs"
        case (.linear, _): return "deep linear"
        }
    }
}
