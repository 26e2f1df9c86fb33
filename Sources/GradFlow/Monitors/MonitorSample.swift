import COpenBLAS

/// One point of the trajectory as the monitors see it: the time, θ, the risk there, and for gradient
/// descent the step and MATH.md §5's accumulated η² drift. Quantities that several monitors need (the
/// imbalance differences D_k(θ) − D_k(0), the end-to-end geometry) are computed once, when first asked for.
public final class MonitorSample {
    public let time: Double
    public let weights: [Double]
    public let evaluation: RiskEvaluation
    /// The descent step k (0 for gradient flow).
    public let step: Int
    /// For gradient descent: the accumulated η² sum of MATH.md §5 after `step` steps (blocks of
    /// `DeepLinearRisk.accumulateDescentDrift`, upper triangles); valid during the call that receives it.
    public let predictedDrift: UnsafeBufferPointer<Double>?
    public let context: MonitorContext

    public init(time: Double, weights: [Double], evaluation: RiskEvaluation, step: Int = 0,
                predictedDrift: UnsafeBufferPointer<Double>? = nil, context: MonitorContext) {
        self.time = time
        self.weights = weights
        self.evaluation = evaluation
        self.step = step
        self.predictedDrift = predictedDrift
        self.context = context
    }

    /// Per k = 1…L−1: `D_k(θ) − D_k(0)` and the scale of the weights there (empty for L = 1).
    public private(set) lazy var imbalanceDifferences: [(difference: [Double], scale: Double)] =
        context.initialImbalances?.differences(at: weights) ?? []

    /// Per k = 1…L−1: `‖D_k(θ) − D_k(0)‖_F`.
    public private(set) lazy var imbalanceDrift: [Double] =
        imbalanceDifferences.map { cblas_dnrm2(Int32($0.difference.count), $0.difference, 1) }

    /// M = W_L⋯W_1 at θ (w for scalar output; q×d row-major), nil for a nonlinear network.
    public private(set) lazy var endToEndMap: [Double]? = context.risk.endToEndMap(weights)

    private var cachedGeometry: NetworkGeometry?

    /// b_k, A_k and K at θ (scalar-output linear networks only).
    public func geometry() throws -> NetworkGeometry {
        if let cachedGeometry { return cachedGeometry }
        let geometry = try NetworkGeometry(weights: weights, network: context.network)
        cachedGeometry = geometry
        return geometry
    }
}
