import Foundation
@testable import GradFlow
import Testing

/// MATH.md §10's monitors against independent computations (Gidel et al. 2019; Min et al. 2021).
@Suite("Foundational papers: RRR levels, imbalance certificate, ker X (MATH.md §10)")
struct FoundationalPaperTests {
    /// Writes W1 (h×d) with entries of scale s1 and W2 (q×h) with scale s2 as an init-weights file.
    static func weightsFile(_ scratch: Scratch, _ name: String, d: Int, h: Int, q: Int, s1: Double, s2: Double, seed: UInt64) throws
        -> (path: String, w1: [Double], w2: [Double])
    {
        var rng = GaussianGenerator(seed: seed)
        let w1 = rng.gaussians(h * d).map { $0 * s1 }, w2 = rng.gaussians(q * h).map { $0 * s2 }
        let root = try HDF5File.create(scratch.path(name), overwrite: true)
        try root.writeDataset("W1", w1, shape: [h, d])
        try root.writeDataset("W2", w2, shape: [q, h])
        return (scratch.path(name), w1, w2)
    }

    /// The rate c of MATH.md §10.3 from D = W_2ᵀW_2 − W_1W_1ᵀ built by loops.
    static func rate(w1: [Double], w2: [Double], d: Int, h: Int, q: Int, lambdaPlus: Double) throws -> Double {
        var dMatrix = [Double](repeating: 0, count: h * h)
        for i in 0..<h { for j in 0..<h {
            for r in 0..<q { dMatrix[i * h + j] += w2[r * h + i] * w2[r * h + j] }
            for c in 0..<d { dMatrix[i * h + j] -= w1[i * d + c] * w1[j * d + c] }
        } }
        let descending = Array(try LAPACK.symmetricEigenvalues(dMatrix, order: h).reversed())  // λ_1 ≥ … ≥ λ_h
        let output = q <= h ? max(descending[q - 1], 0) : 0
        let input = d <= h ? max(-descending[h - d], 0) : 0
        return 4 * lambdaPlus * (output + input)
    }

    @Test("the imbalance certificate holds along unbalanced two-layer flows of several shapes", arguments: [
        (20, 4, 6, 1, 0.3, 1.5), (20, 3, 5, 2, 0.2, 1.2), (8, 12, 6, 3, 0.2, 1.4), (6, 10, 12, 2, 1.2, 0.2), (30, 3, 4, 1, 1.5, 0.3),
    ])
    func imbalanceCertificate(n: Int, d: Int, h: Int, q: Int, s1: Double, s2: Double) throws {
        let scratch = try Scratch()
        let weights = try Self.weightsFile(scratch, "w.h5", d: d, h: h, q: q, s1: s1, s2: s2, seed: UInt64(n + d + h))
        let config = RunConfiguration(synthetic: SyntheticData(samples: n, dimension: d, seed: 3, outputs: q), initWeightsFile: weights.path,
                                      solver: SolverSettings(relativeTolerance: 1e-10, absoluteTolerance: 1e-13),
                                      schedule: OutputSchedule(tFinal: 1e4, count: 60), lossTolerance: 1e-11,
                                      outputPath: scratch.path("run.h5"), flushInterval: 0)
        let summary = try GradientFlowRun.execute(config, commandLine: "test")
        let c = try Self.rate(w1: weights.w1, w2: weights.w2, d: d, h: h, q: q, lambdaPlus: summary.setup.problem.lambdaMin)
        #expect(c > 0, "the shape should certify a rate")
        let file = try TrajectoryFile(path: summary.outputPath)
        #expect(abs((try file.value("imbalance_rate", in: "bounds").doubleValue ?? .nan) - c) <= 1e-12 * c)
        // Every row, from the recorded columns: ‖∇R‖²/(R − R_min) ≥ c and R − R_min ≤ (R(0) − R_min)e^{−ct}.
        let time = try file.dataset("trajectory/time"), excess = try file.dataset("trajectory/excess_risk")
        let gradient = try file.dataset("trajectory/grad_norm_sq")
        for i in time.indices where excess[i] > 0 {
            #expect(gradient[i] / excess[i] >= c * (1 - 1e-6), "row \(i)")
            #expect(excess[i] <= excess[0] * exp(-c * time[i]) * (1 + 1e-6) + 1e-12 * excess[0], "row \(i)")
        }
        for key in ["imbalance_pl", "imbalance_rate"] {
            #expect(summary.verdicts.first { $0.key == key }?.outcome == .holds, "\(key)")
        }
    }

    @Test("the RRR levels equal R_min plus the tail of the truncated SVD of Ŷ = XM*ᵀ")
    func reducedRankLevels() throws {
        let (n, d, q) = (25, 5, 3)
        let problem = try SyntheticData(samples: n, dimension: d, noise: 1, seed: 8, outputs: q).makeProblem()
        let shape = try NetworkShape(widths: [d, 4, q])
        let network = try Network(shape: shape, kind: .fullyConnected, projection: nil)
        let theta = try WeightInitialization.gaussian(scale: 0.3, zeroLayer: nil).draw(shape: shape, seed: 1)
        let context = try MonitorContext(network: network, problem: problem, initialWeights: theta,
                                         initialization: .gaussian(scale: 0.3, zeroLayer: nil), dynamics: .flow(relativeTolerance: 1e-8),
                                         selection: .all, sharpness: SharpnessSettings())
        let monitor = try #require(try ReducedRankMonitor(context: context))
        // Ŷ = X M*ᵀ by loops; its singular values by dgesdd.
        var yHat = [Double](repeating: 0, count: n * q)
        for i in 0..<n { for j in 0..<q { for c in 0..<d { yHat[i * q + j] += problem.inputs[i * d + c] * problem.minimumNormSolution[j * d + c] } } }
        let s = try LAPACK.thinSVD(yHat, rows: n, columns: q).values
        #expect(monitor.levels.count == q + 1)
        for r in 0...q {
            let expected = problem.minimumRisk + s[r...].map { $0 * $0 }.reduce(0, +) / Double(n)
            #expect(abs(monitor.levels[r] - expected) <= 1e-10 * max(expected, 1), "r = \(r)")
        }
        // R_0 is the risk of M = 0 and R_q = R_min.
        let zero = problem.targets.map { $0 * $0 }.reduce(0, +) / Double(n)
        #expect(abs(monitor.levels[0] - zero) <= 1e-10 * zero)
        #expect(abs(monitor.levels[q] - problem.minimumRisk) <= 1e-12 * max(problem.minimumRisk, 1))
    }

    @Test("n < d: W_1P⊥ stays frozen to rounding, and ‖M_∞ − M*‖_F = ‖M_∞P⊥‖_F at the limit")
    func kernelComponent() throws {
        let scratch = try Scratch()
        let (n, d) = (6, 10)
        let config = RunConfiguration(synthetic: SyntheticData(samples: n, dimension: d, seed: 5), depth: 3, widths: [d, 7, 7, 1],
                                      initialization: .gaussian(scale: 0.4, zeroLayer: nil),
                                      solver: SolverSettings(relativeTolerance: 1e-10, absoluteTolerance: 1e-13),
                                      schedule: OutputSchedule(tFinal: 1e5, count: 40), lossTolerance: 1e-12,
                                      outputPath: scratch.path("k.h5"), flushInterval: 0)
        let summary = try GradientFlowRun.execute(config, commandLine: "test")
        let file = try TrajectoryFile(path: summary.outputPath)
        let initial = try file.dataset("initial/weights"), final = try file.dataset("final/weights")
        // P⊥ = I − VVᵀ with V the n right singular vectors of X (dgesdd), independent of Σ's eigenvectors.
        let svd = try LAPACK.thinSVD(summary.setup.problem.inputs, rows: n, columns: d)
        func kernelPart(_ w: [Double], rows: Int) -> Double {
            var total = 0.0
            for r in 0..<rows {
                let row = Array(w[(r * d)..<((r + 1) * d)])
                var projected = row
                for k in 0..<n {
                    let v = Array(svd.vt[(k * d)..<((k + 1) * d)])
                    let dot = zip(row, v).map { $0 * $1 }.reduce(0, +)
                    for c in 0..<d { projected[c] -= dot * v[c] }
                }
                total += projected.map { $0 * $0 }.reduce(0, +)
            }
            return total.squareRoot()
        }
        let h = 7
        let change = zip(final.prefix(h * d), initial.prefix(h * d)).map { $0 - $1 }
        #expect(kernelPart(change, rows: h) <= 1e-12)
        #expect(kernelPart(Array(initial.prefix(h * d)), rows: h) > 0.1)
        #expect(try file.dataset("trajectory/w1_kernel_drift").max()! <= 1e-12)
        // At the limit the distance to M* is the ker X part of M_∞.
        let w = try #require(summary.report.distanceToSolution)
        let endToEnd = try #require(RiskFactory.makeRisk(network: summary.setup.network, problem: summary.setup.problem).endToEndMap(final))
        #expect(abs(w - kernelPart(endToEnd, rows: 1)) <= 1e-5 * w)
        #expect(summary.verdicts.first { $0.key == "w1_kernel_drift" }?.outcome == .holds)
        #expect(summary.verdicts.first { $0.key == "output_kernel_norm" }?.outcome == .holds)
    }
}
