import COpenBLAS
import CVectorKernels

/// The risk `R(W) = (1/n)‖y − X W_1ᵀ⋯W_Lᵀ p‖²` of a deep linear network with scalar output, its
/// gradient (MATH.md §1) and its exact Hessian-vector product (MATH.md §2.1), all with level-2 products on
/// the stacked weights (`NetworkShape` layout, row-major): the sweeps' matrix–vector products are GradFlow's
/// (`gf_gemv_n`, `gf_gemv_t`) and the layers' outer products too (`gf_outer_product_layers`). With two kernel
/// threads (`--threads 2`) each product of a block of at least 2^14 entries is split by rows or columns, and the
/// outer products of a network of at least 2^18 parameters by rows: the same bits on one and two threads.
///
/// Notation of MATH.md: suffix vectors `b_L = p`, `b_{k−1} = W_kᵀ b_k` (so `w = b_0`), the
/// function-space gradient `g = 2(Σw − h)`, forward vectors `c_1 = g`, `c_{k+1} = W_k c_k`, and
/// `∇_{W_k}R = b_k c_kᵀ`.
///
/// Costs: gradient ≈ 5P + 2d² flops (2L − 1 matrix-vector products); Hessian-vector product
/// ≈ 11P + 2d² flops at a linearization point (≈ 4L matrix-vector products); `linearize` costs one
/// gradient-like sweep plus a copy of θ; excess risk 2P + 2nd flops. Nothing allocates after `init`.
public final class DeepLinearRisk: ThirdOrderDifferentiableRisk {
    public let network: Network
    public let problem: RegressionProblem
    public let parameterCount: Int

    private let widths: [Int]
    private let depth: Int
    private let n: Int32
    private let d: Int32
    private let offsets: [Int]
    // Constant data, copied once into 64-byte-aligned storage (see `AlignedBuffer`).
    private let buffers: [AlignedBuffer]
    private let sigma: UnsafeMutablePointer<Double>
    private let h: UnsafeMutablePointer<Double>
    private let x: UnsafeMutablePointer<Double>
    private let y: UnsafeMutablePointer<Double>
    private let wStar: UnsafeMutablePointer<Double>
    private let p: UnsafeMutablePointer<Double>
    // Workspaces.
    private let gradientState: ForwardState
    private let linearState: ForwardState
    /// The second tangents β̇_k, γ̇_k of the third derivative, in its `beta` and `gamma` slots.
    private let secondTangents: ForwardState
    /// The blocks' shapes and offsets, and the vectors of their outer products (fixed addresses in the states),
    /// for `gf_outer_product_layers`: ∇_k R = b_k c_kᵀ, (HV)_k = β_k c_kᵀ + b_k γ_kᵀ.
    private let blockRows: [Int32], blockColumns: [Int32]
    private let gradientFactors: (b: [UnsafePointer<Double>?], c: [UnsafePointer<Double>?])
    private let productFactors: (beta: [UnsafePointer<Double>?], c: [UnsafePointer<Double>?], b: [UnsafePointer<Double>?], gamma: [UnsafePointer<Double>?])
    private let linearTheta: UnsafeMutablePointer<Double>
    private let residual: UnsafeMutablePointer<Double>
    private let difference: UnsafeMutablePointer<Double>

    /// - Precondition: the network's input dimension equals the problem's d, and it is a linear network with
    ///   a projection (`isScalarLinear`) on scalar targets.
    public init(network: Network, problem: RegressionProblem) {
        precondition(network.shape.inputDimension == problem.dimension, "network input dimension ≠ data dimension")
        precondition(network.isScalarLinear && problem.outputCount == 1, "DeepLinearRisk needs a scalar-output linear network")
        self.network = network
        self.problem = problem
        let shape = network.shape
        parameterCount = shape.parameterCount
        widths = shape.widths
        depth = shape.depth
        n = Int32(problem.sampleCount)
        d = Int32(problem.dimension)
        offsets = (1...shape.depth).map { shape.offset($0) }
        let buffers = [AlignedBuffer(problem.covariance), AlignedBuffer(problem.crossMoment), AlignedBuffer(problem.inputs),
                       AlignedBuffer(problem.targets), AlignedBuffer(problem.minimumNormSolution), AlignedBuffer(network.projection!),
                       AlignedBuffer(count: parameterCount), AlignedBuffer(count: problem.sampleCount),
                       AlignedBuffer(count: problem.dimension)]
        self.buffers = buffers
        sigma = buffers[0].pointer
        h = buffers[1].pointer
        x = buffers[2].pointer
        y = buffers[3].pointer
        wStar = buffers[4].pointer
        p = buffers[5].pointer
        linearTheta = buffers[6].pointer
        residual = buffers[7].pointer
        difference = buffers[8].pointer
        gradientState = ForwardState(widths: widths)
        linearState = ForwardState(widths: widths)
        secondTangents = ForwardState(widths: widths)
        let layers = 1...shape.depth
        blockRows = layers.map { Int32(shape.widths[$0]) }
        blockColumns = layers.map { Int32(shape.widths[$0 - 1]) }
        let g = gradientState, l = linearState
        gradientFactors = (layers.map { UnsafePointer(g.b($0)) }, layers.map { UnsafePointer(g.c($0)) })
        productFactors = (layers.map { UnsafePointer(l.beta($0)) }, layers.map { UnsafePointer(l.c($0)) },
                          layers.map { UnsafePointer(l.b($0)) }, layers.map { UnsafePointer(l.gamma($0)) })
    }

    @inline(__always) private func m(_ k: Int) -> Int32 { Int32(widths[k]) }

    /// Backward sweep `b_L = p, b_{k−1} = W_kᵀ b_k`: 2P flops.
    private func suffixVectors(_ theta: UnsafePointer<Double>, _ s: ForwardState) {
        cblas_dcopy(m(depth), p, 1, s.b(depth), 1)
        for k in stride(from: depth, through: 1, by: -1) {
            gf_gemv_t(m(k), m(k - 1), 1, theta + offsets[k - 1], s.b(k), 0, s.b(k - 1))
        }
    }

    /// Full forward state: b_0…b_L, g = c_1, c_2…c_L. ≈ 4P + 2d² flops.
    private func forward(_ theta: UnsafePointer<Double>, _ s: ForwardState) {
        suffixVectors(theta, s)
        let g = s.c(1)
        // g = 2Σb_0 − 2h (Σ stored full): GradFlow's product, not OpenBLAS' dsymv, which `--threads 2` would hand to
        // OpenBLAS' own pool, whose thread then polls for ≈ 0.1 s on the core the kernels' worker needs.
        for i in 0..<Int(d) { g[i] = -2 * h[i] }
        gf_gemv_n(d, d, 2, sigma, s.b(0), 1, g)
        for k in 1..<depth {
            gf_gemv_n(m(k), m(k - 1), 1, theta + offsets[k - 1], s.c(k), 0, s.c(k + 1))
        }
    }

    /// ‖X(w − w*)‖²/n for w = b_0 of the given state: 2nd flops.
    private func excess(_ s: ForwardState) -> Double {
        cblas_dcopy(d, s.b(0), 1, difference, 1)
        cblas_daxpy(d, -1, wStar, 1, difference, 1)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, n, d, 1, x, d, difference, 1, 0, residual, 1)
        return cblas_ddot(n, residual, 1, residual, 1) / Double(n)
    }

    public func gradient(at theta: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double) {
        precondition(theta.count == parameterCount && out.count == parameterCount)
        let t = theta.baseAddress!, o = out.baseAddress!
        forward(t, gradientState)
        // G_k = b_k c_kᵀ, overwriting the blocks (streaming loops: faster than dgemm with k = 1), all layers as one
        // job that two kernel threads split (`--threads 2`, P ≥ 2^18).
        gf_outer_product_layers(Int32(depth), blockRows, blockColumns, offsets, scale, gradientFactors.b, gradientFactors.c, nil, nil, o)
    }

    /// The gradient's blocks are the outer products b_k c_kᵀ: they are finite when every b_k and c_k is,
    /// checked through their squared norms (Σ_k (m_k + m_{k−1}) flops). A plain loop: it runs after every
    /// right-hand side, and 2L BLAS calls cost more than the sums themselves at the paper's widths.
    public var lastGradientIsFinite: Bool {
        var sum = 0.0
        for k in 1...depth {
            let b = gradientState.b(k), c = gradientState.c(k)
            for i in 0..<widths[k] { sum += b[i] * b[i] }
            for i in 0..<widths[k - 1] { sum += c[i] * c[i] }
        }
        return sum.isFinite
    }

    public func linearize(at theta: UnsafeBufferPointer<Double>) {
        precondition(theta.count == parameterCount)
        linearTheta.update(from: theta.baseAddress!, count: parameterCount)
        forward(linearTheta, linearState)
    }

    public func hessianVectorProduct(_ v: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double) {
        precondition(v.count == parameterCount && out.count == parameterCount)
        let o = out.baseAddress!
        // β_L = 0, β_{k−1} = V_kᵀ b_k + W_kᵀ β_k; γ_1 = δg = 2Σδw, γ_{k+1} = V_k c_k + W_k γ_k.
        tangentSweeps(along: v.baseAddress!, coefficient: 1, of: linearState, firstOrder: true, into: linearState)
        // (HV)_k = β_k c_kᵀ + b_k γ_kᵀ, one rank-2 pass that overwrites each block, all layers as one job.
        gf_outer_product_layers(Int32(depth), blockRows, blockColumns, offsets, scale, productFactors.beta, productFactors.c,
                                productFactors.b, productFactors.gamma, o)
    }

    /// `scale · ∇³R(θ)[u, u, ·]` (MATH.md §11) by forward mode on §2.1 with V = U: the tangents of b_k and
    /// c_k along u are the β_k and γ_k of the product H u, so their second tangents are
    /// `β̇_L = 0, β̇_{k−1} = W_kᵀβ̇_k + 2U_kᵀβ_k`, `γ̇_1 = 2Σβ̇_0, γ̇_{k+1} = W_kγ̇_k + 2U_kγ_k`, and
    /// `(∇³R[u,u])_k = β̇_k c_kᵀ + 2β_kγ_kᵀ + b_kγ̇_kᵀ`. Cost ≈ 2 Hessian-vector products (≈ 22P + 4d² flops).
    public func thirdDerivative(along u: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double) {
        precondition(u.count == parameterCount && out.count == parameterCount)
        hessianVectorProduct(u, into: out, scale: 1)  // β_k, γ_k along u, in linearState
        let o = out.baseAddress!, s = linearState, t = secondTangents
        tangentSweeps(along: u.baseAddress!, coefficient: 2, of: s, firstOrder: false, into: t)
        for k in 1...depth {
            let block = o + offsets[k - 1]
            gf_outer_product2(m(k), m(k - 1), scale, t.beta(k), s.c(k), s.b(k), t.gamma(k), block)
            cblas_dger(CblasRowMajor, m(k), m(k - 1), 2 * scale, s.beta(k), 1, s.gamma(k), 1, block, m(k - 1))
        }
    }

    /// The tangent sweeps of §2.1 along the direction `v`, into `t`: `t.β_L = 0`,
    /// `t.β_{k−1} = a·V_kᵀx_k + W_kᵀ t.β_k`, then `t.γ_1 = 2Σ t.β_0`, `t.γ_{k+1} = a·V_k y_k + W_k t.γ_k`, where
    /// (x_k, y_k) are `s`'s (b_k, c_k) when `firstOrder` (the Hessian-vector product, a = 1) and its (β_k, γ_k)
    /// otherwise (the third derivative's second tangents, a = 2). Cost: 4 products per layer (≈ 4P flops) + 2d².
    private func tangentSweeps(along v: UnsafePointer<Double>, coefficient a: Double, of s: ForwardState, firstOrder: Bool,
                               into t: ForwardState) {
        let w = UnsafePointer(linearTheta)
        t.beta(depth).update(repeating: 0, count: widths[depth])
        for k in stride(from: depth, through: 1, by: -1) {
            gf_gemv_t(m(k), m(k - 1), a, v + offsets[k - 1], firstOrder ? s.b(k) : s.beta(k), 0, t.beta(k - 1))
            if k < depth {
                gf_gemv_t(m(k), m(k - 1), 1, w + offsets[k - 1], t.beta(k), 1, t.beta(k - 1))
            }
        }
        gf_gemv_n(d, d, 2, sigma, t.beta(0), 0, t.gamma(1))
        for k in 1..<depth {
            gf_gemv_n(m(k), m(k - 1), a, v + offsets[k - 1], firstOrder ? s.c(k) : s.gamma(k), 0, t.gamma(k + 1))
            gf_gemv_n(m(k), m(k - 1), 1, w + offsets[k - 1], t.gamma(k), 1, t.gamma(k + 1))
        }
    }

    public func excessRisk(at theta: UnsafeBufferPointer<Double>) -> Double {
        precondition(theta.count == parameterCount)
        suffixVectors(theta.baseAddress!, gradientState)
        return excess(gradientState)
    }

    public func evaluate(at theta: UnsafeBufferPointer<Double>) -> RiskEvaluation {
        precondition(theta.count == parameterCount)
        let s = gradientState
        forward(theta.baseAddress!, s)
        var gradNormSq = 0.0
        for k in 1...depth {
            gradNormSq += cblas_ddot(m(k), s.b(k), 1, s.b(k), 1) * cblas_ddot(m(k - 1), s.c(k), 1, s.c(k), 1)
        }
        let excessRisk = excess(s)
        cblas_dcopy(n, y, 1, residual, 1)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, n, d, -1, x, d, s.b(0), 1, 1, residual, 1)
        let loss = cblas_ddot(n, residual, 1, residual, 1) / Double(n)
        return RiskEvaluation(loss: loss, excessRisk: excessRisk, gradientNormSquared: gradNormSq)
    }

    /// R − R_min at the point of the last `gradient(at:into:scale:)` call, from its cached end-to-end
    /// vector: 2nd flops, no extra sweep over the weights.
    public func excessRiskOfLastGradient() -> Double { excess(gradientState) }

    /// Adds one gradient-descent step's exact change of the Lemma 1 matrices (MATH.md §5),
    /// `η² (G_kG_kᵀ − G_{k+1}ᵀG_{k+1}) = η² (‖c_k‖² b_k b_kᵀ − ‖b_{k+1}‖² c_{k+1}c_{k+1}ᵀ)` for k = 1…L−1,
    /// at the point of the last `gradient` call, into `accumulator` (Σ_{k=1}^{L−1} m_k² doubles): consecutive m_k×m_k row-major blocks,
    /// upper triangles only. Cost ≈ 2Σ_k m_k² flops (two symmetric rank-one updates per k).
    public func accumulateDescentDrift(into accumulator: UnsafeMutablePointer<Double>, learningRateSquared eta2: Double) {
        guard depth >= 2 else { return }
        let s = gradientState
        var offset = 0
        for k in 1..<depth {
            let width = m(k)
            let cNorm = cblas_ddot(m(k - 1), s.c(k), 1, s.c(k), 1)
            let bNorm = cblas_ddot(m(k + 1), s.b(k + 1), 1, s.b(k + 1), 1)
            cblas_dsyr(CblasRowMajor, CblasUpper, width, eta2 * cNorm, s.b(k), 1, accumulator + offset, width)
            cblas_dsyr(CblasRowMajor, CblasUpper, width, -eta2 * bNorm, s.c(k + 1), 1, accumulator + offset, width)
            offset += widths[k] * widths[k]
        }
    }

    public func makeGaussNewtonPreconditioner() -> (any NewtonPreconditioner)? {
        GaussNewtonPreconditioner(shape: network.shape, covariance: problem.covariance, projection: network.projection!)
    }

    /// The end-to-end vector `w = W_1ᵀ⋯W_Lᵀ p` (allocates the result).
    public func endToEnd(_ theta: [Double]) -> [Double] {
        precondition(theta.count == parameterCount)
        theta.withUnsafeBufferPointer { suffixVectors($0.baseAddress!, gradientState) }
        return Array(UnsafeBufferPointer(start: gradientState.b(0), count: Int(d)))
    }

    public func endToEndMap(_ theta: [Double]) -> [Double]? { endToEnd(theta) }

    /// `X' w` for the inputs X' (count×d): 2·count·d flops.
    public func predictions(at theta: [Double], inputs: [Double], count: Int) -> [Double] {
        precondition(inputs.count == count * Int(d))
        let w = endToEnd(theta)
        var out = [Double](repeating: 0, count: count)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(count), d, 1, inputs, d, w, 1, 0, &out, 1)
        return out
    }
}

/// The vectors of one forward/backward sweep, in pairs that BLAS can use as 2-row matrices:
/// `[β_k; b_k]` (2·m_k doubles, k = 0…L) and `[c_k; γ_k]` (2·m_{k−1} doubles, k = 1…L), where β and γ
/// are the tangents of b and c along a direction (MATH.md §2.1). One allocation.
final class ForwardState {
    private let buffer: AlignedBuffer
    private let storage: UnsafeMutablePointer<Double>
    private let bOffsets: [Int]
    private let cOffsets: [Int]
    private let widths: [Int]

    init(widths: [Int]) {
        self.widths = widths
        let depth = widths.count - 1
        var offset = 0
        var bOffsets: [Int] = []
        for k in 0...depth { bOffsets.append(offset); offset += 2 * widths[k] }
        var cOffsets = [0]  // index 0 unused: c is 1-based
        for k in 1...depth { cOffsets.append(offset); offset += 2 * widths[k - 1] }
        self.bOffsets = bOffsets
        self.cOffsets = cOffsets
        buffer = AlignedBuffer(count: offset)
        storage = buffer.pointer
    }

    @inline(__always) func beta(_ k: Int) -> UnsafeMutablePointer<Double> { storage + bOffsets[k] }
    @inline(__always) func b(_ k: Int) -> UnsafeMutablePointer<Double> { storage + bOffsets[k] + widths[k] }
    @inline(__always) func c(_ k: Int) -> UnsafeMutablePointer<Double> { storage + cOffsets[k] }
    @inline(__always) func gamma(_ k: Int) -> UnsafeMutablePointer<Double> { storage + cOffsets[k] + widths[k - 1] }
}
