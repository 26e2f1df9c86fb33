import Foundation
import GradFlow
import Testing

/// Problems, networks and runs of the extension models (MATH.md §6), shared by their tests.
enum ExtensionFixtures {
    static func problem(samples: Int = 9, dimension: Int, outputs: Int, noise: Double = 1, seed: UInt64 = 5) throws -> RegressionProblem {
        try SyntheticData(samples: samples, dimension: dimension, noise: noise, seed: seed, outputs: outputs).makeProblem()
    }

    /// (model, widths, kind): several shapes of each model, non-square widths, L = 1, q > 1 and residual.
    static let cases: [(NetworkModel, [Int], NetworkKind)] = [
        (.linear, [4, 3, 5, 2], .fullyConnected), (.linear, [3, 3, 3, 3], .residual), (.linear, [4, 2], .fullyConnected),
        (.gelu, [4, 3, 5, 1], .fullyConnected), (.gelu, [3, 3, 3, 3, 1], .fullyConnected), (.gelu, [3, 5, 2], .fullyConnected),
    ]

    static func fixture(_ index: Int) throws -> (any DifferentiableRisk, Network, RegressionProblem, [Double]) {
        let (model, widths, kind) = cases[index]
        let problem = try Self.problem(dimension: widths[0], outputs: widths.last!)
        let network = try ModelReference.network(widths, model: model, kind: kind)
        let initialization: WeightInitialization = kind == .residual ? .residual(scale: 1) : .gaussian(scale: 0.7, zeroLayer: nil)
        let theta = try initialization.draw(shape: network.shape, seed: UInt64(11 + index))
        return (RiskFactory.makeRisk(network: network, problem: problem), network, problem, theta)
    }

    static func flow(_ scratch: Scratch, _ name: String, model: NetworkModel, synthetic: SyntheticData, depth: Int,
                     initialization: WeightInitialization = .gaussian(scale: 0.5, zeroLayer: nil), tFinal: Double = 1e4) throws -> GradientFlowRunSummary {
        let config = RunConfiguration(synthetic: synthetic, seed: synthetic.seed, model: model, depth: depth, initialization: initialization,
                                      solver: SolverSettings(relativeTolerance: 1e-10, absoluteTolerance: 1e-13),
                                      schedule: OutputSchedule(tFinal: tFinal, count: 40), lossTolerance: 1e-12,
                                      outputPath: scratch.path(name), flushInterval: 0)
        return try GradientFlowRun.execute(config, commandLine: "test")
    }

    static func verdict(_ summary: GradientFlowRunSummary, _ key: String) throws -> MonitorVerdict {
        try #require(summary.verdicts.first { $0.key == key })
    }
}
