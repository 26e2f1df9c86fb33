import Foundation
import GradFlow
import Testing

@Suite("Monitors against independent computations")
struct MonitorTests {
    /// Wᵀ W by loops (n×n) for a row-major m×n block.
    static func gram(_ w: [Double], rows m: Int, columns n: Int) -> [Double] {
        var g = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for r in 0..<m { g[i * n + j] += w[r * n + i] * w[r * n + j] } } }
        return g
    }

    /// Both paths of `Imbalances`: plain loops for small layers, `dsyrk` above 16.
    @Test("conservation drift equals a loop computation of D_k", arguments: [[4, 3, 5, 2, 1], [20, 18, 17, 1], [16, 16, 17, 16, 1]])
    func conservationDrift(widths: [Int]) throws {
        let shape = try NetworkShape(widths: widths)
        var rng = GaussianGenerator(seed: 4)
        let a = rng.gaussians(shape.parameterCount), b = rng.gaussians(shape.parameterCount)
        let monitor = Imbalances(initialWeights: a, shape: shape)
        let drift = monitor.drift(at: b)
        for k in 1..<shape.depth {
            let expected = Reference.norm(zip(Reference.imbalance(b, shape: shape, k: k), Reference.imbalance(a, shape: shape, k: k)).map { $0 - $1 })
            #expect(abs(drift.absolute[k - 1] - expected) <= 1e-12 * expected)
        }
    }

    @Test("Lemma 2 quantities equal those of an independent eigensolver on WᵀW and WWᵀ")
    func lemma2Quantities() throws {
        let shape = try NetworkShape(widths: [4, 3, 5, 2, 1])
        var rng = GaussianGenerator(seed: 8)
        let theta = rng.gaussians(shape.parameterCount)
        let conservation = Imbalances(initialWeights: theta, shape: shape)
        let monitor = try Lemma2Quantities(initialWeights: theta, shape: shape, imbalances: conservation)
        let v = try monitor.values(at: theta, driftNorms: [0, 0, 0])
        var lefts: [[Double]] = [], rights: [[Double]] = []
        for k in 1...shape.depth {
            let w = Array(theta[shape.range(k)]), m = shape.rows(k), n = shape.columns(k)
            let right = try LAPACK.symmetricEigen(Self.gram(w, rows: m, columns: n), order: n)
            let top = right.values[n - 1]
            let frobenius = w.map { $0 * $0 }.reduce(0, +)
            #expect(abs(v.spectralNormsSquared[k - 1] - top) <= 1e-12 * top)
            #expect(abs(v.rankOneResidual[k - 1] - (frobenius - top)) <= 1e-10 * frobenius)
            rights.append(Array(right.vectors[((n - 1) * n)..<(n * n)]))
            // W Wᵀ for the left vector: transpose the block.
            let wt = (0..<(n * m)).map { idx in w[(idx % m) * n + idx / m] }
            let left = try LAPACK.symmetricEigen(Self.gram(wt, rows: n, columns: m), order: m)
            lefts.append(Array(left.vectors[((m - 1) * m)..<(m * m)]))
        }
        for k in 0..<(shape.depth - 1) {
            let dot = zip(rights[k + 1], lefts[k]).map { $0 * $1 }.reduce(0, +)
            #expect(abs(v.alignment[k] - dot * dot) <= 1e-10)
        }
        // ε and e_k from the definitions, with δ from the spectrum of D_k.
        #expect(monitor.rankOneBounds.last == 0)
        #expect(abs(monitor.epsilon - zip(monitor.tau, monitor.delta).map { abs($0) + 2 * $1 }.reduce(0, +)) < 1e-14)
    }

    /// λ_max(K) of a small network at magnitudes where K's entries are far from 1 (a deep network or a tiny
    /// initialisation: 1e-86 was met on a depth-65 run): the Jacobi path against `dsyevr` on the same K.
    @Test("λ_max(K) of small networks at tiny and huge magnitudes agrees with dsyevr", arguments: [1e-60, 1e-25, 1e25, 1e60])
    func kernelAtExtremeMagnitudes(layerScale: Double) throws {
        let (network, theta) = try Fixtures.fullyConnected([4, 3, 5, 1], scale: 0.7)
        let scaled = theta.map { $0 * layerScale }
        let geometry = try NetworkGeometry(weights: scaled, network: network)
        let reference = try LAPACK.symmetricEigenvalues(geometry.kernel, order: 4).last!
        #expect(reference.isNormal && reference > 0)
        #expect(abs(geometry.kernelLambdaMax / reference - 1) <= 1e-13, "\(geometry.kernelLambdaMax) vs \(reference)")
    }

    /// Both paths of `NetworkGeometry`: plain loops and Jacobi for widths ≤ 16, BLAS and `dsyevr` above.
    @Test("the tangent kernel K satisfies ‖∇R‖² = gᵀKg, and the PL ratio lies in its band")
    func tangentKernelAndPLBand() throws {
        let problem = try Fixtures.problem(samples: 12, dimension: 4)
        for (network, theta) in [try Fixtures.fullyConnected([4, 3, 5, 1], scale: 0.7), try Fixtures.residual(dimension: 4, depth: 3),
                                 try Fixtures.fullyConnected([4, 18, 17, 1], scale: 0.3)] {
            let risk = DeepLinearRisk(network: network, problem: problem)
            let geometry = try NetworkGeometry(weights: theta, network: network)
            let w = Reference.endToEnd(theta, shape: network.shape, p: network.projection!)
            let d = 4
            let g = (0..<d).map { i in 2 * (0..<d).map { j in problem.covariance[i * d + j] * (w[j] - problem.minimumNormSolution[j]) }.reduce(0, +) }
            var gKg = 0.0
            for i in 0..<d { for j in 0..<d { gKg += g[i] * geometry.kernel[i * d + j] * g[j] } }
            let e = risk.evaluate(at: theta)
            #expect(abs(gKg - e.gradientNormSquared) <= 1e-12 * e.gradientNormSquared)
            let rho = e.gradientNormSquared / e.excessRisk
            #expect(4 * problem.lambdaMin * geometry.suffixNormsSquared[1] <= rho * (1 + 1e-12))
            #expect(rho <= 4 * problem.lambdaMax * geometry.kernelLambdaMax * (1 + 1e-12))
            let top = try LAPACK.symmetricEigenvalues(geometry.kernel, order: d).last!
            #expect(abs(geometry.kernelLambdaMax - top) <= 1e-13 * top)
            // K = Σ_k ‖b_k‖² A_kᵀA_k from loops over the layers (A_k = W_{k−1}⋯W_1, b_k = W_{k+1}ᵀ⋯W_Lᵀp).
            let shape = network.shape
            var kernel = [Double](repeating: 0, count: d * d)
            var prefix = [Double](repeating: 0, count: d * d)
            for i in 0..<d { prefix[i * d + i] = 1 }
            for k in 1...shape.depth {
                var b = network.projection!
                for j in stride(from: shape.depth, to: k, by: -1) {
                    let w = Array(theta[shape.range(j)]), m = shape.rows(j), n = shape.columns(j)
                    b = (0..<n).map { c in (0..<m).map { w[$0 * n + c] * b[$0] }.reduce(0, +) }
                }
                let c = b.map { $0 * $0 }.reduce(0, +), rows = shape.columns(k)
                for i in 0..<d {
                    for j in 0..<d {
                        var s = 0.0
                        for r in 0..<rows { s += prefix[r * d + i] * prefix[r * d + j] }
                        kernel[i * d + j] += c * s
                    }
                }
                let w = Array(theta[shape.range(k)]), m = shape.rows(k)
                var next = [Double](repeating: 0, count: m * d)
                for r in 0..<m { for j in 0..<d { for c in 0..<rows { next[r * d + j] += w[r * rows + c] * prefix[c * d + j] } } }
                prefix = next
            }
            for i in 0..<(d * d) { #expect(abs(geometry.kernel[i] - kernel[i]) <= 1e-12 * top) }
        }
    }

    @Test("Lanczos agrees with the dense eigensolver to 1e-8 at both ends (P ≤ 500)", arguments: [
        [4, 3, 1], [4, 6, 5, 1], [4, 8, 8, 8, 1], [4, 10, 10, 10, 10, 1],
    ])
    func lanczosMatchesDense(widths: [Int]) throws {
        let problem = try Fixtures.problem(samples: 12, dimension: 4)
        let (network, theta) = try Fixtures.fullyConnected(widths, scale: 0.5)
        #expect(theta.count <= 500)
        let estimator = SharpnessEstimator(risk: DeepLinearRisk(network: network, problem: problem), tolerance: 1e-10)
        let lanczos = try estimator.lanczos(at: theta)
        let dense = try estimator.dense(at: theta)
        expectEndsMatch(lanczos, dense)
        #expect(dense.lambdaMin < 0)  // a random point is not a minimum: H is indefinite
        #expect(lanczos.products < theta.count)
        #expect(lanczos.reorthogonalisations <= lanczos.products)
    }

    /// Lanczos converged, and both its ends agree with the dense eigensolver's to 1e-8 of λ_max.
    private func expectEndsMatch(_ lanczos: SharpnessEstimate, _ dense: SharpnessEstimate,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(lanczos.converged, sourceLocation: sourceLocation)
        #expect(abs(lanczos.lambdaMax - dense.lambdaMax) <= 1e-8 * abs(dense.lambdaMax), sourceLocation: sourceLocation)
        #expect(abs(lanczos.lambdaMin - dense.lambdaMin) <= 1e-8 * abs(dense.lambdaMax), sourceLocation: sourceLocation)
    }

    /// Partial reorthogonalisation (Simon's ω-recurrence) skips most full reorthogonalisations on a larger
    /// Hessian, yet its ends agree with the dense eigensolver to 1e-8, as with full reorthogonalisation.
    @Test("Lanczos with partial reorthogonalisation: fewer reorthogonalisations, same ends as the dense eigensolver")
    func partialReorthogonalisation() throws {
        let problem = try Fixtures.problem(samples: 30, dimension: 6)
        let (network, theta) = try Fixtures.fullyConnected([6, 14, 14, 14, 1], scale: 0.5)
        let estimator = SharpnessEstimator(risk: DeepLinearRisk(network: network, problem: problem), tolerance: 1e-10)
        let lanczos = try estimator.lanczos(at: theta)
        let dense = try estimator.dense(at: theta)
        expectEndsMatch(lanczos, dense)
        #expect(lanczos.products >= 20)
        #expect(lanczos.reorthogonalisations < lanczos.products / 2, "\(lanczos.reorthogonalisations) of \(lanczos.products) steps")
    }

    @Test("1-D sanity case: d = n = 1, W_k = 1 gives S = 2L, the lower bound (MATH.md §4.4)")
    func oneDimensionalSanity() throws {
        let problem = try RegressionProblem(inputs: [1], targets: [1], sampleCount: 1, dimension: 1, source: "1d")
        let L = 6
        let shape = try NetworkShape(widths: Array(repeating: 1, count: L + 1))
        let network = try Network(shape: shape, kind: .fullyConnected, projection: [1])
        let theta = [Double](repeating: 1, count: L)
        let s = try SharpnessEstimator(risk: DeepLinearRisk(network: network, problem: problem)).lanczos(at: theta)
        #expect(abs(s.lambdaMax - 2 * Double(L)) < 1e-12)
        let bounds = try TheoreticalBounds(problem: problem, network: network, initialization: .file(path: "-"))
        #expect(abs(bounds.sharpnessLowerBound - 2 * Double(L)) < 1e-12)
    }

    @Test("the explicit flat minimiser: dense λ_max = closed form = d×d formula (MATH.md §2.5, §4.4)")
    func explicitMinimizer() throws {
        let problem = try Fixtures.problem(samples: 20, dimension: 4)
        let widths = [4, 3, 5, 2, 1], L = 4
        let shape = try NetworkShape(widths: widths)
        let network = try Network(shape: shape, kind: .fullyConnected, projection: [1])
        // u_0 = w*/‖w*‖, arbitrary unit u_1…u_{L−1}, u_L = p/‖p‖; W_k = σ u_k u_{k−1}ᵀ, σ = (‖w*‖/‖p‖)^{1/L}.
        var rng = GaussianGenerator(seed: 3)
        var u: [[Double]] = [problem.minimumNormSolution.map { $0 / problem.solutionNorm }]
        for k in 1..<L { let v = rng.gaussians(widths[k]); let n = Reference.norm(v); u.append(v.map { $0 / n }) }
        u.append([1])
        let sigma = pow(problem.solutionNorm, 1 / Double(L))
        var theta: [Double] = []
        for k in 1...L { for a in 0..<widths[k] { for b in 0..<widths[k - 1] { theta.append(sigma * u[k][a] * u[k - 1][b]) } } }
        let risk = DeepLinearRisk(network: network, problem: problem)
        #expect(risk.evaluate(at: theta).excessRisk < 1e-24)
        let dense = try SharpnessEstimator(risk: risk).dense(at: theta)
        let bounds = try TheoreticalBounds(problem: problem, network: network, initialization: .file(path: "-"))
        #expect(abs(dense.lambdaMax - bounds.explicitMinimizerSharpness) <= 1e-12 * dense.lambdaMax)
        let dxd = try NetworkGeometry(weights: theta, network: network).minimizerSharpness(covarianceSquareRoot: bounds.covarianceSquareRoot)
        #expect(abs(dxd - dense.lambdaMax) <= 1e-12 * dense.lambdaMax)
        #expect(bounds.sharpnessLowerBound <= dense.lambdaMax && dense.lambdaMax <= bounds.paperUpperBound)
    }
}

@Suite("Monitors along gradient flow")
struct MonitorRunTests {
    static func run(_ scratch: Scratch, monitors: MonitorSelection, rtol: Double = 1e-10, name: String) throws -> GradientFlowRunSummary {
        let config = RunConfiguration(solver: SolverSettings(relativeTolerance: rtol, absoluteTolerance: rtol * 1e-4),
                                      outputPath: scratch.path(name), monitors: monitors)
        return try GradientFlowRun.execute(config, commandLine: "test")
    }

    @Test("default problem, small init, rtol 1e-10: Lemma 2 holds at every output time, drift < 1e-6, LB ≤ S ≤ 8LΛ")
    func defaultRun() throws {
        let scratch = try Scratch()
        let summary = try Self.run(scratch, monitors: .all, name: "m.h5")
        let file = try TrajectoryFile(path: summary.outputPath)
        let L = summary.setup.network.shape.depth
        let drift = try file.dataset("trajectory/conservation_drift")
        #expect(drift.count == summary.result.samples * (L - 1))
        #expect(drift.max()! < 1e-6)
        guard case let .doubles(e) = try file.value("rank1_residual_bound", in: "bounds") else { Issue.record("no e_k"); return }
        let residual = try file.dataset("trajectory/rank1_residual")
        let alignment = try file.dataset("trajectory/alignment"), alignmentBound = try file.dataset("trajectory/alignment_bound")
        let balance = try file.dataset("trajectory/norm_balance_margin")
        let slack = 1e-8
        for row in 0..<summary.result.samples {
            for k in 0..<L { #expect(residual[row * L + k] <= e[k] + slack) }
            for k in 0..<(L - 1) { #expect(alignment[row * (L - 1) + k] >= alignmentBound[row * (L - 1) + k] - slack) }
            #expect(balance[row] >= -slack)
        }
        let sharpness = try file.dataset("checkpoints/sharpness")
        let S = sharpness.last!
        #expect(summary.bounds!.sharpnessLowerBound <= S)
        #expect(S <= summary.bounds!.corollary2UpperBound!)
        // At the converged end the d×d formula agrees with Lanczos (MATH.md §2.5: ~1e-10 at GF limits).
        let dxd = try file.dataset("checkpoints/minimizer_sharpness_dxd").last!
        #expect(abs(dxd - S) <= 1e-6 * S)
        #expect(summary.verdicts.allSatisfy { $0.outcome != .violated })
    }

    @Test("monitors never change the trajectory: same final weights, bit for bit, with and without them")
    func monitorsDoNotPerturb() throws {
        let scratch = try Scratch()
        let with = try Self.run(scratch, monitors: .all, rtol: 1e-8, name: "a.h5")
        let without = try Self.run(scratch, monitors: .none, rtol: 1e-8, name: "b.h5")
        #expect(with.result.finalWeights == without.result.finalWeights)
        #expect(with.result.statistics == without.result.statistics)
    }

    @Test("Lemma 2 is reported as not applicable for residual networks, which get ‖θ_k‖_F instead")
    func residualNetwork() throws {
        let scratch = try Scratch()
        let config = RunConfiguration(depth: 3, initialization: .residual(scale: 0.25), outputPath: scratch.path("r.h5"))
        let summary = try GradientFlowRun.execute(config, commandLine: "test")
        #expect(summary.verdicts.contains { $0.key == "lemma2" && $0.outcome == .notApplicable })
        let theta = try TrajectoryFile(path: config.outputPath).dataset("trajectory/theta_norm")
        #expect(theta.count == 3 * summary.result.samples)
        #expect(theta.prefix(3).allSatisfy { $0 == 0 })
        #expect(summary.verdicts.contains { $0.key == "sharpness_corollary2" && $0.outcome == .notApplicable })
    }

    @Test("--monitors parses lists and refuses unknown names")
    func selectionParsing() throws {
        #expect(try MonitorSelection(parsing: "pl,sharpness") == MonitorSelection(conservation: false, lemma2: false, plRatio: true, sharpness: true))
        #expect(try MonitorSelection(parsing: "none") == .none)
        #expect(throws: GradFlowError.self) { try MonitorSelection(parsing: "lemma3") }
    }
}
