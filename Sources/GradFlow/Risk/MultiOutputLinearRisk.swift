import COpenBLAS

/// The risk `R(W) = (1/n)‖Y − X Mᵀ‖_F²` of a deep linear network with q outputs and no projection,
/// `M = W_L⋯W_1 ∈ ℝ^{q×d}` (MATH.md §6.1, the paper's Theorem 5), its gradient and its exact
/// Hessian-vector product, all with BLAS level-3 products on the stacked weights (`NetworkShape` layout,
/// `CblasRowMajor`).
///
/// Notation of MATH.md §6.1: `B_L = I_q`, `B_{k−1} = B_k W_k` (q×m_{k−1}, `B_0 = M`), the function-space
/// gradient `G_M = 2(MΣ − H_xyᵀ)`, `F_1 = G_M`, `F_{k+1} = F_k W_kᵀ` (q×m_k), and `∇_{W_k}R = B_kᵀF_k`.
/// The Hessian-vector product along V propagates the tangents `δB_{k−1} = δB_k W_k + B_k V_k`,
/// `δG = 2 δM Σ`, `δF_{k+1} = δF_k W_kᵀ + F_k V_kᵀ`, and returns `(HV)_k = δB_kᵀF_k + B_kᵀδF_k`.
///
/// Costs: gradient ≈ 6qP + 2qd² flops (3L matrix products), Hessian-vector product ≈ 12qP + 2qd²
/// at a linearization point; ‖∇R‖² from q×q Gram matrices, `⟨B_kB_kᵀ, F_kF_kᵀ⟩`, ≈ 2q²Σm_k flops.
/// Nothing allocates after `init`. With q = 1 it computes what `DeepLinearRisk` computes with p = [1].
public final class MultiOutputLinearRisk: ThirdOrderDifferentiableRisk {
    public let network: Network
    public let problem: RegressionProblem
    public let parameterCount: Int

    private let widths: [Int]
    private let depth: Int
    private let n: Int32, d: Int32, q: Int32
    private let offsets: [Int]
    private let buffers: [AlignedBuffer]
    private let sigma: UnsafeMutablePointer<Double>
    private let hT: UnsafeMutablePointer<Double>      // H_xyᵀ, q×d
    private let x: UnsafeMutablePointer<Double>
    private let y: UnsafeMutablePointer<Double>       // n×q
    private let mStar: UnsafeMutablePointer<Double>   // q×d
    private let linearTheta: UnsafeMutablePointer<Double>
    private let residual: UnsafeMutablePointer<Double>  // n×q
    private let difference: UnsafeMutablePointer<Double>  // q×d
    private let gramB: UnsafeMutablePointer<Double>, gramF: UnsafeMutablePointer<Double>  // q×q
    private let gradientState: MatrixChainState
    private let linearState: MatrixChainState
    /// The second tangents ΔB_k, ΔF_k of the third derivative, in its `b` and `f` slots.
    private let secondTangents: MatrixChainState

    /// - Precondition: a linear network without projection whose input dimension is the problem's d and
    ///   whose output width m_L is the problem's q.
    public init(network: Network, problem: RegressionProblem) {
        precondition(network.model == .linear && network.projection == nil, "MultiOutputLinearRisk needs a linear network without projection")
        precondition(network.shape.inputDimension == problem.dimension, "network input dimension ≠ data dimension")
        precondition(network.shape.outputWidth == problem.outputCount, "network output width ≠ number of targets")
        self.network = network
        self.problem = problem
        let shape = network.shape
        parameterCount = shape.parameterCount
        widths = shape.widths
        depth = shape.depth
        n = Int32(problem.sampleCount)
        d = Int32(problem.dimension)
        q = Int32(problem.outputCount)
        offsets = (1...shape.depth).map { shape.offset($0) }
        let qq = problem.outputCount
        buffers = [AlignedBuffer(problem.covariance), AlignedBuffer(problem.crossMoment), AlignedBuffer(problem.inputs),
                   AlignedBuffer(problem.targets), AlignedBuffer(problem.minimumNormSolution), AlignedBuffer(count: parameterCount),
                   AlignedBuffer(count: problem.sampleCount * qq), AlignedBuffer(count: qq * problem.dimension),
                   AlignedBuffer(count: qq * qq), AlignedBuffer(count: qq * qq)]
        sigma = buffers[0].pointer
        hT = buffers[1].pointer
        x = buffers[2].pointer
        y = buffers[3].pointer
        mStar = buffers[4].pointer
        linearTheta = buffers[5].pointer
        residual = buffers[6].pointer
        difference = buffers[7].pointer
        gramB = buffers[8].pointer
        gramF = buffers[9].pointer
        gradientState = MatrixChainState(widths: widths, rows: qq)
        linearState = MatrixChainState(widths: widths, rows: qq)
        secondTangents = MatrixChainState(widths: widths, rows: qq)
    }

    @inline(__always) private func m(_ k: Int) -> Int32 { Int32(widths[k]) }

    /// `C (q×cols) = α A (q×inner) · op(W) + β C`, W the row-major block of layer k (m_k×m_{k−1}).
    @inline(__always)
    private func times(_ a: UnsafePointer<Double>, _ w: UnsafePointer<Double>, transposed: Bool, k: Int,
                       alpha: Double = 1, beta: Double, into c: UnsafeMutablePointer<Double>) {
        let rows = m(k), cols = m(k - 1)
        if transposed {  // A (q×m_{k−1}) · W_kᵀ → q×m_k
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, q, rows, cols, alpha, a, cols, w, cols, beta, c, rows)
        } else {         // A (q×m_k) · W_k → q×m_{k−1}
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, q, cols, rows, alpha, a, rows, w, cols, beta, c, cols)
        }
    }

    /// B_L = I_q, B_{k−1} = B_k W_k: 2qP flops.
    private func suffixMatrices(_ theta: UnsafePointer<Double>, _ s: MatrixChainState) {
        let b = s.b(depth)
        b.update(repeating: 0, count: Int(q * q))
        for i in 0..<Int(q) { b[i * Int(q) + i] = 1 }
        for k in stride(from: depth, through: 1, by: -1) {
            times(s.b(k), theta + offsets[k - 1], transposed: false, k: k, beta: 0, into: s.b(k - 1))
        }
    }

    /// B_0…B_L, F_1 = G_M = 2(MΣ − H_xyᵀ), F_2…F_L.
    private func forward(_ theta: UnsafePointer<Double>, _ s: MatrixChainState) {
        suffixMatrices(theta, s)
        let f1 = s.f(1)
        f1.update(from: hT, count: Int(q * d))
        cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, q, d, 2, sigma, d, s.b(0), d, -2, f1, d)
        for k in 1..<depth {
            times(s.f(k), theta + offsets[k - 1], transposed: true, k: k, beta: 0, into: s.f(k + 1))
        }
    }

    /// ‖X(M − M*)ᵀ‖_F²/n for M = B_0 of the state: 2nqd flops.
    private func excess(_ s: MatrixChainState) -> Double {
        let count = Int(q * d)
        difference.update(from: s.b(0), count: count)
        cblas_daxpy(Int32(count), -1, mStar, 1, difference, 1)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, q, d, 1, x, d, difference, d, 0, residual, q)
        return cblas_ddot(n * q, residual, 1, residual, 1) / Double(n)
    }

    public func gradient(at theta: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double) {
        precondition(theta.count == parameterCount && out.count == parameterCount)
        let t = theta.baseAddress!, o = out.baseAddress!, s = gradientState
        forward(t, s)
        for k in 1...depth {  // ∇_k = B_kᵀ F_k (m_k×m_{k−1})
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m(k), m(k - 1), q, scale, s.b(k), m(k), s.f(k), m(k - 1),
                        0, o + offsets[k - 1], m(k - 1))
        }
    }

    public var lastGradientIsFinite: Bool {
        var sum = 0.0
        for k in 1...depth {
            sum += cblas_ddot(q * m(k), gradientState.b(k), 1, gradientState.b(k), 1)
            sum += cblas_ddot(q * m(k - 1), gradientState.f(k), 1, gradientState.f(k), 1)
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
        let vv = v.baseAddress!, o = out.baseAddress!, w = UnsafePointer(linearTheta), s = linearState
        // δB_L = 0; δB_{k−1} = δB_k W_k + B_k V_k.
        s.deltaB(depth).update(repeating: 0, count: Int(q) * widths[depth])
        for k in stride(from: depth, through: 1, by: -1) {
            times(s.b(k), vv + offsets[k - 1], transposed: false, k: k, beta: 0, into: s.deltaB(k - 1))
            if k < depth { times(s.deltaB(k), w + offsets[k - 1], transposed: false, k: k, beta: 1, into: s.deltaB(k - 1)) }
        }
        // δF_1 = δG = 2 δM Σ; δF_{k+1} = δF_k W_kᵀ + F_k V_kᵀ.
        cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, q, d, 2, sigma, d, s.deltaB(0), d, 0, s.deltaF(1), d)
        for k in 1..<depth {
            times(s.f(k), vv + offsets[k - 1], transposed: true, k: k, beta: 0, into: s.deltaF(k + 1))
            times(s.deltaF(k), w + offsets[k - 1], transposed: true, k: k, beta: 1, into: s.deltaF(k + 1))
        }
        // (HV)_k = δB_kᵀ F_k + B_kᵀ δF_k.
        for k in 1...depth {
            let block = o + offsets[k - 1]
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m(k), m(k - 1), q, scale, s.deltaB(k), m(k), s.f(k), m(k - 1),
                        0, block, m(k - 1))
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m(k), m(k - 1), q, scale, s.b(k), m(k), s.deltaF(k), m(k - 1),
                        1, block, m(k - 1))
        }
    }

    /// `scale · ∇³R(θ)[u, u, ·]` (MATH.md §11) by forward mode on the product H u with V = U (the tangents of
    /// B_k and F_k along u are δB_k and δF_k): `ΔB_L = 0, ΔB_{k−1} = ΔB_k W_k + 2δB_k U_k`,
    /// `ΔF_1 = 2ΔB_0Σ, ΔF_{k+1} = ΔF_k W_kᵀ + 2δF_k U_kᵀ`, and
    /// `(∇³R[u,u])_k = ΔB_kᵀF_k + 2δB_kᵀδF_k + B_kᵀΔF_k`. Cost ≈ 2 Hessian-vector products (≈ 26qP flops).
    public func thirdDerivative(along u: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double) {
        precondition(u.count == parameterCount && out.count == parameterCount)
        hessianVectorProduct(u, into: out, scale: 1)  // δB_k, δF_k along u, in linearState
        let uu = u.baseAddress!, o = out.baseAddress!, w = UnsafePointer(linearTheta), s = linearState, t = secondTangents
        t.b(depth).update(repeating: 0, count: Int(q) * widths[depth])
        for k in stride(from: depth, through: 1, by: -1) {
            times(s.deltaB(k), uu + offsets[k - 1], transposed: false, k: k, alpha: 2, beta: 0, into: t.b(k - 1))
            if k < depth { times(t.b(k), w + offsets[k - 1], transposed: false, k: k, beta: 1, into: t.b(k - 1)) }
        }
        cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, q, d, 2, sigma, d, t.b(0), d, 0, t.f(1), d)
        for k in 1..<depth {
            times(s.deltaF(k), uu + offsets[k - 1], transposed: true, k: k, alpha: 2, beta: 0, into: t.f(k + 1))
            times(t.f(k), w + offsets[k - 1], transposed: true, k: k, beta: 1, into: t.f(k + 1))
        }
        for k in 1...depth {
            let block = o + offsets[k - 1]
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m(k), m(k - 1), q, scale, t.b(k), m(k), s.f(k), m(k - 1),
                        0, block, m(k - 1))
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m(k), m(k - 1), q, 2 * scale, s.deltaB(k), m(k), s.deltaF(k), m(k - 1),
                        1, block, m(k - 1))
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m(k), m(k - 1), q, scale, s.b(k), m(k), t.f(k), m(k - 1),
                        1, block, m(k - 1))
        }
    }

    public func excessRisk(at theta: UnsafeBufferPointer<Double>) -> Double {
        precondition(theta.count == parameterCount)
        suffixMatrices(theta.baseAddress!, gradientState)
        return excess(gradientState)
    }

    public func excessRiskOfLastGradient() -> Double { excess(gradientState) }

    public func evaluate(at theta: UnsafeBufferPointer<Double>) -> RiskEvaluation {
        precondition(theta.count == parameterCount)
        let s = gradientState
        forward(theta.baseAddress!, s)
        // ‖B_kᵀF_k‖_F² = ⟨B_kB_kᵀ, F_kF_kᵀ⟩_F, with q×q Gram matrices (upper triangles).
        var gradNormSq = 0.0
        let qq = Int(q)
        for k in 1...depth {
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, q, m(k), 1, s.b(k), m(k), 0, gramB, q)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, q, m(k - 1), 1, s.f(k), m(k - 1), 0, gramF, q)
            for i in 0..<qq {
                gradNormSq += gramB[i * qq + i] * gramF[i * qq + i]
                for j in (i + 1)..<qq { gradNormSq += 2 * gramB[i * qq + j] * gramF[i * qq + j] }
            }
        }
        let excessRisk = excess(s)
        residual.update(from: y, count: Int(n * q))
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, q, d, -1, x, d, s.b(0), d, 1, residual, q)
        let loss = cblas_ddot(n * q, residual, 1, residual, 1) / Double(n)
        return RiskEvaluation(loss: loss, excessRisk: excessRisk, gradientNormSquared: gradNormSq)
    }

    /// `(I + γH_GN)⁻¹` by the Woodbury identity on the rank-≤ qd Gauss–Newton part, for qd ≤
    /// `MultiOutputGaussNewtonPreconditioner.maximumSystemSize`; nil otherwise.
    public func makeGaussNewtonPreconditioner() -> (any NewtonPreconditioner)? {
        guard Int(q * d) <= MultiOutputGaussNewtonPreconditioner.maximumSystemSize else { return nil }
        return MultiOutputGaussNewtonPreconditioner(shape: network.shape, covariance: problem.covariance)
    }

    /// `M = W_L⋯W_1`, q×d row-major.
    public func endToEndMap(_ theta: [Double]) -> [Double]? {
        precondition(theta.count == parameterCount)
        theta.withUnsafeBufferPointer { suffixMatrices($0.baseAddress!, gradientState) }
        return Array(UnsafeBufferPointer(start: gradientState.b(0), count: Int(q * d)))
    }

    /// `X' Mᵀ` for the inputs X' (count×d): count×q.
    public func predictions(at theta: [Double], inputs: [Double], count: Int) -> [Double] {
        precondition(inputs.count == count * Int(d))
        let map = endToEndMap(theta)!
        var out = [Double](repeating: 0, count: count * Int(q))
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), q, d, 1, inputs, d, map, d, 0, &out, q)
        return out
    }
}

/// The matrices of one sweep of `MultiOutputLinearRisk`, each q rows: `B_k` and its tangent `δB_k`
/// (q×m_k, k = 0…L), `F_k` and `δF_k` (q×m_{k−1}, k = 1…L). One allocation.
final class MatrixChainState {
    private let buffer: AlignedBuffer
    private let storage: UnsafeMutablePointer<Double>
    private let bOffsets: [Int]
    private let fOffsets: [Int]
    private let sizesB: [Int]
    private let sizesF: [Int]

    init(widths: [Int], rows q: Int) {
        let depth = widths.count - 1
        var offset = 0
        var bOffsets: [Int] = [], sizesB: [Int] = []
        for k in 0...depth { bOffsets.append(offset); sizesB.append(q * widths[k]); offset += 2 * q * widths[k] }
        var fOffsets = [0], sizesF = [0]  // index 0 unused: F is 1-based
        for k in 1...depth { fOffsets.append(offset); sizesF.append(q * widths[k - 1]); offset += 2 * q * widths[k - 1] }
        self.bOffsets = bOffsets
        self.fOffsets = fOffsets
        self.sizesB = sizesB
        self.sizesF = sizesF
        buffer = AlignedBuffer(count: offset)
        storage = buffer.pointer
    }

    @inline(__always) func b(_ k: Int) -> UnsafeMutablePointer<Double> { storage + bOffsets[k] }
    @inline(__always) func deltaB(_ k: Int) -> UnsafeMutablePointer<Double> { storage + bOffsets[k] + sizesB[k] }
    @inline(__always) func f(_ k: Int) -> UnsafeMutablePointer<Double> { storage + fOffsets[k] }
    @inline(__always) func deltaF(_ k: Int) -> UnsafeMutablePointer<Double> { storage + fOffsets[k] + sizesF[k] }
}
