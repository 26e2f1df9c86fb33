import COpenBLAS
import GradFlow
import Testing

/// `JacobiSVD` (the direct path of `TopSingularTripletSolver` for small layers) against LAPACK's `dgesdd`, an
/// independent computation, on the shapes of small networks and on the matrices that stress it.
@Suite("Small-layer SVD by one-sided Jacobi against LAPACK")
struct JacobiSVDTests {
    /// σ_1², the sum of the other σ_i², σ_2 and both top vectors against `dgesdd`, at rounding level: values to
    /// 1e-14·‖W‖_F², vectors within LAPACK's and Jacobi's own rounding-level angle 1e-14·‖W‖_F²/(σ_1² − σ_2²).
    static func check(_ w: [Double], rows m: Int, columns n: Int, vectors: Bool = true,
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let svd = try LAPACK.thinSVD(w, rows: m, columns: n)
        let s = svd.values
        let top = s[0] * s[0], rest = s.dropFirst().map { $0 * $0 }.reduce(0, +), frobenius = top + rest
        let jacobi = JacobiSVD(rows: m, columns: n)
        var u = [Double](repeating: .nan, count: m), v = [Double](repeating: .nan, count: n)
        let result = w.withUnsafeBufferPointer { jacobi.decompose($0.baseAddress!, u: &u, v: &v) }
        #expect(result.converged, sourceLocation: sourceLocation)
        let rounding = 1e-14 * max(frobenius, .leastNormalMagnitude)
        #expect(abs(result.sigmaSquared - top) <= rounding, "σ_1² \(result.sigmaSquared) vs \(top)", sourceLocation: sourceLocation)
        #expect(abs(result.residualSquared - rest) <= rounding, "residual \(result.residualSquared) vs \(rest)", sourceLocation: sourceLocation)
        #expect(abs(result.secondSingularValue - (s.count > 1 ? s[1] : 0)) <= 1e-14 * s[0] + 1e-300, sourceLocation: sourceLocation)
        for x in [u, v] { #expect(abs(x.map { $0 * $0 }.reduce(0, +) - 1) <= 1e-13, sourceLocation: sourceLocation) }
        // W v = σ_1 u, whatever the gap.
        for i in 0..<m {
            let wv = (0..<n).map { w[i * n + $0] * v[$0] }.reduce(0, +)
            #expect(abs(wv - top.squareRoot() * u[i]) <= 1e-13 * max(s[0], .leastNormalMagnitude), sourceLocation: sourceLocation)
        }
        guard vectors, s[0] > 0 else { return }
        let gap = s.count > 1 ? top - s[1] * s[1] : top
        let angle = 1e-14 * frobenius / gap
        let lapackU = (0..<m).map { svd.u[$0 * s.count] }, lapackV = Array(svd.vt.prefix(n))
        for (mine, theirs) in [(u, lapackU), (v, lapackV)] {
            let sign: Double = zip(mine, theirs).map { $0 * $1 }.reduce(0, +) < 0 ? -1 : 1
            let sine = zip(mine, theirs).map { ($0 - sign * $1) * ($0 - sign * $1) }.reduce(0, +).squareRoot()
            #expect(sine <= 2 * angle + 1e-15, "sin∠ = \(sine), allowed \(2 * angle)", sourceLocation: sourceLocation)
        }
    }

    @Test("Gaussian matrices of small networks' shapes", arguments: [(1, 1), (1, 7), (7, 1), (5, 5), (12, 5), (5, 12), (12, 12), (3, 8), (9, 2)])
    func gaussian(shape: (Int, Int)) throws {
        let (m, n) = shape
        var rng = GaussianGenerator(seed: UInt64(500 + 13 * m + n))
        for _ in 0..<5 { try Self.check(rng.gaussians(m * n), rows: m, columns: n) }
    }

    /// A layer near rank one (Lemma 2's regime): the residual Σ_{i≥2} σ_i² is tiny and must not be lost to
    /// cancellation against σ_1².
    @Test("near rank one: the small residual to its own relative accuracy")
    func nearRankOne() throws {
        let m = 6, n = 5
        var rng = GaussianGenerator(seed: 9)
        let a = rng.gaussians(m), b = rng.gaussians(n), noise = rng.gaussians(m * n)
        for scale in [1e-3, 1e-6, 1e-9] {
            var w = [Double](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n { w[i * n + j] = a[i] * b[j] + scale * noise[i * n + j] } }
            try Self.check(w, rows: m, columns: n)
            let s = try LAPACK.thinSVD(w, rows: m, columns: n).values
            let rest = s.dropFirst().map { $0 * $0 }.reduce(0, +)
            let jacobi = JacobiSVD(rows: m, columns: n)
            var u = [Double](repeating: 0, count: m), v = [Double](repeating: 0, count: n)
            let result = w.withUnsafeBufferPointer { jacobi.decompose($0.baseAddress!, u: &u, v: &v) }
            // Both are accurate to ε·σ_1·σ_i per value: relative 1e-16·σ_1/σ_2 on the residual.
            #expect(abs(result.residualSquared - rest) <= 1e-12 * rest + 1e-15 * s[0] * s[1], "scale \(scale)")
        }
    }

    /// Magnitudes where the squared norms of an unscaled W would underflow or overflow (a layer of a deep network at a
    /// small initialisation, K of a deep network): σ_1, and σ_1² where it is a double, against `dgesdd` (which scales).
    /// A subnormal largest entry or a non-finite one: not converged (the callers then use LAPACK).
    @Test("magnitudes from 1e-300 to 1e300: the same relative accuracy; subnormal or non-finite declined",
          arguments: [1e-300, 1e-200, 1e-160, 1e-90, 1e-40, 1e40, 1e90, 1e160, 1e200, 1e300])
    func magnitudes(scale: Double) throws {
        var rng = GaussianGenerator(seed: 21)
        let m = 6, n = 4
        let w = rng.gaussians(m * n).map { $0 * scale }
        let svd = try LAPACK.thinSVD(w, rows: m, columns: n)
        let jacobi = JacobiSVD(rows: m, columns: n)
        var u = [Double](repeating: 0, count: m), v = [Double](repeating: 0, count: n)
        let top = w.withUnsafeBufferPointer { jacobi.decompose($0.baseAddress!, u: &u, v: &v) }
        #expect(top.converged)
        #expect(abs(top.sigma / svd.values[0] - 1) <= 1e-14, "σ_1 \(top.sigma) vs \(svd.values[0])")
        #expect(abs(top.secondSingularValue / svd.values[1] - 1) <= 1e-13)
        let square = svd.values[0] * svd.values[0]
        if square.isNormal { #expect(abs(top.sigmaSquared / square - 1) <= 1e-14) }
        let lapackV = Array(svd.vt.prefix(n))
        let dot = abs(zip(v, lapackV).map { $0 * $1 }.reduce(0, +))
        #expect(abs(dot - 1) <= 1e-13)
        for bad in [4e-320, Double.infinity, .nan] {
            var x = [Double](repeating: 0, count: m * n)
            x[5] = bad
            #expect(!x.withUnsafeBufferPointer { jacobi.decompose($0.baseAddress!, u: &u, v: &v) }.converged, "\(bad)")
        }
    }

    /// Exactly rank one, exactly zero, and an equal pair of top singular values (no unique top vector: only the
    /// values and W v = σ_1 u are determined).
    @Test("rank one, zero and a repeated top value")
    func degenerate() throws {
        let a: [Double] = [1, -2, 0.5, 3], b: [Double] = [2, 1, -1]
        try Self.check((0..<12).map { a[$0 / 3] * b[$0 % 3] }, rows: 4, columns: 3)
        try Self.check([Double](repeating: 0, count: 20), rows: 4, columns: 5, vectors: false)
        var w = [Double](repeating: 0, count: 36)
        for (i, x) in [2.0, 2.0, 1.0, 0.5, 0.25, 0.1].enumerated() { w[i * 6 + (i + 2) % 6] = x }
        try Self.check(w, rows: 6, columns: 6, vectors: false)
    }

    /// The solver takes the direct path for small layers, at any magnitude (it scales W by a power of two), agrees
    /// with LAPACK, and leaves a non-finite matrix to LAPACK.
    @Test("TopSingularTripletSolver: Jacobi for small layers, at any scale; LAPACK for a non-finite entry")
    func solverPath() throws {
        var rng = GaussianGenerator(seed: 4)
        let m = 5, n = 5
        let solver = TopSingularTripletSolver(rows: m, columns: n)
        let w = rng.gaussians(m * n)
        let t = try w.withUnsafeBufferPointer { try solver.solve($0.baseAddress!) }
        #expect(t.usedJacobi && !t.usedLAPACK)
        try TopSingularTripletTests.check(t, w, rows: m, columns: n)
        for scale in [1e150, 1e-150] {
            let big = w.map { $0 * scale }
            let t = try big.withUnsafeBufferPointer { try solver.solve($0.baseAddress!) }
            #expect(t.usedJacobi)  // scaled inside: no overflow or underflow in the squared norms
            let s = try LAPACK.thinSVD(big, rows: m, columns: n).values
            #expect(abs(t.sigmaSquared / (s[0] * s[0]) - 1) <= 1e-14)
        }
        #expect(solver.calls == 3)
        // A non-finite entry: Jacobi declines, LAPACK reports it (as before this path existed).
        var broken = w
        broken[3] = .infinity
        #expect(throws: GradFlowError.self) { try broken.withUnsafeBufferPointer { try solver.solve($0.baseAddress!) } }
        let wide = TopSingularTripletSolver(rows: 1, columns: TopSingularTripletSolver.directLimit + 1)
        let row = rng.gaussians(TopSingularTripletSolver.directLimit + 1)
        #expect(try row.withUnsafeBufferPointer { try wide.solve($0.baseAddress!) }.usedJacobi, "1×n layers have k = 1")
        let large = TopSingularTripletSolver(rows: TopSingularTripletSolver.directLimit + 1, columns: TopSingularTripletSolver.directLimit + 1)
        let square = rng.gaussians(large.rows * large.columns)
        #expect(try !square.withUnsafeBufferPointer { try large.solve($0.baseAddress!) }.usedJacobi)
    }
}

/// `euclideanNorm` (√(xᵀx) by `ddot`, `dnrm2` at the extremes) against `dnrm2` and exact values.
@Suite("Euclidean norm by ddot, dnrm2 at the extremes")
struct EuclideanNormTests {
    @Test("agrees with dnrm2 to n·ε, and is exact at the extremes where ddot would overflow or underflow")
    func norms() {
        var rng = GaussianGenerator(seed: 12)
        for n in [1, 7, 1000, 22_550] {
            let x = rng.gaussians(n)
            let reference = cblas_dnrm2(Int32(n), x, 1)
            #expect(abs(euclideanNorm(x) - reference) <= Double(n) * Double.ulpOfOne * reference)
        }
        #expect(abs(euclideanNorm([3e200, 4e200]) / 5e200 - 1) <= 1e-15)  // xᵀx overflows: dnrm2
        #expect(abs(euclideanNorm([3e-200, 4e-200]) / 5e-200 - 1) <= 1e-15)  // xᵀx underflows: dnrm2
        #expect(euclideanNorm([0, 0, 0]) == 0)
        #expect(euclideanNorm([]) == 0)
        #expect(euclideanNorm([1, .nan]).isNaN)
    }
}

/// Partials written before Jacobi saved its rotation (k + 3 values per layer instead of k + 3 + k²) are resumed in
/// their own layout: the suite adopts the width the file's records have, or refuses any other width.
@Suite("Resume layouts of the Lemma 2 state")
struct ResumeLayoutTests {
    @Test("the suite adopts this build's width or the earlier one, refuses others; a legacy state continues the same values")
    func layouts() throws {
        let problem = try Fixtures.problem()
        let (network, theta) = try Fixtures.fullyConnected([4, 3, 5, 1], scale: 0.7)
        func suite() throws -> MonitorSuite {
            try MonitorSuite(network: network, problem: problem, initialWeights: theta, initialization: .gaussian(scale: 0.7, zeroLayer: nil),
                             selection: .all, sharpness: SharpnessSettings(), dynamics: .flow(relativeTolerance: 1e-8))
        }
        let risk = DeepLinearRisk(network: network, problem: problem)
        var rng = GaussianGenerator(seed: 5)
        let direction = rng.gaussians(theta.count)
        let path = (0..<6).map { step in zip(theta, direction).map { $0 + 1e-3 * Double(step) * $1 } }
        let current = try suite(), rotations = 3 * 3 + 3 * 3 + 1 * 1  // k² of the layers 3×4, 5×3, 1×5
        let legacyCount = current.resumeStateCount - rotations
        #expect(current.adoptResumeLayout(stateCount: current.resumeStateCount))
        let refused = try suite()
        #expect(!refused.adoptResumeLayout(stateCount: refused.resumeStateCount + 1))
        #expect(refused.resumeStateCount == legacyCount + rotations)  // nothing changed
        // A legacy suite after three rows, its state restored into another legacy suite: the next rows agree with
        // the uninterrupted warm suite's to rounding.
        let legacy = try suite()
        #expect(legacy.adoptResumeLayout(stateCount: legacyCount) && legacy.resumeStateCount == legacyCount)
        var warmRows: [[String: [Double]]] = []
        for theta in path { warmRows.append(try current.row(time: 0, weights: theta, evaluation: risk.evaluate(at: theta))) }
        for theta in path.prefix(3) { _ = try legacy.row(time: 0, weights: theta, evaluation: risk.evaluate(at: theta)) }
        let saved = legacy.resumeState()
        #expect(saved.count == legacyCount)
        let resumed = try suite()
        #expect(resumed.adoptResumeLayout(stateCount: saved.count))
        resumed.restore(saved[...], weights: path[2])
        for (index, theta) in path.enumerated().dropFirst(3) {
            let row = try resumed.row(time: 0, weights: theta, evaluation: risk.evaluate(at: theta))
            for name in ["spectral_norm_sq", "rank1_residual", "alignment"] {
                let (a, b) = (try #require(row[name]), try #require(warmRows[index][name]))
                for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-13 * max(abs(y), 1), "\(name) row \(index): \(x) vs \(y)") }
            }
        }
    }
}
