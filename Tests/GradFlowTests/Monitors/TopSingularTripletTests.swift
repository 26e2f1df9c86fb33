import Foundation
import GradFlow
import Testing

/// The warm-started, certified Lanczos of `TopSingularTripletSolver` against LAPACK's `dgesdd` (a full SVD,
/// an independent computation), along sequences of slowly changing matrices like a layer along a trajectory.
@Suite("Top singular triplet: warm-started Lanczos against LAPACK's SVD")
struct TopSingularTripletTests {
    /// Compares one solver result with LAPACK's SVD of the same matrix: σ_1² and the rank-one residual within
    /// the certified bound (plus rounding), and both vectors within the certified angle (plus LAPACK's own
    /// rounding-level error ε‖W‖²/gap).
    static func check(_ t: TopSingularTriplet, _ w: [Double], rows m: Int, columns n: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let svd = try LAPACK.singularValues(w, rows: m, columns: n)
        let s = svd.values
        let top = s[0] * s[0], rest = s.dropFirst().map { $0 * $0 }.reduce(0, +), frobenius = top + rest
        let rounding = 1e-14 * frobenius
        // ρ ≤ σ_1² ≤ ρ + bound: the certificate is a bound, not an estimate.
        #expect(t.sigmaSquared <= top + rounding, sourceLocation: sourceLocation)
        #expect(top - t.sigmaSquared <= t.eigenvalueBound + rounding, sourceLocation: sourceLocation)
        // The rank-one residual exceeds the true one by at most the same bound.
        #expect(abs(t.residualSquared - rest) <= t.eigenvalueBound + rounding, "residual \(t.residualSquared) vs \(rest)", sourceLocation: sourceLocation)
        // The accuracy promised: ten digits of the rank-one residual, or σ_1² to 1e-20 relative.
        #expect(t.eigenvalueBound <= max(1e-10 * rest, 1e-20 * top) * 1.0001, sourceLocation: sourceLocation)
        #expect(t.angleBound <= 1e-10, sourceLocation: sourceLocation)
        // The bound on σ_2 that certified the gap (and starts the next call's Weyl bound) is above the true σ_2.
        if s.count > 1 {
            #expect(t.secondSingularValueBound >= s[1] * (1 - 1e-14), "σ_2 bound \(t.secondSingularValueBound) below σ_2 = \(s[1])",
                    sourceLocation: sourceLocation)
        }
        let gap = s.count > 1 ? top - s[1] * s[1] : top
        let lapackAngle = 1e-14 * frobenius / gap
        for (mine, theirs) in [(t.u, svd.u), (t.v, svd.v)] {
            // ‖x − sign·y‖ = 2 sin(∠/2) ≥ sin∠ for unit vectors, without 1 − cos²'s cancellation.
            let sign: Double = zip(mine, theirs).map { $0 * $1 }.reduce(0, +) < 0 ? -1 : 1
            let sine = zip(mine, theirs).map { ($0 - sign * $1) * ($0 - sign * $1) }.reduce(0, +).squareRoot()
            #expect(sine <= t.angleBound + lapackAngle + 1e-15, "sin∠ = \(sine), certified \(t.angleBound)", sourceLocation: sourceLocation)
            #expect(abs(mine.map { $0 * $0 }.reduce(0, +) - 1) <= 1e-13, sourceLocation: sourceLocation)
        }
    }

    /// W(t) = W_0 + t·E: a Gaussian start (flat spectrum, as a small initialisation) drifting slowly.
    @Test("slowly changing Gaussian matrices: warm steps certify and agree with dgesdd", arguments: [(50, 50), (40, 25), (25, 40), (16, 16), (20, 14)])
    func slowlyChanging(shape: (Int, Int)) throws {
        let (m, n) = shape
        var rng = GaussianGenerator(seed: UInt64(100 + m * 7 + n))
        let w0 = rng.gaussians(m * n), e = rng.gaussians(m * n)
        let solver = TopSingularTripletSolver(rows: m, columns: n)
        var warm = 0
        for step in 0..<30 {
            let w = zip(w0, e).map { $0 + 1e-4 * Double(step) * $1 }
            let t = try w.withUnsafeBufferPointer { try solver.solve($0.baseAddress!) }
            if !t.usedLAPACK { warm += 1 }
            try Self.check(t, w, rows: m, columns: n)
        }
        #expect(solver.calls == 30)
        // The first call has no warm start; after it, the iteration must carry (otherwise nothing was gained).
        #expect(warm >= 25, "only \(warm) of 29 warm calls certified")
    }

    /// A flat spectrum that moves farther than its gap between calls (case B's layers between far-apart output times):
    /// Weyl's bound (σ_2(W_prev) + ‖ΔW‖_F)² is above σ_1², and the trace bound counts the mass of the eigenvalues the
    /// iteration never saw. Cholesky's certificate of λ_2 < (θ_1 + θ_2)/2 carries the iteration instead of dgesdd.
    @Test("large moves of a flat spectrum: certified by Cholesky, not by a fall-back to dgesdd", arguments: [(50, 50), (60, 40), (40, 60)])
    func largeMoves(shape: (Int, Int)) throws {
        let (m, n) = shape
        var rng = GaussianGenerator(seed: UInt64(300 + m + n))
        let w0 = rng.gaussians(m * n), e = rng.gaussians(m * n)
        let solver = TopSingularTripletSolver(rows: m, columns: n)
        var hopeless = 0
        var previousSecond = 0.0, previous: [Double] = []
        for step in 0..<20 {
            let w = zip(w0, e).map { $0 + 0.06 * Double(step) * $1 }
            let t = try w.withUnsafeBufferPointer { try solver.solve($0.baseAddress!) }
            try Self.check(t, w, rows: m, columns: n)
            // Count the calls where Weyl's bound could not have certified (it is computed here from dgesdd's σ_2).
            let s = try LAPACK.singularValues(w, rows: m, columns: n).values
            if step > 0 {
                let change = zip(w, previous).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                if (previousSecond + change) * (previousSecond + change) >= s[0] * s[0] { hopeless += 1 }
            }
            previousSecond = s[1]
            previous = w
        }
        #expect(hopeless >= 15, "the moves should defeat Weyl's bound; they did \(hopeless) times")
        #expect(solver.lapackCalls == 1, "\(solver.lapackCalls) of 20 calls fell back to dgesdd")
    }

    /// A matrix that converges to rank one, as the layers of a trained network do (Lemma 2): the trace bound
    /// certifies even after large changes.
    @Test("matrices converging to rank one, with large steps: certified by the trace bound")
    func towardsRankOne() throws {
        let m = 30, n = 20
        var rng = GaussianGenerator(seed: 77)
        let u = rng.gaussians(m), v = rng.gaussians(n), noise = rng.gaussians(m * n)
        let solver = TopSingularTripletSolver(rows: m, columns: n)
        var warm = 0
        for step in 0..<20 {
            let decay = pow(0.3, Double(step)), growth = 1 + 0.2 * Double(step)
            var w = [Double](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n { w[i * n + j] = growth * u[i] * v[j] + decay * noise[i * n + j] } }
            let t = try w.withUnsafeBufferPointer { try solver.solve($0.baseAddress!) }
            if !t.usedLAPACK { warm += 1 }
            try Self.check(t, w, rows: m, columns: n)
        }
        #expect(warm >= 15, "only \(warm) of 19 warm calls certified")
    }

    /// Two equal top singular values: the top vector is not determined and no gap can be certified, so every
    /// call must fall back to LAPACK rather than return an uncertified vector (a layer wider than Jacobi's limit).
    @Test("a degenerate top singular value falls back to LAPACK")
    func degenerate() throws {
        let n = 16
        let solver = TopSingularTripletSolver(rows: n, columns: n)
        for step in 0..<5 {
            var w = [Double](repeating: 0, count: n * n)
            let values = [2.0, 2.0, 1.0, 0.5, 0.25, 0.1] + [Double](repeating: 0.05, count: n - 6)
            for i in 0..<n { w[i * n + i] = values[i] * (1 + 1e-3 * Double(step)) }
            let t = try w.withUnsafeBufferPointer { try solver.solve($0.baseAddress!) }
            #expect(t.usedLAPACK)
            #expect(abs(t.sigmaSquared - 4 * pow(1 + 1e-3 * Double(step), 2)) <= 1e-13)
        }
        #expect(solver.lapackCalls == 5)
    }

    /// Lemma 2's quantities along a trajectory (the warm workspace) equal the stateless LAPACK ones.
    @Test("Lemma 2 along a drifting trajectory: the warm workspace agrees with one dgesdd per layer",
          arguments: [[18, 16, 16, 14, 1], [5, 5, 5, 5, 1], [12, 8, 20, 1]])
    func lemma2Workspace(widths: [Int]) throws {
        let shape = try NetworkShape(widths: widths)
        var rng = GaussianGenerator(seed: 31)
        let theta0 = rng.gaussians(shape.parameterCount), direction = rng.gaussians(shape.parameterCount)
        let imbalances = Imbalances(initialWeights: theta0, shape: shape)
        let quantities = try Lemma2Quantities(initialWeights: theta0, shape: shape, imbalances: imbalances)
        let workspace = Lemma2Quantities.Workspace(shape: shape)
        for step in 0..<12 {
            let theta = zip(theta0, direction).map { $0 + 1e-4 * Double(step) * $1 }
            let drift = imbalances.drift(at: theta).absolute
            let warm = try quantities.values(at: theta, driftNorms: drift, workspace: workspace)
            let cold = try quantities.values(at: theta, driftNorms: drift)
            for k in 0..<shape.depth {
                let scale = warm.spectralNormsSquared[k] + warm.rankOneResidual[k]
                #expect(abs(warm.spectralNormsSquared[k] - cold.spectralNormsSquared[k]) <= 1e-13 * scale)
                #expect(abs(warm.rankOneResidual[k] - cold.rankOneResidual[k]) <= 1e-10 * cold.rankOneResidual[k] + 1e-13 * scale)
            }
            for k in 0..<(shape.depth - 1) { #expect(abs(warm.alignment[k] - cold.alignment[k]) <= 1e-9) }
            #expect(warm.slack == cold.slack)
            #expect(abs(warm.normBalanceMargin - cold.normBalanceMargin) <= 1e-12)
        }
        #expect(workspace.lapackCalls < workspace.calls / 2, "\(workspace.lapackCalls) of \(workspace.calls) calls used LAPACK")
    }
}
