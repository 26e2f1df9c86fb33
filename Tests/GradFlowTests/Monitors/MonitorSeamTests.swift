import Foundation
@testable import GradFlow
import Testing

/// The monitor seam: a monitor is one type behind `Monitor`, a suite composes them, verdicts are numbers.
@Suite("Monitor seam: plug-in monitors, verdicts as numbers, end-to-end modes")
struct MonitorSeamTests {
    /// A monitor written as README's *Adding a monitor* says: ‖θ‖² at every row, and its largest value.
    final class WeightNormMonitor: Monitor {
        private var worst = 0.0
        var columns: [TrajectoryColumn] { [.scalar("weight_norm_sq", "‖θ‖²")] }
        func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {
            row["weight_norm_sq"] = [sample.weights.map { $0 * $0 }.reduce(0, +)]
        }
        func track(_ row: inout MonitorRow) { worst = max(worst, row["weight_norm_sq"]?.first ?? 0) }
        func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] {
            [MonitorVerdict(key: "weight_norm", title: "max ‖θ‖²", value: worst, bound: [10], boundText: "≤ \(10.0, digits: 2)",
                            margin: 10 - worst, outcome: .judged(worst <= 10))]
        }
    }


    @Test("a monitor added through the registry records its column, tracks it and gives its verdict")
    func customMonitor() throws {
        let problem = try Fixtures.problem()
        let (network, theta) = try Fixtures.fullyConnected([4, 3, 1])
        let entry = MonitorRegistry.Entry(name: "norm") { _ in WeightNormMonitor() }
        let suite = try MonitorSuite(network: network, problem: problem, initialWeights: theta, initialization: .gaussian(scale: 0.5, zeroLayer: nil),
                                     selection: MonitorSelection(names: ["norm", "pl"]), sharpness: SharpnessSettings(),
                                     dynamics: .flow(relativeTolerance: 1e-8), registry: MonitorRegistry.all + [entry])
        #expect(suite.monitor(ConservationMonitor.self) == nil && suite.monitor(PLRatioMonitor.self) != nil && suite.monitor(WeightNormMonitor.self) != nil)
        #expect(suite.rowColumns.map(\.name).contains("weight_norm_sq"))
        let risk = DeepLinearRisk(network: network, problem: problem)
        let row = try suite.row(time: 0, weights: theta, evaluation: risk.evaluate(at: theta))
        let expected = theta.map { $0 * $0 }.reduce(0, +)
        #expect(row["weight_norm_sq"] == [expected])
        let verdict = try #require(suite.verdicts(finalWeights: theta, finalEvaluation: risk.evaluate(at: theta), atMinimum: true).last)
        #expect(verdict.key == "weight_norm" && verdict.value == expected && verdict.margin == 10 - expected)
        // A name that is not selected is not made.
        let off = try MonitorSuite(network: network, problem: problem, initialWeights: theta, initialization: .gaussian(scale: 0.5, zeroLayer: nil),
                                   selection: .all, sharpness: SharpnessSettings(), dynamics: .flow(relativeTolerance: 1e-8),
                                   registry: MonitorRegistry.all + [entry])
        #expect(!off.rowColumns.map(\.name).contains("weight_norm_sq"))
    }

    @Test("verdicts go through /monitors as numbers and come back equal")
    func verdictsRoundTrip() throws {
        let scratch = try Scratch()
        let config = RunConfiguration(depth: 3, schedule: OutputSchedule(tFinal: 1e5, count: 30), outputPath: scratch.path("v.h5"), flushInterval: 0)
        let summary = try GradientFlowRun.execute(config, commandLine: "test")
        let stored = try TrajectoryFile(path: summary.outputPath).monitorVerdicts()
        #expect(stored.map(\.key) == summary.verdicts.map(\.key))
        for (a, b) in zip(stored, summary.verdicts) {
            #expect(a.outcome == b.outcome && a.title == b.title && a.valueDigits == b.valueDigits && a.bound == b.bound)
            #expect(a.value == b.value || (a.value == nil && b.value == nil))
            #expect(a.margin == b.margin || (a.margin?.isNaN ?? true) && (b.margin?.isNaN ?? true))
            #expect(a.boundText.plain == b.boundText.plain && a.note.plain == b.note.plain)
        }
        // The margins are the bounds' slack: positive where the statement held with a comparison.
        for v in summary.verdicts where v.outcome == .holds { if let margin = v.margin { #expect(margin >= 0, "\(v.key)") } }
        let lower = try #require(summary.verdicts.first { $0.key == "sharpness_lower" })
        #expect(lower.margin == lower.value! - lower.bound[0])
    }

    @Test("a configuration's monitor selection keeps its keys, and an older one reads with new monitors off")
    func selectionEncoding() throws {
        let json = String(data: try JSONEncoder().encode(MonitorSelection.all), encoding: .utf8)!
        for key in ["conservation", "lemma2", "plRatio", "sharpness", "modes"] { #expect(json.contains("\"\(key)\":true")) }
        let old = try JSONDecoder().decode(MonitorSelection.self,
                                           from: Data(#"{"conservation":true,"lemma2":false,"plRatio":true,"sharpness":true}"#.utf8))
        #expect(old.conservation && !old.lemma2 && old.plRatio && old.sharpness && !old.contains("modes"))
    }

    @Test("end-to-end singular values and mode strengths against an eigensolver on MMᵀ and loops", arguments: [1, 3])
    func endToEndModes(outputs q: Int) throws {
        let d = 4
        let problem = try SyntheticData(samples: 15, dimension: d, noise: 1, seed: 9, outputs: q).makeProblem()
        let shape = try NetworkShape(widths: [d, 5, 3, q])
        let network = try Network(shape: shape, kind: .fullyConnected, projection: q == 1 ? [1] : nil)
        let theta = try WeightInitialization.gaussian(scale: 0.8, zeroLayer: nil).draw(shape: shape, seed: 2)
        let context = try MonitorContext(network: network, problem: problem, initialWeights: theta,
                                         initialization: .gaussian(scale: 0.8, zeroLayer: nil), dynamics: .flow(relativeTolerance: 1e-8),
                                         selection: .all, sharpness: SharpnessSettings())
        let monitor = try #require(try EndToEndModesMonitor(context: context))
        var row: MonitorRow = [:]
        try monitor.measure(MonitorSample(time: 0, weights: theta, evaluation: context.risk.evaluate(at: theta), context: context), into: &row)
        let m = Reference.product(theta, shape: shape)
        // s_i(M)² = eigenvalues of MMᵀ (q×q), by dsyevr rather than dgesdd.
        var mmt = [Double](repeating: 0, count: q * q)
        for i in 0..<q { for j in 0..<q { for c in 0..<d { mmt[i * q + j] += m[i * d + c] * m[j * d + c] } } }
        let expected = try LAPACK.symmetricEigen(mmt, order: q).values.reversed().map { max($0, 0).squareRoot() }
        let values = try #require(row["end_to_end_singular_values"])
        #expect(values.count == min(q, d))
        for (a, b) in zip(values, expected) { #expect(abs(a - b) <= 1e-12 * expected[0]) }
        // u_i from the eigenvectors of M*M*ᵀ, v_i = M*ᵀu_i/σ_i: a_i = u_iᵀ M v_i by loops.
        let target = problem.minimumNormSolution
        var tt = [Double](repeating: 0, count: q * q)
        for i in 0..<q { for j in 0..<q { for c in 0..<d { tt[i * q + j] += target[i * d + c] * target[j * d + c] } } }
        let eigen = try LAPACK.symmetricEigen(tt, order: q)
        let strengths = try #require(row["mode_strength"])
        for i in 0..<min(q, d) {
            let index = q - 1 - i, sigma = eigen.values[index].squareRoot()
            let u = Array(eigen.vectors[(index * q)..<((index + 1) * q)])
            let v = (0..<d).map { c in (0..<q).map { u[$0] * target[$0 * d + c] }.reduce(0, +) / sigma }
            var a = 0.0
            for r in 0..<q { for c in 0..<d { a += u[r] * m[r * d + c] * v[c] } }
            #expect(abs(strengths[i] - a) <= 1e-12 * max(values[0], 1))
            #expect(abs(monitor.targetValues[i] - sigma) <= 1e-12 * monitor.targetValues[0])
        }
    }

    @Test("along a converged flow every mode strength reaches σ_i of M*")
    func modesConverge() throws {
        let scratch = try Scratch()
        let config = RunConfiguration(synthetic: SyntheticData(samples: 30, dimension: 3, seed: 4, outputs: 2), depth: 2,
                                      solver: SolverSettings(relativeTolerance: 1e-10, absoluteTolerance: 1e-13),
                                      schedule: OutputSchedule(tFinal: 1e5, count: 20), lossTolerance: 1e-14,
                                      outputPath: scratch.path("m.h5"), flushInterval: 0)
        let summary = try GradientFlowRun.execute(config, commandLine: "test")
        let file = try TrajectoryFile(path: summary.outputPath)
        let strengths = try file.dataset("trajectory/mode_strength")
        guard case let .doubles(sigma) = try file.value("target_singular_values", in: "bounds") else { Issue.record("no σ"); return }
        #expect(sigma.count == 2)
        for (a, s) in zip(strengths.suffix(2), sigma) { #expect(abs(a - s) <= 1e-5 * sigma[0]) }
    }

    @Test("Lemma 2's pairwise norm-balance margin in O(L) equals the O(L²) definition")
    func balanceMargin() {
        var rng = GaussianGenerator(seed: 12)
        for L in [1, 2, 3, 7, 40] {
            let t = rng.gaussians(L).map { abs($0) }, delta = rng.gaussians(max(L - 1, 0)).map { abs($0) * 0.3 }
            var expected = L == 1 ? 0.0 : Double.infinity
            for j in 0..<L { for k in (j + 1)..<max(L, j + 1) { expected = min(expected, delta[j..<k].reduce(0, +) - abs(t[k] - t[j])) } }
            #expect(abs(Lemma2Quantities.balanceMargin(spectralNormsSquared: t, delta: delta) - expected) <= 1e-12, "L = \(L)")
        }
    }
}
