import Foundation
import GradFlow
import Testing

@Suite("Gradient descent beside gradient flow")
struct GradientDescentTests {
    static func setup(depth: Int = 3, init initialization: WeightInitialization = .gaussian(scale: 0.5, zeroLayer: nil)) throws -> RunSetup {
        try RunSetup.prepare(RunConfiguration(synthetic: SyntheticData(samples: 20, dimension: 3), depth: depth,
                                              initialization: initialization), checkOutput: false)
    }

    static func descend(_ setup: RunSetup, eta: Double, steps: Int, lossTolerance: Double? = nil) throws -> GradientDescentResult {
        let risk = DeepLinearRisk(network: setup.network, problem: setup.problem)
        return try GradientDescent(risk: risk, shape: setup.network.shape, settings: DescentSettings(learningRate: eta, steps: steps))
            .run(from: setup.initialWeights, outputSteps: [], lossTolerance: lossTolerance, trackDrift: false) { _, _, _, _, _ in }
    }

    @Test("as η → 0, GD converges to the flow at first order: halving η halves the distance at t = 2")
    func firstOrderConvergence() throws {
        let setup = try Self.setup()
        let risk = DeepLinearRisk(network: setup.network, problem: setup.problem)
        let flow = try GradientFlowIntegrator(risk: risk, settings: SolverSettings(relativeTolerance: 1e-12, absoluteTolerance: 1e-14))
            .integrate(from: setup.initialWeights, schedule: OutputSchedule(tFinal: 2, count: 1), lossTolerance: nil) { _, _, _ in }
        let distances = try [0.02, 0.01, 0.005].map { eta in
            Reference.relativeError(try Self.descend(setup, eta: eta, steps: Int((2 / eta).rounded())).finalWeights, flow.finalWeights)
        }
        #expect(distances[0] > 1e-6)  // GD and GF really differ
        for i in 0..<2 {
            let ratio = distances[i] / distances[i + 1]
            #expect(ratio > 1.8 && ratio < 2.2, "ratio \(ratio)")
        }
    }

    @Test("one GD step changes D_k by exactly η²(G_kG_kᵀ − G_{k+1}ᵀG_{k+1}) (MATH.md §5)")
    func oneStepConservationChange() throws {
        let shape = try NetworkShape(widths: [3, 4, 2, 5, 1])
        let problem = try Fixtures.problem(samples: 10, dimension: 3)
        let network = try Network(shape: shape, kind: .fullyConnected, projection: [1])
        var rng = GaussianGenerator(seed: 21)
        let theta = rng.gaussians(shape.parameterCount).map { 0.6 * $0 }
        let risk = DeepLinearRisk(network: network, problem: problem)
        let eta = 0.05
        let gradient = risk.gradient(at: theta)
        let next = zip(theta, gradient).map { $0 - eta * $1 }
        let change = Imbalances(initialWeights: theta, shape: shape).differences(at: next)
        for k in 1..<shape.depth {
            // η²(G_kG_kᵀ − G_{k+1}ᵀG_{k+1}): the imbalance formula applied to the gradient blocks, by loops.
            let expected = Reference.imbalance(gradient, shape: shape, k: k).map { eta * eta * $0 }
            #expect(Reference.relativeError(change[k - 1].difference, expected) < 1e-9)
        }
    }

    @Test("a run's accumulated drift matches the η² sum, and the file says so")
    func accumulatedDrift() throws {
        let scratch = try Scratch()
        let config = RunConfiguration(synthetic: SyntheticData(samples: 20, dimension: 3), depth: 4,
                                      initialization: .gaussian(scale: 0.5, zeroLayer: nil), schedule: OutputSchedule(tFinal: 1, count: 20),
                                      lossTolerance: 1e-8, outputPath: scratch.path("gd.h5"),
                                      descent: DescentSettings(learningRate: 0.05, steps: 3000))
        let summary = try GradientDescentRun.execute(config, commandLine: "test")
        #expect(summary.result.stopReason == .lossTolerance)
        let file = try TrajectoryFile(path: config.outputPath)
        #expect(file.attribute("method") == "gradient-descent")
        let predicted = try file.dataset("trajectory/conservation_drift_predicted")
        let actual = try file.dataset("trajectory/conservation_drift_abs")
        #expect(predicted.max()! > 1e-4)  // descent really breaks the law
        let last = predicted.count - 3
        for k in 0..<3 { #expect(abs(predicted[last + k] - actual[last + k]) <= 1e-8 * predicted[last + k]) }
        #expect(summary.report.verdicts.first { $0.key == "conservation_drift" }?.outcome == .holds)
        let steps = try file.dataset("trajectory/step"), times = try file.dataset("trajectory/time")
        #expect(zip(steps, times).allSatisfy { abs($0 * 0.05 - $1) < 1e-12 })
    }

    @Test("well below the critical η GD converges to a minimiser with S < 2/η; well above, it diverges")
    func convergenceAndDivergence() throws {
        let scratch = try Scratch()
        let base = try Self.setup(depth: 4)
        let bounds = try TheoreticalBounds(problem: base.problem, network: base.network, initialization: base.initialization)
        var config = RunConfiguration(synthetic: SyntheticData(samples: 20, dimension: 3), depth: 4,
                                      initialization: .gaussian(scale: 0.5, zeroLayer: nil), lossTolerance: 1e-10,
                                      outputPath: scratch.path("slow.h5"),
                                      descent: DescentSettings(learningRate: 0.5 * bounds.criticalLearningRateLower, steps: 100_000))
        let slow = try GradientDescentRun.execute(config, commandLine: "test")
        #expect(slow.result.stopReason == .lossTolerance)
        #expect(slow.report.finalSharpness! < 2 / config.descent!.learningRate)
        config.outputPath = scratch.path("fast.h5")
        config.descent = DescentSettings(learningRate: 3 * bounds.criticalLearningRateUpper, steps: 100_000)
        let fast = try GradientDescentRun.execute(config, commandLine: "test")
        #expect(fast.result.stopReason == .diverged)
        #expect(fast.divergenceMessage?.contains("diverged at step") == true)
        let file = try TrajectoryFile(path: config.outputPath)
        #expect(file.status == .diverged)
        guard case .integer(let step)? = try? file.value("divergence_step", in: "solver") else { Issue.record("no divergence_step"); return }
        #expect(step == fast.result.steps)
    }

    @Test("bisection brackets the critical learning rate, inside the predicted interval's neighbourhood")
    func bisectionBrackets() throws {
        let config = RunConfiguration(synthetic: SyntheticData(samples: 20, dimension: 3), depth: 4,
                                      initialization: .residual(scale: 0.25))
        let settings = CriticalLearningRateSettings(bisectionSteps: 6, steps: 5000, lossTolerance: 1e-8)
        let result = try CriticalLearningRate.find(config, settings: settings)
        #expect(result.failing / result.converging <= pow(result.initialBracketRatio, pow(2, -6)) * (1 + 1e-12))
        #expect(result.failing / result.converging < 1.05)
        let setup = try RunSetup.prepare(config, checkOutput: false)
        func converges(_ eta: Double) throws -> Bool {
            let risk = DeepLinearRisk(network: setup.network, problem: setup.problem)
            return try GradientDescent(risk: risk, shape: setup.network.shape, settings: DescentSettings(learningRate: eta, steps: settings.steps))
                .run(from: setup.initialWeights, outputSteps: [], lossTolerance: settings.lossTolerance, trackDrift: false) { _, _, _, _, _ in }
                .stopReason == .lossTolerance
        }
        #expect(try converges(result.converging))
        #expect(try !converges(result.failing))
        #expect(result.estimate > 0.5 * result.predictionLower && result.estimate < 2 * result.predictionUpper)
    }

    @Test("compare writes the flow at exactly t = kη, and the shared summary")
    func compareFiles() throws {
        let scratch = try Scratch()
        let config = RunConfiguration(synthetic: SyntheticData(samples: 20, dimension: 3), depth: 3,
                                      initialization: .gaussian(scale: 0.5, zeroLayer: nil),
                                      schedule: OutputSchedule(tFinal: 1, count: 15), outputPath: scratch.path("cmp.h5"),
                                      monitors: MonitorSelection(conservation: true, lemma2: false, plRatio: false, sharpness: false),
                                      descent: DescentSettings(learningRate: 0.01, steps: 500))
        let summary = try GradientComparison.execute(config, commandLine: "test")
        let flowTimes = try TrajectoryFile(path: summary.flowPath).dataset("trajectory/time")
        let descentTimes = try TrajectoryFile(path: summary.descentPath).dataset("trajectory/time")
        #expect(flowTimes == descentTimes)
        #expect(summary.rows.first?.relativeDistance == 0)
        #expect(summary.rows.last!.relativeDistance > 0)
        let root = try HDF5File.open(summary.outputPath)
        #expect(try root.attribute("format") == .string("gradflow-comparison"))
        #expect(try root.readDataset("comparison/relative_distance").values.count == summary.rows.count)
    }
}
