/// What `compare --central` measures at each descent row beside the flows' (MATH.md §11), on risk instances of
/// its own: descent's two-step average θ̄_k = (θ_k + θ_{k+1})/2 = θ_k − (η/2)∇R(θ_k) (exact: θ_{k+1} is one
/// more step) and its two-step average loss, the three sharpnesses by Lanczos (warm-started per trajectory),
/// the sharpness at θ̄_k, and the distances. Cost per row: a gradient, two loss evaluations and three Lanczos runs (the central flow's
/// S is its own row's).
final class CentralComparisonProbe {
    private let risk: any DifferentiableRisk
    private let descentSharpness: SharpnessEstimator
    private let flowSharpness: SharpnessEstimator
    private let eta: Double
    private let averageSharpness: SharpnessEstimator
    private var descentStart: [Double]?
    private var averageStart: [Double]?
    private var flowStart: [Double]?

    init(setup: RunSetup, learningRate: Double) {
        risk = RiskFactory.makeRisk(network: setup.network, problem: setup.problem)
        descentSharpness = SharpnessEstimator(risk: RiskFactory.makeRisk(network: setup.network, problem: setup.problem), tolerance: 1e-10)
        averageSharpness = SharpnessEstimator(risk: RiskFactory.makeRisk(network: setup.network, problem: setup.problem), tolerance: 1e-10)
        flowSharpness = SharpnessEstimator(risk: RiskFactory.makeRisk(network: setup.network, problem: setup.problem), tolerance: 1e-10)
        eta = learningRate
    }

    /// `central` nil: the central flow has no row at this time (it stopped earlier); its columns stay NaN.
    func compare(descent: RecordedRow, flow: RecordedRow, central: RecordedRow?, into row: inout ComparisonRow) {
        let gradient = risk.gradient(at: descent.weights)
        let average = zip(descent.weights, gradient).map { $0 - eta / 2 * $1 }
        let next = zip(descent.weights, gradient).map { $0 - eta * $1 }
        row.averagedFlowDistance = GradientComparison.relativeDistance(average, flow.weights)
        row.descentAveragedLoss = (descent.evaluation.loss + risk.evaluate(at: next).loss) / 2
        if let central {
            row.centralDistance = GradientComparison.relativeDistance(descent.weights, central.weights)
            row.averagedCentralDistance = GradientComparison.relativeDistance(average, central.weights)
            row.centralSharpness = central.monitors[CentralFlowDynamics.Column.sharpness]?.first ?? .nan
            row.centralPhase = central.monitors[CentralFlowDynamics.Column.phase]?.first ?? .nan
            row.centralPredictedLoss = central.monitors[CentralFlowDynamics.Column.averagedLoss]?.first ?? .nan
        }
        if let estimate = try? descentSharpness.lanczos(at: descent.weights, start: descentStart) {
            row.descentSharpness = estimate.lambdaMax
            descentStart = estimate.ritzVector
        }
        if let estimate = try? averageSharpness.lanczos(at: average, start: averageStart) {
            row.averagedDescentSharpness = estimate.lambdaMax
            averageStart = estimate.ritzVector
        }
        if let estimate = try? flowSharpness.lanczos(at: flow.weights, start: flowStart) {
            row.flowSharpness = estimate.lambdaMax
            flowStart = estimate.ritzVector
        }
    }
}
