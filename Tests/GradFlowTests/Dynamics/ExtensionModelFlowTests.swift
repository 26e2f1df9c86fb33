import Foundation
import GradFlow
import Testing

@Suite("Extension models along the flow and descent: q outputs, GELU, n < d (MATH.md §6)")
struct ExtensionModelFlowTests {
    @Test("multivariate output: Lemma 1 holds along the flow, which converges to M* = (X⁺Y)ᵀ")
    func multivariateConservation() throws {
        let scratch = try Scratch()
        let summary = try ExtensionFixtures.flow(scratch, "multi.h5", model: .linear,
                                    synthetic: SyntheticData(samples: 20, dimension: 4, seed: 3, outputs: 3), depth: 3)
        let file = try TrajectoryFile(path: summary.outputPath)
        let drift = try file.dataset("trajectory/conservation_drift")
        #expect(drift.max()! < 1e-7)
        #expect(try ExtensionFixtures.verdict(summary, "conservation_drift").outcome == .holds)
        #expect(try ExtensionFixtures.verdict(summary, "lemma2").outcome == .notApplicable)
        #expect(summary.result.stopReason == .lossTolerance)
        #expect(summary.report.distanceToSolution! < 1e-4)
        #expect(try file.dataset("problem/w_star").count == 12)
    }

    @Test("GELU: the conservation law visibly fails under exact gradient flow, and the summary says so")
    func geluDrift() throws {
        let scratch = try Scratch()
        let summary = try ExtensionFixtures.flow(scratch, "gelu.h5", model: .gelu,
                                    synthetic: SyntheticData(samples: 20, dimension: 4, noise: 0, seed: 3), depth: 3, tFinal: 300)
        let drift = try TrajectoryFile(path: summary.outputPath).dataset("trajectory/conservation_drift")
        #expect(drift.max()! > 1e-2)  // against < 1e-7 for linear networks at the same tolerance
        let verdict = try ExtensionFixtures.verdict(summary, "conservation_drift")
        #expect(verdict.outcome == .info && verdict.title.contains("no conservation law"))
        #expect(try ExtensionFixtures.verdict(summary, "sharpness").outcome == .info)
        #expect(summary.report.distanceToSolution == nil)
    }

    @Test("n < d with W_1(0) = 0: the flow's limit is the minimum-norm interpolator w* (MATH.md §6.2)")
    func underdeterminedLimit() throws {
        let scratch = try Scratch()
        let data = SyntheticData(samples: 6, dimension: 10, seed: 8)
        let zero = try ExtensionFixtures.flow(scratch, "zero.h5", model: .linear, synthetic: data, depth: 3,
                                 initialization: .gaussian(scale: 0.5, zeroLayer: 1), tFinal: 1e5)
        #expect(zero.setup.problem.isUnderdetermined)
        #expect(zero.result.stopReason == .lossTolerance)
        #expect(zero.report.distanceToSolution! < 1e-5)
        let other = try ExtensionFixtures.flow(scratch, "other.h5", model: .linear, synthetic: data, depth: 3, tFinal: 1e5)
        #expect(other.result.stopReason == .lossTolerance)
        #expect(other.report.distanceToSolution! > 1e-2)  // another interpolator, w_∞ ≠ w*
        // The lower bound then uses w_∞ (smaller than the w* one, MATH.md §6.2), and it holds.
        let lower = try ExtensionFixtures.verdict(other, "sharpness_lower")
        #expect(lower.outcome == .holds && lower.boundText.plain.contains("w_∞"))
        // Corollary 2 (8LΛ) assumes Σ full rank: not claimed here (it fails for this very run: S ≈ 174 > 161 at s = 0.25, L = 5).
        #expect(try ExtensionFixtures.verdict(other, "sharpness_corollary2").outcome == .notApplicable)
        // The held-out error is recorded, and equals an independent computation at the final weights.
        let file = try TrajectoryFile(path: other.outputPath)
        let test = try #require(other.setup.problem.test)
        let weights = try file.dataset("final/weights")
        var mse = 0.0
        for i in 0..<test.count {
            let f = ModelReference.outputs(weights, shape: other.setup.network.shape, model: .linear, input: test.inputs[(i * 10)..<((i + 1) * 10)])
            mse += (f[0] - test.targets[i]) * (f[0] - test.targets[i])
        }
        mse /= Double(test.count)
        #expect(abs(try file.dataset("trajectory/test_loss").last! - mse) <= 1e-12 * mse)
        #expect(abs(other.report.testError! - mse) <= 1e-12 * mse)
    }

    @Test("an interrupted run with q outputs or a GELU network resumes to the uninterrupted run's weights", arguments: [NetworkModel.linear, .gelu])
    func resume(_ model: NetworkModel) throws {
        let scratch = try Scratch()
        func config(_ name: String) -> RunConfiguration {
            RunConfiguration(synthetic: SyntheticData(samples: 20, dimension: 3, noise: model == .gelu ? 0 : 1, seed: 4, outputs: 2),
                             seed: 4, model: model, depth: 3, solver: SolverSettings(relativeTolerance: 1e-10, absoluteTolerance: 1e-13),
                             schedule: OutputSchedule(tFinal: 200, count: 40), outputPath: scratch.path(name), flushInterval: 0)
        }
        let reference = try GradientFlowRun.execute(config("full.h5"), commandLine: "test")
        let rows = Counter()
        #expect(throws: GradFlowError.self) {
            try GradientFlowRun.execute(config("cut.h5"), commandLine: "test", progress: { _ in rows.value += 1 }, shouldStop: { rows.value >= 15 })
        }
        let resumed = try GradientFlowRun.resume(scratch.path("cut.h5"), commandLine: "test resume")
        #expect(resumed.setup.network.model == model && resumed.setup.problem.outputCount == 2 && resumed.setup.problem.test != nil)
        #expect(Reference.relativeError(resumed.result.finalWeights, reference.result.finalWeights) < 1e-6)
        #expect(resumed.verdicts.map(\.outcome) == reference.verdicts.map(\.outcome))
    }

    @Test("gradient descent with q outputs: the drift equals MATH.md §5's η² sum")
    func multivariateDescentDrift() throws {
        let scratch = try Scratch()
        var config = RunConfiguration(synthetic: SyntheticData(samples: 20, dimension: 4, seed: 3, outputs: 2), depth: 3,
                                      initialization: .gaussian(scale: 0.5, zeroLayer: nil), schedule: OutputSchedule(tFinal: 1, count: 20),
                                      outputPath: scratch.path("gd.h5"), flushInterval: 0)
        config.descent = DescentSettings(learningRate: 0.05, steps: 400)
        let summary = try GradientDescentRun.execute(config, commandLine: "test")
        let verdict = try #require(summary.report.verdicts.first { $0.key == "conservation_drift" })
        #expect(verdict.outcome == .holds, "\(String(describing: verdict.value)) \(verdict.note.plain)")
        let drift = try TrajectoryFile(path: summary.report.outputPath).dataset("trajectory/conservation_drift")
        #expect(drift.max()! > 1e-6)  // GD really drifts; the prediction accounts for it
    }
}
