import Foundation
import GradFlow
import Testing

/// Incremental learning's half-times (MATH.md §10.2) against independent computations.
@Suite("Transitions: half-times of the modes of M*, located by root finding (MATH.md §10.2)")
struct TransitionTests {
    /// The first t with a = σ/2 for `da/dt = 2L a^{2−2/L}(σ − a)`, a(0) = a0, by classical RK4 in u = ln a
    /// (du/dt = 2L a^{1−2/L}(σ − a)) with `steps` steps up to the crossing, which is interpolated linearly in u.
    static func rk4HalfTime(a0: Double, sigma: Double, depth L: Int) -> Double {
        func f(_ u: Double) -> Double { let a = exp(u); return 2 * Double(L) * pow(a, 1 - 2 / Double(L)) * (sigma - a) }
        // Step in u rather than t: t(u) = ∫ du / f(u), by Simpson's rule on a fine grid from ln a0 to ln(σ/2).
        let (lower, upper) = (log(a0), log(sigma / 2)), n = 200_000
        let h = (upper - lower) / Double(n)
        var sum = 1 / f(lower) + 1 / f(upper)
        for i in 1..<n { sum += (i % 2 == 1 ? 4 : 2) / f(lower + Double(i) * h) }
        return sum * h / 3
    }

    @Test("the predicted half-time: L = 2's closed form, and Simpson's rule in u = ln a for L = 1, 3, 4, 6")
    func prediction() {
        for (a0, sigma) in [(1e-4, 0.867), (1e-2, 2.0), (1e-8, 1.0)] {
            let closed = log((sigma - a0) / a0) / (4 * sigma)
            #expect(abs(ModeHalfTime.flow(initial: a0, target: sigma, depth: 2) - closed) <= 1e-14 * closed)
            for L in [1, 3, 4, 6] {
                let expected = Self.rk4HalfTime(a0: a0, sigma: sigma, depth: L)
                #expect(abs(ModeHalfTime.flow(initial: a0, target: sigma, depth: L) - expected) <= 1e-9 * expected, "L = \(L), a0 = \(a0)")
            }
        }
        #expect(ModeHalfTime.flow(initial: 0, target: 1, depth: 2).isNaN)
        #expect(ModeHalfTime.flow(initial: 0.6, target: 1, depth: 3).isNaN)
    }

    @Test("whitened data, spectral start: the flow's half-times equal the closed form (L = 2) and the quadrature (L = 3, 4)",
          arguments: [2, 3, 4])
    func exactCase(depth: Int) throws {
        let scratch = try Scratch()
        let config = RunConfiguration(synthetic: SyntheticData(samples: 40, dimension: 4, seed: 11, conditionNumber: 1, outputs: 4),
                                      depth: depth, widths: [6], initialization: .spectral(strengths: [1e-4]),
                                      solver: SolverSettings(relativeTolerance: 1e-11, absoluteTolerance: 1e-16),
                                      schedule: OutputSchedule(tFinal: 1e5, count: 60), lossTolerance: 1e-12,
                                      outputPath: scratch.path("t.h5"), flushInterval: 0)
        let summary = try GradientFlowRun.execute(config, commandLine: "test")
        let file = try TrajectoryFile(path: summary.outputPath)
        let observed = try file.dataset("transitions/observed"), sigma = try file.dataset("transitions/target_singular_values")
        #expect(observed.count == 4 && !observed.contains { $0.isNaN })
        for (t, s) in zip(observed, sigma) {
            let expected = depth == 2 ? log((s - 1e-4) / 1e-4) / (4 * s) : Self.rk4HalfTime(a0: 1e-4, sigma: s, depth: depth)
            #expect(abs(t - expected) <= 1e-6 * expected, "σ = \(s): \(t) against \(expected)")
        }
        #expect(summary.verdicts.first { $0.key == "transition_order" }?.outcome == .holds)
        #expect(summary.verdicts.first { $0.key == "transition_times" }?.outcome == .holds)
        // The rows carry the half-times found so far: NaN before each, the value after.
        let times = try file.dataset("trajectory/time"), recorded = try file.dataset("trajectory/transition_time")
        for (row, t) in times.enumerated() {
            for i in 0..<4 {
                let value = recorded[row * 4 + i]
                #expect(t < observed[i] ? value.isNaN : value == observed[i], "row \(row), mode \(i)")
            }
        }
    }

    @Test("gradient descent: each half-time interpolated between the two steps around a_i = σ_i/2")
    func descent() throws {
        let scratch = try Scratch()
        let eta = 0.02
        let config = RunConfiguration(synthetic: SyntheticData(samples: 30, dimension: 3, seed: 4, conditionNumber: 1, outputs: 3),
                                      depth: 2, widths: [5], initialization: .spectral(strengths: [1e-3]),
                                      schedule: OutputSchedule(tFinal: 1e3, count: 30), lossTolerance: 1e-9,
                                      outputPath: scratch.path("d.h5"), flushInterval: 0,
                                      descent: DescentSettings(learningRate: eta, steps: 5000))
        let summary = try GradientDescentRun.execute(config, commandLine: "test")
        let file = try TrajectoryFile(path: summary.outputPath)
        let observed = try file.dataset("transitions/observed")
        // Replay the same steps and find each crossing with u_i, v_i from M*'s eigenvectors and loops.
        let problem = summary.setup.problem, network = summary.setup.network, shape = network.shape
        let risk = RiskFactory.makeRisk(network: network, problem: problem)
        let (q, d) = (3, 3), target = problem.minimumNormSolution
        var gram = [Double](repeating: 0, count: q * q)
        for i in 0..<q { for j in 0..<q { for c in 0..<d { gram[i * q + j] += target[i * d + c] * target[j * d + c] } } }
        let eigen = try LAPACK.symmetricEigen(gram, order: q)
        let modes: [(sigma: Double, u: [Double], v: [Double])] = (0..<q).map { i in
            let index = q - 1 - i, sigma = eigen.values[index].squareRoot()
            let u = Array(eigen.vectors[(index * q)..<((index + 1) * q)])
            return (sigma, u, (0..<d).map { c in (0..<q).map { u[$0] * target[$0 * d + c] }.reduce(0, +) / sigma })
        }
        func strengths(_ theta: [Double]) -> [Double] {
            let m = Reference.product(theta, shape: shape)
            return modes.map { mode in
                var a = 0.0
                for r in 0..<q { for c in 0..<d { a += mode.u[r] * m[r * d + c] * mode.v[c] } }
                return a - mode.sigma / 2
            }
        }
        var theta = summary.setup.initialWeights, previous = strengths(theta)
        var expected = [Double](repeating: .nan, count: q)
        for k in 0..<summary.result.steps {
            let g = risk.gradient(at: theta)
            for i in theta.indices { theta[i] -= eta * g[i] }
            let current = strengths(theta)
            for i in 0..<q where expected[i].isNaN && (previous[i] < 0) != (current[i] < 0) {
                expected[i] = (Double(k) + previous[i] / (previous[i] - current[i])) * eta
            }
            previous = current
        }
        #expect(!expected.contains { $0.isNaN })
        for i in 0..<q { #expect(abs(observed[i] - expected[i]) <= 1e-9 * expected[i], "mode \(i): \(observed[i]) against \(expected[i])") }
    }

    @Test("an interrupted flow resumed from its file keeps the half-times found before the interruption")
    func resume() throws {
        let scratch = try Scratch()
        func config(_ name: String) -> RunConfiguration {
            RunConfiguration(synthetic: SyntheticData(samples: 30, dimension: 3, seed: 4, conditionNumber: 1, outputs: 3), depth: 2, widths: [5],
                             initialization: .spectral(strengths: [1e-4]), solver: SolverSettings(relativeTolerance: 1e-10, absoluteTolerance: 1e-14),
                             schedule: OutputSchedule(tFinal: 1e4, count: 80), lossTolerance: 1e-11, outputPath: scratch.path(name), flushInterval: 0)
        }
        _ = try GradientFlowRun.execute(config("full.h5"), commandLine: "test")
        let reference = try TrajectoryFile(path: scratch.path("full.h5")).dataset("transitions/observed")
        let rows = Counter()
        #expect(throws: GradFlowError.self) {
            try GradientFlowRun.execute(config("cut.h5"), commandLine: "test", progress: { _ in rows.value += 1 }, shouldStop: { rows.value >= 40 })
        }
        do {
            let cut = try TrajectoryFile(path: scratch.path("cut.h5"))
            let times = try cut.dataset("trajectory/time"), recorded = try cut.dataset("trajectory/transition_time")
            #expect(times.count == 40 && recorded.suffix(3).contains { !$0.isNaN } && recorded.suffix(3).contains { $0.isNaN },
                    "the cut should come between two transitions: \(times.last ?? 0), \(recorded.suffix(3))")
        }
        _ = try GradientFlowRun.resume(scratch.path("cut.h5"), commandLine: "resume")
        let resumed = try TrajectoryFile(path: scratch.path("cut.h5")).dataset("transitions/observed")
        for (a, b) in zip(resumed, reference) { #expect(abs(a - b) <= 1e-7 * b, "\(a) against \(b)") }
    }
}
