/// A deep linear network `f(x) = pᵀ W_L ⋯ W_1 x` without its weights: shape, kind and the fixed
/// (untrained) projection `p ∈ ℝ^{m_L}` (MATH.md §0).
public struct DeepLinearNetwork: Sendable, Equatable {
    public let shape: NetworkShape
    public let kind: NetworkKind
    /// The projection `p`, of length `m_L`.
    public let projection: [Double]

    /// - Throws: `GradFlowError.invalidArgument` when `p` has the wrong length or is not finite, or
    ///   when a residual network is not square.
    public init(shape: NetworkShape, kind: NetworkKind, projection: [Double]) throws {
        guard projection.count == shape.outputWidth else {
            throw GradFlowError.invalidArgument(
                option: "p", value: "length \(projection.count)",
                reason: "the projection must have m_L = \(shape.outputWidth) entries")
        }
        guard projection.allSatisfy(\.isFinite) else {
            throw GradFlowError.invalidArgument(option: "p", value: "\(projection)", reason: "must be finite")
        }
        if kind == .residual, shape.widths.contains(where: { $0 != shape.inputDimension }) {
            throw GradFlowError.invalidArgument(
                option: "--widths", value: shape.widths.map(String.init).joined(separator: ","),
                reason: "a residual network has all layers d×d (d = \(shape.inputDimension))")
        }
        self.shape = shape
        self.kind = kind
        self.projection = projection
    }

    /// `‖p‖`.
    public var projectionNorm: Double { projection.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}
