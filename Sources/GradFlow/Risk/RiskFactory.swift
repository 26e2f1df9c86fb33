/// Chooses the risk implementation that fits a network and its data.
public enum RiskFactory {
    /// `DeepLinearRisk` for the paper's scalar-output linear network (MATH.md §1–§2),
    /// `MultiOutputLinearRisk` for a linear network without projection (§6.1), `GELUNetworkRisk` for the
    /// GELU perceptron (§6.3). Each call returns a new instance with its own workspaces.
    public static func makeRisk(network: Network, problem: RegressionProblem) -> any DifferentiableRisk {
        switch network.model {
        case .gelu: return GELUNetworkRisk(network: network, problem: problem)
        case .linear where network.projection == nil: return MultiOutputLinearRisk(network: network, problem: problem)
        case .linear: return DeepLinearRisk(network: network, problem: problem)
        }
    }
}
