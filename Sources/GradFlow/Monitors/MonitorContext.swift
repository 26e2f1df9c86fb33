/// What every monitor of a run may read: the problem, the network, W(0), the dynamics that produce the
/// trajectory, the selection and settings, the theoretical bounds, and the monitors' own risk instance
/// (shared, so that a network's caches exist once; never the integrator's). Built once per run.
public final class MonitorContext {
    public let network: Network
    public let problem: RegressionProblem
    /// θ(0), the stacked initial weights.
    public let initialWeights: [Double]
    public let initialization: WeightInitialization
    public let dynamics: MonitorSuite.Dynamics
    public let selection: MonitorSelection
    public let sharpness: SharpnessSettings
    /// The theoretical values of MATH.md §4 for scalar targets; nil for q outputs (Theorem 5 states none).
    public let bounds: TheoreticalBounds?
    /// The monitors' risk instance (used at output times and checkpoints, and by the closing report).
    public let risk: any DifferentiableRisk
    /// The conserved quantities D_k(0) of Lemma 1 (nil for L = 1), computed when first needed.
    public private(set) lazy var initialImbalances: Imbalances? =
        network.shape.depth >= 2 ? Imbalances(initialWeights: initialWeights, shape: network.shape) : nil

    public init(network: Network, problem: RegressionProblem, initialWeights: [Double], initialization: WeightInitialization,
                dynamics: MonitorSuite.Dynamics, selection: MonitorSelection, sharpness: SharpnessSettings) throws {
        self.network = network
        self.problem = problem
        self.initialWeights = initialWeights
        self.initialization = initialization
        self.dynamics = dynamics
        self.selection = selection
        self.sharpness = sharpness
        bounds = problem.outputCount == 1
            ? try TheoreticalBounds(problem: problem, network: network, initialization: initialization) : nil
        risk = RiskFactory.makeRisk(network: network, problem: problem)
    }

    public var depth: Int { network.shape.depth }
}
