import COpenBLAS
import CSundials
import CVectorKernels
import GradFlow
import Testing

/// GradFlow's N_Vector kernels against SUNDIALS' own serial implementation (the reference), including
/// the aliased calls CVODE makes (output = an input).
@Suite("N_Vector kernels")
struct VectorKernelTests {
    /// One SUNDIALS context for the process (vectors made here are destroyed by each test).
    nonisolated(unsafe) static let sharedContext: SUNContext? = {
        var context: SUNContext?
        SUNContext_Create(nil, &context)
        return context
    }()
    var context: SUNContext? { Self.sharedContext }
    let n = 1001  // odd, so the 4-way unrolled reductions have a remainder

    /// A pair of vectors with the same random content: (SUNDIALS' kernels, GradFlow's kernels).
    func pair(_ seed: UInt64, positive: Bool = false) -> (N_Vector, N_Vector) {
        var rng = GaussianGenerator(seed: seed)
        let values = (0..<n).map { _ in positive ? 0.5 + abs(rng.nextGaussian()) : rng.nextGaussian() }
        let a = N_VNew_Serial(Int64(n), context)!, b = N_VNew_Serial(Int64(n), context)!
        gf_vector_install_kernels(b)
        for (i, v) in values.enumerated() { N_VGetArrayPointer(a)[i] = v; N_VGetArrayPointer(b)[i] = v }
        return (a, b)
    }

    func values(_ v: N_Vector) -> [Double] { Array(UnsafeBufferPointer(start: N_VGetArrayPointer(v), count: n)) }

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-13 * max(abs(a), abs(b), 1) }

    @Test("element-wise operations equal SUNDIALS' bit for bit, aliased or not")
    func elementwise() {
        let (x0, x1) = pair(1), (y0, y1) = pair(2, positive: true), (z0, z1) = pair(3)
        defer { for v in [x0, x1, y0, y1, z0, z1] { N_VDestroy(v) } }
        N_VLinearSum(0.7, x0, -1.3, y0, z0); N_VLinearSum(0.7, x1, -1.3, y1, z1)
        #expect(values(z0) == values(z1))
        N_VLinearSum(2, z0, 0.5, y0, z0); N_VLinearSum(2, z1, 0.5, y1, z1)   // z = 2z + 0.5y
        #expect(values(z0) == values(z1))
        N_VLinearSum(0.5, y0, 3, z0, z0); N_VLinearSum(0.5, y1, 3, z1, z1)   // z = 0.5y + 3z
        #expect(values(z0) == values(z1))
        N_VProd(x0, y0, z0); N_VProd(x1, y1, z1)
        #expect(values(z0) == values(z1))
        N_VDiv(z0, y0, z0); N_VDiv(z1, y1, z1)
        #expect(values(z0) == values(z1))
        N_VScale(-2.5, z0, z0); N_VScale(-2.5, z1, z1)
        #expect(values(z0) == values(z1))
        N_VAbs(x0, z0); N_VAbs(x1, z1)
        #expect(values(z0) == values(z1))
        N_VInv(y0, z0); N_VInv(y1, z1)
        #expect(values(z0) == values(z1))
        N_VAddConst(z0, 1.5, z0); N_VAddConst(z1, 1.5, z1)
        #expect(values(z0) == values(z1))
        N_VCompare(0.8, x0, z0); N_VCompare(0.8, x1, z1)
        #expect(values(z0) == values(z1))
        N_VConst(4, z0); N_VConst(4, z1)
        #expect(values(z0) == values(z1))
        #expect(N_VInvTest(x0, z0) == N_VInvTest(x1, z1) && values(z0) == values(z1))
    }

    @Test("reductions agree with SUNDIALS' to rounding")
    func reductions() {
        let (x0, x1) = pair(4), (w0, w1) = pair(5, positive: true), (m0, m1) = pair(6)
        defer { for v in [x0, x1, w0, w1, m0, m1] { N_VDestroy(v) } }
        #expect(close(N_VDotProd(x0, w0), N_VDotProd(x1, w1)))
        #expect(N_VMaxNorm(x0) == N_VMaxNorm(x1))
        #expect(N_VMin(x0) == N_VMin(x1))
        #expect(close(N_VWrmsNorm(x0, w0), N_VWrmsNorm(x1, w1)))
        #expect(close(N_VWrmsNormMask(x0, w0, m0), N_VWrmsNormMask(x1, w1, m1)))
        #expect(close(N_VWL2Norm(x0, w0), N_VWL2Norm(x1, w1)))
        #expect(close(N_VL1Norm(x0), N_VL1Norm(x1)))
    }

    @Test("fused operations equal the same combination done with SUNDIALS' single operations")
    func fused() {
        let vs = (0..<5).map { pair(10 + UInt64($0)) }
        let (z0, z1) = pair(20)
        defer { for (a, b) in vs + [(z0, z1)] { N_VDestroy(a); N_VDestroy(b) } }
        var c = [0.3, -1.1, 2.0, 0.7, -0.2]
        // Reference: z = Σ c_j X_j with linear sums on SUNDIALS' vectors.
        N_VScale(c[0], vs[0].0, z0)
        for j in 1..<5 { N_VLinearSum(1, z0, c[j], vs[j].0, z0) }
        var xs = vs.map { Optional($0.1) }
        _ = N_VLinearCombination(5, &c, &xs, z1)
        #expect(zip(values(z0), values(z1)).allSatisfy { close($0, $1) })
        // Aliased: X[0] = z.
        var aliased: [N_Vector?] = [z1, vs[1].1, vs[2].1, vs[3].1]
        let before = values(z1)
        _ = N_VLinearCombination(4, &c, &aliased, z1)
        let expected = (0..<n).map { i in c[0] * before[i] + c[1] * values(vs[1].1)[i] + c[2] * values(vs[2].1)[i] + c[3] * values(vs[3].1)[i] }
        #expect(zip(values(z1), expected).allSatisfy { close($0, $1) })
        // Z_j = a_j x + Y_j, in place (Z = Y), and d_j = x·Y_j.
        var a = [1.5, -0.5]
        var ys: [N_Vector?] = [vs[2].1, vs[3].1]
        let y2 = values(vs[2].1), y3 = values(vs[3].1), x = values(vs[0].1)
        ys.withUnsafeMutableBufferPointer { _ = N_VScaleAddMulti(2, &a, vs[0].1, $0.baseAddress, $0.baseAddress) }
        #expect(zip(values(vs[2].1), (0..<n).map { 1.5 * x[$0] + y2[$0] }).allSatisfy { close($0, $1) })
        #expect(zip(values(vs[3].1), (0..<n).map { -0.5 * x[$0] + y3[$0] }).allSatisfy { close($0, $1) })
        var dots = [0.0, 0.0]
        _ = N_VDotProdMulti(2, vs[0].1, &ys, &dots)
        #expect(close(dots[0], zip(x, values(vs[2].1)).map(*).reduce(0, +)))
        #expect(close(dots[1], zip(x, values(vs[3].1)).map(*).reduce(0, +)))
    }

    @Test("linear combinations of 1…11 vectors equal SUNDIALS' own, into a fresh vector and in place (z = X[0])")
    func linearCombinations() {
        let vs = (0..<11).map { pair(40 + UInt64($0)) }
        defer { for (a, b) in vs { N_VDestroy(a); N_VDestroy(b) } }
        var rng = GaussianGenerator(seed: 8)
        for count in 1...10 {
            var c = rng.gaussians(count)
            let (z0, z1) = pair(60)
            var xs0 = vs.prefix(count).map { Optional($0.0) }, xs1 = vs.prefix(count).map { Optional($0.1) }
            _ = N_VLinearCombination(Int32(count), &c, &xs0, z0)
            _ = N_VLinearCombination(Int32(count), &c, &xs1, z1)
            #expect(zip(values(z0), values(z1)).allSatisfy { close($0, $1) }, "\(count) vectors")
            // In place: X[0] is z (the last vectors of the pairs, so the others stay untouched).
            var in0 = [Optional(vs[10].0)] + vs.prefix(count - 1).map { Optional($0.0) }
            var in1 = [Optional(vs[10].1)] + vs.prefix(count - 1).map { Optional($0.1) }
            _ = N_VLinearCombination(Int32(count), &c, &in0, vs[10].0)
            _ = N_VLinearCombination(Int32(count), &c, &in1, vs[10].1)
            #expect(zip(values(vs[10].0), values(vs[10].1)).allSatisfy { close($0, $1) }, "\(count) vectors in place")
            N_VDestroy(z0)
            N_VDestroy(z1)
        }
    }
}

extension VectorKernelTests {
    @Test("the fused error weights 1/(rtol·|y| + atol) equal SUNDIALS' four operations bit for bit")
    func errorWeights() {
        let (y0, y1) = pair(70), (w0, w1) = pair(71)
        defer { for v in [y0, y1, w0, w1] { N_VDestroy(v) } }
        for (rtol, atol) in [(1e-8, 1e-12), (3e-4, 0.7), (0.25, 1e-300)] {
            N_VAbs(y0, w0); N_VScale(rtol, w0, w0); N_VAddConst(w0, atol, w0); N_VInv(w0, w0)  // arkEwtSetSS, cvEwtSetSS
            #expect(gf_vector_error_weights(y1, w1, rtol, atol) == 0)
            #expect(values(w0).map(\.bitPattern) == values(w1).map(\.bitPattern), "rtol \(rtol), atol \(atol)")
        }
    }

    @Test("linear combinations with zero coefficients (left out) equal SUNDIALS' own; z = X[0] with c_0 = 0; all zero")
    func zeroCoefficients() {
        let vs = (0..<8).map { pair(80 + UInt64($0)) }
        defer { for (a, b) in vs { N_VDestroy(a); N_VDestroy(b) } }
        let (z0, z1) = pair(90)
        defer { N_VDestroy(z0); N_VDestroy(z1) }
        // Dormand–Prince's solution: y + h Σ b_j k_j with b_2 = b_7 = 0 (the last input is y).
        let b: [Double] = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0]
        var c: [Double] = b.map { 1e-3 * $0 } + [1]
        var xs0 = vs.map { Optional($0.0) }, xs1 = vs.map { Optional($0.1) }
        _ = N_VLinearCombination(8, &c, &xs0, z0)
        _ = N_VLinearCombination(8, &c, &xs1, z1)
        #expect(zip(values(z0), values(z1)).allSatisfy { close($0, $1) })
        // In place with c_0 = 0: z = 0·z + Σ_{j≥1} c_j X_j (z keeps its place as X[0]).
        var d = [0.0, 0.5, 0, -1.5]
        var in0 = [Optional(z0)] + vs.prefix(3).map { Optional($0.0) }, in1 = [Optional(z1)] + vs.prefix(3).map { Optional($0.1) }
        _ = N_VLinearCombination(4, &d, &in0, z0)
        _ = N_VLinearCombination(4, &d, &in1, z1)
        #expect(zip(values(z0), values(z1)).allSatisfy { close($0, $1) })
        var zeros = [0.0, 0.0, 0.0]
        var three = vs.prefix(3).map { Optional($0.1) }
        _ = N_VLinearCombination(3, &zeros, &three, z1)
        #expect(values(z1).allSatisfy { $0 == 0 })
    }
}

/// The kernels split over two threads (`gf_vector_set_threads(2)`, vectors of at least GF_PARALLEL_MIN doubles)
/// against the same kernels on one thread: element-wise operations must give the same bits (each element is
/// computed by the same expression, only by another thread), reductions the same value to rounding.
@Suite("N_Vector kernels on two threads", .serialized)
struct ThreadedVectorKernelTests {
    let n = Int(GF_PARALLEL_MIN) + 37_007  // above the threshold, odd, and not a multiple of 8

    func vector(_ seed: UInt64) -> N_Vector {
        var rng = GaussianGenerator(seed: seed)
        let v = gf_vector_new_aligned(Int64(n), VectorKernelTests.sharedContext)!
        for i in 0..<n { N_VGetArrayPointer(v)[i] = 0.5 + abs(rng.nextGaussian()) }
        return v
    }

    func values(_ v: N_Vector) -> [Double] { Array(UnsafeBufferPointer(start: N_VGetArrayPointer(v), count: n)) }

    /// Runs the same sequence of operations with `threads` kernel threads; returns the outputs and reductions.
    func results(threads: Int32) -> (vectors: [[Double]], sums: [Double]) {
        gf_vector_set_threads(threads)
        defer { gf_vector_set_threads(1) }
        let xs = (0..<6).map { vector(UInt64(70 + $0)) }
        defer { xs.forEach { N_VDestroy($0) } }
        let z = vector(90), w = vector(91)
        defer { N_VDestroy(z); N_VDestroy(w) }
        var out: [[Double]] = []
        N_VLinearSum(0.7, xs[0], -1.3, xs[1], z); out.append(values(z))
        N_VLinearSum(2, z, 0.5, xs[2], z); out.append(values(z))
        N_VScale(3.5, xs[3], z); out.append(values(z))
        N_VScale(-0.25, z, z); out.append(values(z))
        N_VConst(1.25, w); out.append(values(w))
        var c = [0.3, -1.1, 2.0, 0.7, -0.2, 1.9]
        var list = xs.map { Optional($0) }
        _ = N_VLinearCombination(6, &c, &list, z); out.append(values(z))
        var inPlace = [Optional(z)] + xs.prefix(5).map { Optional($0) }
        _ = N_VLinearCombination(6, &c, &inPlace, z); out.append(values(z))
        var a = [0.5, -2.0]
        var ys = [Optional(xs[4]), Optional(xs[5])]
        ys.withUnsafeMutableBufferPointer { _ = N_VScaleAddMulti(2, &a, xs[0], $0.baseAddress, $0.baseAddress) }
        out.append(values(xs[4])); out.append(values(xs[5]))
        let sums = [N_VDotProd(xs[1], xs[2]), N_VWrmsNorm(xs[1], xs[3]), N_VWL2Norm(xs[2], xs[3])]
        return (out, sums)
    }

    @Test("element-wise operations give the same bits on two threads; reductions agree to rounding")
    func twoThreadsAgree() {
        let single = results(threads: 1), double = results(threads: 2)
        for (k, (a, b)) in zip(single.vectors, double.vectors).enumerated() {
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "output \(k)")
        }
        for (a, b) in zip(single.sums, double.sums) { #expect(abs(a - b) <= 1e-13 * abs(a)) }
        #expect(gf_vector_threads() == 1)
    }

    @Test("the gradient's outer products (rank one and two, streamed or cached) give the same bits on two threads", arguments: [
        (733, 401), (1, 300_001), (1_450, 1_460),  // above the threshold: split by rows; the last streams (17 MB)
    ])
    func outerProductsAgree(rows: Int, cols: Int) {
        var rng = GaussianGenerator(seed: 5)
        let x1 = rng.gaussians(rows), y1 = rng.gaussians(cols), x2 = rng.gaussians(rows), y2 = rng.gaussians(cols)
        func products(threads: Int32) -> [[UInt64]] {
            gf_vector_set_threads(threads)
            defer { gf_vector_set_threads(1) }
            let one = AlignedBuffer(count: rows * cols), two = AlignedBuffer(count: rows * cols)
            gf_outer_product(Int32(rows), Int32(cols), 0.7, x1, y1, one.pointer)
            gf_outer_product2(Int32(rows), Int32(cols), -1.3, x1, y1, x2, y2, two.pointer)
            return [one, two].map { buffer in (0..<(rows * cols)).map { buffer.pointer[$0].bitPattern } }
        }
        let single = products(threads: 1), double = products(threads: 2)
        #expect(single == double)
        #expect(single[0][(rows - 1) * cols + cols - 1] == (0.7 * x1[rows - 1] * y1[cols - 1]).bitPattern)
    }

    @Test("a gradient and an HVP of many small layers (P ≥ 2^18, each block below it) give the same bits on two kernel threads")
    func layersAgree() throws {
        let problem = try SyntheticData(samples: 40, dimension: 200, seed: 3).makeProblem()
        let shape = try NetworkShape(widths: [200, 200, 200, 200, 200, 200, 200, 200, 1])
        let network = try Network(shape: shape, kind: .fullyConnected, projection: [1])
        #expect(shape.parameterCount >= Int(GF_PARALLEL_MIN))
        let theta = try WeightInitialization.gaussian(scale: 0.07, zeroLayer: nil).draw(shape: shape, seed: 9)
        var rng = GaussianGenerator(seed: 2)
        let v = rng.gaussians(theta.count)
        func products(threads: Int32) -> [[UInt64]] {
            gf_vector_set_threads(threads)  // GradFlow's kernels only: OpenBLAS keeps its one thread
            defer { gf_vector_set_threads(1) }
            let risk = DeepLinearRisk(network: network, problem: problem)
            return [risk.gradient(at: theta), risk.hessianVectorProduct(at: theta, direction: v)].map { $0.map(\.bitPattern) }
        }
        let single = products(threads: 1), double = products(threads: 2)
        #expect(single == double)
        #expect(single[0].contains { $0 != 0 } && single[1].contains { $0 != 0 })  // (their values: RiskTests, against differences)
    }

    @Test("the sweeps' matrix–vector products give the same bits on one and two threads and agree with OpenBLAS", arguments: [
        (333, 517), (200, 200), (1_000, 17), (17, 1_000), (1, 20_000), (20_000, 1), (5, 3),  // split and not, odd sizes
    ])
    func matrixVectorAgree(m: Int, n: Int) {
        var rng = GaussianGenerator(seed: 12)
        let a = rng.gaussians(m * n), xn = rng.gaussians(n), xt = rng.gaussians(m), y0n = rng.gaussians(m), y0t = rng.gaussians(n)
        func products(threads: Int32) -> [[Double]] {
            gf_vector_set_threads(threads)
            defer { gf_vector_set_threads(1) }
            var yn = [Double](repeating: 0, count: m), yt = [Double](repeating: 0, count: n), yn1 = y0n, yt1 = y0t
            gf_gemv_n(Int32(m), Int32(n), 1, a, xn, 0, &yn)
            gf_gemv_t(Int32(m), Int32(n), 1, a, xt, 0, &yt)
            gf_gemv_n(Int32(m), Int32(n), 2, a, xn, 1, &yn1)  // y = 2Ax + y
            gf_gemv_t(Int32(m), Int32(n), -0.5, a, xt, 1, &yt1)
            return [yn, yt, yn1, yt1]
        }
        let single = products(threads: 1), double = products(threads: 2)
        #expect(single.map { $0.map(\.bitPattern) } == double.map { $0.map(\.bitPattern) })
        var reference = [[Double](repeating: 0, count: m), [Double](repeating: 0, count: n), y0n, y0t]
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), 1, a, Int32(n), xn, 1, 0, &reference[0], 1)
        cblas_dgemv(CblasRowMajor, CblasTrans, Int32(m), Int32(n), 1, a, Int32(n), xt, 1, 0, &reference[1], 1)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), 2, a, Int32(n), xn, 1, 1, &reference[2], 1)
        cblas_dgemv(CblasRowMajor, CblasTrans, Int32(m), Int32(n), -0.5, a, Int32(n), xt, 1, 1, &reference[3], 1)
        for (k, (ours, theirs)) in zip(single, reference).enumerated() {
            let scale = (k % 2 == 0 ? Double(n) : Double(m)).squareRoot() * 4  // |entries| of a sum of Gaussian products
            #expect(zip(ours, theirs).allSatisfy { abs($0 - $1) <= 1e-14 * scale }, "product \(k)")
        }
    }

    @Test("the error weights give the same bits on two threads")
    func errorWeightsAgree() {
        func weights(threads: Int32) -> [UInt64] {
            gf_vector_set_threads(threads)
            defer { gf_vector_set_threads(1) }
            let y = vector(95), w = vector(96)
            defer { N_VDestroy(y); N_VDestroy(w) }
            N_VScale(-1, y, y)
            _ = gf_vector_error_weights(y, w, 1e-8, 1e-12)
            return values(w).map(\.bitPattern)
        }
        #expect(weights(threads: 1) == weights(threads: 2))
    }

    @Test("the split point is 64-byte aligned and below the threshold nothing is split")
    func splitRule() {
        gf_vector_set_threads(2)
        defer { gf_vector_set_threads(1) }
        #expect(gf_vector_threads() == 2)
        #expect(gf_parallel_split(GF_PARALLEL_MIN - 1) == 0)
        #expect(gf_parallel_split(GF_PARALLEL_MIN) == 1)
        for length in [GF_PARALLEL_MIN, GF_PARALLEL_MIN + 7, 10_001_000] {
            let half = gf_parallel_half(length)
            #expect(half % 8 == 0 && half <= length / 2 && half > length / 2 - 8)
        }
    }
}
