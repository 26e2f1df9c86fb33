import Foundation
import GradFlow

/// One benchmark problem: synthetic data, a fully connected network, a Gaussian initialisation (all on
/// fixed seeds), and where the run stops: at R − R_min ≤ 1e-10, or at a fixed horizon.
struct BenchmarkCase {
    var letter: String
    var title: String
    var samples: Int
    var dimension: Int
    var width: Int
    var depth: Int
    var initScale: Double
    var conditionNumber: Double? = nil
    /// A fixed horizon (case E); nil: stop at R − R_min ≤ 1e-10.
    var horizon: Double? = nil
    var outputTimes = 200

    static let all: [BenchmarkCase] = [
        BenchmarkCase(letter: "A", title: "paper default", samples: 50, dimension: 5, width: 5, depth: 10, initScale: 0.1),
        BenchmarkCase(letter: "B", title: "medium", samples: 200, dimension: 50, width: 50, depth: 10, initScale: 0.1),
        BenchmarkCase(letter: "C", title: "large", samples: 1000, dimension: 200, width: 200, depth: 20, initScale: 1 / 200.0.squareRoot()),
        BenchmarkCase(letter: "D", title: "stiff (B, cond Σ = 1e4)", samples: 200, dimension: 50, width: 50, depth: 10, initScale: 0.1,
                      conditionNumber: 1e4),
        BenchmarkCase(letter: "E", title: "huge, t ∈ [0, 0.02]", samples: 2000, dimension: 1000, width: 1000, depth: 11,
                      initScale: 1 / 1000.0.squareRoot(), horizon: 0.02, outputTimes: 10),
    ]

    var configuration: RunConfiguration {
        var config = RunConfiguration(synthetic: SyntheticData(samples: samples, dimension: dimension, conditionNumber: conditionNumber),
                                      depth: depth, widths: [width], initialization: .gaussian(scale: initScale, zeroLayer: nil))
        config.threads = 1
        config.monitors = .none  // as the timed runs (`--monitors none`); the memory estimate then fits case E
        return config
    }

    /// The options of `gradflow run` that give this case's stop, beyond the data and weights file.
    var stopArguments: [String] {
        var arguments = ["--output-times", "\(outputTimes)"]
        if let horizon { arguments += ["--no-loss-stop", "--t-final", "\(horizon)"] }
        return arguments
    }

    /// Writes X, y and W1…WL (the problem every tool reads) and returns the setup.
    func writeProblem(to path: String) throws -> RunSetup {
        let setup = try RunSetup.prepare(configuration, checkOutput: false)
        let file = try HDF5File.create(path, overwrite: true)
        let problem = setup.problem
        try file.writeDataset("X", problem.inputs, shape: [problem.sampleCount, problem.dimension])
        try file.writeDataset("y", problem.targets, shape: [problem.sampleCount])
        let shape = setup.network.shape
        for k in 1...shape.depth {
            try file.writeDataset("W\(k)", Array(setup.initialWeights[shape.range(k)]), shape: [shape.rows(k), shape.columns(k)])
        }
        try file.setAttribute("depth", .integer(shape.depth))
        try file.setAttribute("case", .string(letter))
        return setup
    }
}
