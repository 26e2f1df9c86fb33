import Foundation
import GradFlow
import Testing

/// MATH.md §10.5's initialisations, checked against loops.
@Suite("Initialisations of MATH.md §10.5: balanced, spectral, per-layer scales")
struct InitializationTests {

    @Test("balanced: every D_k(0) = 0 and W_L⋯W_1 = A, the Gaussian matrix of the seed's weight stream",
          arguments: [[4, 6, 6, 1], [4, 5, 3], [3, 4, 4, 4, 2], [5, 5]])
    func balanced(widths: [Int]) throws {
        let shape = try NetworkShape(widths: widths)
        let s = 0.3, seed: UInt64 = 17
        let theta = try WeightInitialization.balanced(scale: s).draw(shape: shape, seed: seed)
        var rng = GaussianGenerator(seed: seed, stream: 1)
        let a = rng.gaussians(shape.outputWidth * shape.inputDimension, scale: s)
        let m = Reference.product(theta, shape: shape)
        for (x, y) in zip(m, a) { #expect(abs(x - y) <= 1e-14) }
        for k in 1..<max(shape.depth, 1) {
            let d = Reference.imbalance(theta, shape: shape, k: k)
            #expect(Reference.norm(d) <= 1e-15 * max(1, Reference.norm(a)), "k = \(k)")
        }
    }

    @Test("spectral: each mode of M* starts at its strength a_i(0), balanced", arguments: [1, 2, 3])
    func spectral(depth: Int) throws {
        let (d, q) = (4, 3)
        let problem = try SyntheticData(samples: 20, dimension: d, seed: 6, outputs: q).makeProblem()
        let shape = try NetworkShape(widths: [d] + Array(repeating: 5, count: depth - 1) + [q])
        let strengths = [2e-3, 1e-3, 5e-4]
        let theta = try WeightInitialization.spectral(strengths: strengths).draw(shape: shape, seed: 3, target: problem.minimumNormSolution)
        let m = Reference.product(theta, shape: shape)
        // u_i, v_i of M* from the eigenvectors of M*M*ᵀ (dsyevr), v_i = M*ᵀu_i/σ_i; a_i = u_iᵀ M v_i by loops.
        let target = problem.minimumNormSolution
        var gram = [Double](repeating: 0, count: q * q)
        for i in 0..<q { for j in 0..<q { for c in 0..<d { gram[i * q + j] += target[i * d + c] * target[j * d + c] } } }
        let eigen = try LAPACK.symmetricEigen(gram, order: q)
        for i in 0..<q {
            let index = q - 1 - i, sigma = eigen.values[index].squareRoot()
            let u = Array(eigen.vectors[(index * q)..<((index + 1) * q)])
            let v = (0..<d).map { c in (0..<q).map { u[$0] * target[$0 * d + c] }.reduce(0, +) / sigma }
            var a = 0.0
            for r in 0..<q { for c in 0..<d { a += u[r] * m[r * d + c] * v[c] } }
            #expect(abs(a - strengths[i]) <= 1e-12 * strengths[0], "mode \(i + 1)")
        }
        for k in 1..<max(depth, 1) { #expect(Reference.norm(Reference.imbalance(theta, shape: shape, k: k)) <= 1e-15) }
    }

    @Test("per-layer scales: layer k's entries have the spread s_k, and a wrong count is refused")
    func layerwise() throws {
        let shape = try NetworkShape(widths: [30, 40, 20, 1])
        let scales = [0.1, 2.0, 0.5]
        let theta = try WeightInitialization.layerwise(scales: scales).draw(shape: shape, seed: 2)
        for k in 1...3 where shape.range(k).count >= 20 {
            let block = theta[shape.range(k)], n = Double(block.count)
            let rms = (block.map { $0 * $0 }.reduce(0, +) / n).squareRoot()
            #expect(abs(rms / scales[k - 1] - 1) < 0.2, "k = \(k): \(rms)")
        }
        #expect(throws: GradFlowError.self) { try WeightInitialization.layerwise(scales: [1, 1]).draw(shape: shape, seed: 2) }
    }

    @Test("bad initialisation options: one line naming the option, exit 2, no file", .enabled(if: ProcessResult.gradflow != nil),
          arguments: [
            (["--init", "spectral", "--mode-strength", "0"], "--mode-strength 0.0: every initial mode strength a_i(0) must be a finite number > 0"),
            (["--init", "spectral", "--mode-strength", "1e-3,x"], "--mode-strength 1e-3,x: \"x\" is not a number"),
            (["--init", "spectral", "--mode-strength", "1e-3,1e-4"], "--mode-strength 0.001,0.0001: give one strength, or one per mode of M* (1)"),
            (["--init", "spectral", "--init-scale", "0.1"], "--init-scale 0.1: a spectral initialisation takes --mode-strength"),
            (["--mode-strength", "1e-3"], "--mode-strength 1e-3: goes with --init spectral"),
            (["--init", "balanced", "--init-scale", "0"], "--init-scale 0.0: must be > 0 for a balanced initialisation"),
            (["--init", "balanced", "--outputs", "3", "--depth", "2", "--widths", "2"], "a balanced initialisation of 3 modes needs every hidden width ≥ 3"),
            (["--layer-scales", "0.1,1", "--depth", "3"], "--layer-scales 0.1,1.0: give one scale per layer: 3 for L = 3, not 2"),
            (["--layer-scales", "0.1,-1", "--depth", "2"], "--layer-scales -1.0: every layer scale must be a finite number > 0"),
            (["--layer-scales", "0.1,1", "--depth", "2", "--init-scale", "3"], "--layer-scales 0.1,1: gives a Gaussian initialisation its scales layer by layer"),
          ])
    func badOptions(arguments: [String], message: String) throws {
        let scratch = try Scratch()
        let out = scratch.path("out.h5")
        let outcome = try Fault.run(["run"] + arguments + ["-o", out])
        Fault.expectRefused(outcome, [message], outputs: [out, out + ".partial"], "\(arguments)")
    }
}
