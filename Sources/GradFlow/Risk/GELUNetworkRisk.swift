import COpenBLAS
import CVectorKernels

/// The risk `R = (1/n)Σ_i ‖f(x_i) − y_i‖²` of the GELU perceptron of the paper's App. C (MATH.md §6.3),
/// its gradient and its exact Hessian-vector product, batched over the n samples with BLAS `dgemm`.
///
/// The network: `H_0 = Xᵀ` (d×n), `Z_k = W_k H_{k−1}` (m_k×n), `H_k = σ(Z_k)` for k < L with the tanh-form
/// GELU σ (`jax.nn.gelu`'s default), output `Z_L` (q×n, q = m_L); no biases, no projection.
///
/// Gradient: `Δ_L = (2/n)(Z_L − Yᵀ)`, and for k = L…1 `∇_k = Δ_k H_{k−1}ᵀ`, `Γ_{k−1} = W_kᵀΔ_k`,
/// `Δ_{k−1} = Γ_{k−1} ⊙ σ'(Z_{k−1})`. Hessian-vector product along V: the forward tangent
/// `Ż_k = V_k H_{k−1} + W_k Ḣ_{k−1}`, `Ḣ_k = σ'(Z_k) ⊙ Ż_k`, then backward `Δ̇_L = (2/n)Ż_L`,
/// `(HV)_k = Δ̇_k H_{k−1}ᵀ + Δ_k Ḣ_{k−1}ᵀ`, `Γ̇_{k−1} = V_kᵀΔ_k + W_kᵀΔ̇_k`,
/// `Δ̇_{k−1} = Γ̇_{k−1} ⊙ σ'(Z_{k−1}) + Γ_{k−1} ⊙ σ''(Z_{k−1}) ⊙ Ż_{k−1}`.
///
/// There is no R_min for this model: `excessRisk` is R itself. Costs: gradient ≈ 6Pn flops plus
/// `Σ_{k<L} m_k n` activations; Hessian-vector product ≈ 12Pn at a linearization point (whose forward
/// sweep also evaluates σ''). Memory: the cached `Z_k, H_k, σ'(Z_k), σ''(Z_k), Δ_k, Γ_k` and their tangents,
/// O(n Σ_k m_k) per state, two states. Nothing allocates after `init` except `predictions`.
public final class GELUNetworkRisk: ThirdOrderDifferentiableRisk {
    public let network: Network
    public let problem: RegressionProblem
    public let parameterCount: Int

    private let widths: [Int]
    private let depth: Int
    private let n: Int32
    private let q: Int32
    private let offsets: [Int]
    private let buffers: [AlignedBuffer]
    private let inputsT: UnsafeMutablePointer<Double>   // H_0 = Xᵀ, d×n
    private let targetsT: UnsafeMutablePointer<Double>  // Yᵀ, q×n
    private let linearTheta: UnsafeMutablePointer<Double>
    private let gradientScratch: UnsafeMutablePointer<Double>
    private let gradientState: GELUSweepState
    private let linearState: GELUSweepState

    /// - Precondition: a GELU network whose input dimension is the problem's d and whose output width is q.
    public init(network: Network, problem: RegressionProblem) {
        precondition(network.model == .gelu, "GELUNetworkRisk needs a GELU network")
        precondition(network.shape.inputDimension == problem.dimension, "network input dimension ≠ data dimension")
        precondition(network.shape.outputWidth == problem.outputCount, "network output width ≠ number of targets")
        self.network = network
        self.problem = problem
        let shape = network.shape
        parameterCount = shape.parameterCount
        widths = shape.widths
        depth = shape.depth
        n = Int32(problem.sampleCount)
        q = Int32(problem.outputCount)
        offsets = (1...shape.depth).map { shape.offset($0) }
        let samples = problem.sampleCount, dd = problem.dimension, qq = problem.outputCount
        var xT = [Double](repeating: 0, count: dd * samples)
        for i in 0..<samples { for j in 0..<dd { xT[j * samples + i] = problem.inputs[i * dd + j] } }
        var yT = [Double](repeating: 0, count: qq * samples)
        for i in 0..<samples { for j in 0..<qq { yT[j * samples + i] = problem.targets[i * qq + j] } }
        buffers = [AlignedBuffer(xT), AlignedBuffer(yT), AlignedBuffer(count: parameterCount), AlignedBuffer(count: parameterCount)]
        inputsT = buffers[0].pointer
        targetsT = buffers[1].pointer
        linearTheta = buffers[2].pointer
        gradientScratch = buffers[3].pointer
        gradientState = GELUSweepState(widths: widths, samples: samples, inputs: inputsT)
        linearState = GELUSweepState(widths: widths, samples: samples, inputs: inputsT)
    }

    @inline(__always) private func m(_ k: Int) -> Int32 { Int32(widths[k]) }

    /// `C (m_k×n) = W_k · B (m_{k−1}×n) + β C`, W_k the row-major block of layer k.
    @inline(__always)
    private func apply(_ w: UnsafePointer<Double>, k: Int, to b: UnsafePointer<Double>, beta: Double, into c: UnsafeMutablePointer<Double>) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m(k), n, m(k - 1), 1, w, m(k - 1), b, n, beta, c, n)
    }

    /// `C (m_{k−1}×n) = W_kᵀ · B (m_k×n) + β C`.
    @inline(__always)
    private func applyTransposed(_ w: UnsafePointer<Double>, k: Int, to b: UnsafePointer<Double>, beta: Double, into c: UnsafeMutablePointer<Double>) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m(k - 1), n, m(k), 1, w, m(k - 1), b, n, beta, c, n)
    }

    /// The forward sweep (`Z_k`, `H_k`, σ', and σ'' when `curvature`), the residual `Z_L − Yᵀ`, and,
    /// when `backward`, `Δ_k` and `Γ_k`.
    private func sweep(_ theta: UnsafePointer<Double>, _ s: GELUSweepState, curvature: Bool, backward: Bool) {
        for k in 1...depth {
            apply(theta + offsets[k - 1], k: k, to: s.h(k - 1), beta: 0, into: s.z(k))
            if k < depth { gf_gelu(m(k) * n, s.z(k), s.h(k), s.slope(k), curvature ? s.curvature(k) : nil) }
        }
        let count = q * n
        s.residual.update(from: s.z(depth), count: Int(count))
        cblas_daxpy(count, -1, targetsT, 1, s.residual, 1)
        guard backward else { return }
        s.delta(depth).update(repeating: 0, count: Int(count))
        cblas_daxpy(count, 2 / Double(n), s.residual, 1, s.delta(depth), 1)
        for k in stride(from: depth, through: 2, by: -1) {
            applyTransposed(theta + offsets[k - 1], k: k, to: s.delta(k), beta: 0, into: s.gamma(k - 1))
            gf_hadamard(m(k - 1) * n, s.gamma(k - 1), s.slope(k - 1), s.delta(k - 1))
        }
    }

    private func loss(_ s: GELUSweepState) -> Double {
        cblas_ddot(q * n, s.residual, 1, s.residual, 1) / Double(n)
    }

    /// ∇_k = Δ_k H_{k−1}ᵀ, times `scale`, into the blocks of `out`.
    private func writeGradient(_ s: GELUSweepState, into out: UnsafeMutablePointer<Double>, scale: Double) {
        for k in 1...depth {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m(k), m(k - 1), n, scale, s.delta(k), n, s.h(k - 1), n,
                        0, out + offsets[k - 1], m(k - 1))
        }
    }

    public func gradient(at theta: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double) {
        precondition(theta.count == parameterCount && out.count == parameterCount)
        sweep(theta.baseAddress!, gradientState, curvature: false, backward: true)
        writeGradient(gradientState, into: out.baseAddress!, scale: scale)
    }

    public var lastGradientIsFinite: Bool {
        var sum = cblas_ddot(q * n, gradientState.residual, 1, gradientState.residual, 1)
        for k in 1...depth { sum += cblas_ddot(m(k - 1) * n, gradientState.h(k - 1), 1, gradientState.h(k - 1), 1) }
        for k in 1...depth { sum += cblas_ddot(m(k) * n, gradientState.delta(k), 1, gradientState.delta(k), 1) }
        return sum.isFinite
    }

    public func linearize(at theta: UnsafeBufferPointer<Double>) {
        precondition(theta.count == parameterCount)
        linearTheta.update(from: theta.baseAddress!, count: parameterCount)
        sweep(linearTheta, linearState, curvature: true, backward: true)
    }

    public func hessianVectorProduct(_ v: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double) {
        precondition(v.count == parameterCount && out.count == parameterCount)
        let vv = v.baseAddress!, o = out.baseAddress!, w = UnsafePointer(linearTheta), s = linearState
        // Forward tangent: Ż_k = V_k H_{k−1} + W_k Ḣ_{k−1} (Ḣ_0 = 0), Ḣ_k = σ'(Z_k) ⊙ Ż_k.
        for k in 1...depth {
            apply(vv + offsets[k - 1], k: k, to: s.h(k - 1), beta: 0, into: s.zDot(k))
            if k > 1 { apply(w + offsets[k - 1], k: k, to: s.hDot(k - 1), beta: 1, into: s.zDot(k)) }
            if k < depth { gf_hadamard(m(k) * n, s.slope(k), s.zDot(k), s.hDot(k)) }
        }
        // Backward tangent.
        let count = q * n
        s.deltaDot(depth).update(repeating: 0, count: Int(count))
        cblas_daxpy(count, 2 / Double(n), s.zDot(depth), 1, s.deltaDot(depth), 1)
        for k in stride(from: depth, through: 1, by: -1) {
            let block = o + offsets[k - 1]
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m(k), m(k - 1), n, scale, s.deltaDot(k), n, s.h(k - 1), n,
                        0, block, m(k - 1))
            guard k > 1 else { break }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m(k), m(k - 1), n, scale, s.delta(k), n, s.hDot(k - 1), n,
                        1, block, m(k - 1))
            applyTransposed(vv + offsets[k - 1], k: k, to: s.delta(k), beta: 0, into: s.gammaDot(k - 1))
            applyTransposed(w + offsets[k - 1], k: k, to: s.deltaDot(k), beta: 1, into: s.gammaDot(k - 1))
            gf_hadamard_sum(m(k - 1) * n, s.gammaDot(k - 1), s.slope(k - 1), s.gamma(k - 1), s.curvature(k - 1), s.zDot(k - 1),
                            s.deltaDot(k - 1))
        }
    }

    /// `scale · ∇³R(θ)[u, u, ·]` (MATH.md §11) by forward mode on the product H u with V = U (the tangents of
    /// Z, H, Δ, Γ along u are the dotted quantities of H u). Second tangents, forward:
    /// `Z̈_k = 2U_kḢ_{k−1} + W_kḦ_{k−1}` (Ḣ_0 = Ḧ_0 = 0), `Ḧ_k = σ''⊙Ż_k⊙Ż_k + σ'⊙Z̈_k`; backward:
    /// `Δ̈_L = (2/n)Z̈_L`, `Γ̈_{k−1} = 2U_kᵀΔ̇_k + W_kᵀΔ̈_k`,
    /// `Δ̈_{k−1} = Γ̈⊙σ' + 2Γ̇⊙σ''⊙Ż + Γ⊙(σ'''⊙Ż⊙Ż + σ''⊙Z̈)`, and
    /// `(∇³R[u,u])_k = Δ̈_kH_{k−1}ᵀ + 2Δ̇_kḢ_{k−1}ᵀ + Δ_kḦ_{k−1}ᵀ`. Cost ≈ 2 Hessian-vector products plus σ'''
    /// at the Σ_{k<L} m_k n pre-activations.
    public func thirdDerivative(along u: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double) {
        precondition(u.count == parameterCount && out.count == parameterCount)
        hessianVectorProduct(u, into: out, scale: 1)  // the first tangents along u, in linearState
        let uu = u.baseAddress!, o = out.baseAddress!, w = UnsafePointer(linearTheta), s = linearState
        for k in 1...depth {
            let size = m(k) * n
            if k == 1 {
                s.zDDot(1).update(repeating: 0, count: Int(size))
            } else {
                apply(uu + offsets[k - 1], k: k, to: s.hDot(k - 1), beta: 0, into: s.zDDot(k))
                cblas_dscal(size, 2, s.zDDot(k), 1)
                apply(w + offsets[k - 1], k: k, to: s.hDDot(k - 1), beta: 1, into: s.zDDot(k))
            }
            if k < depth {
                gf_gelu_second_tangent(size, s.slope(k), s.curvature(k), s.zDot(k), s.zDDot(k), s.hDDot(k))
                gf_gelu_third(size, s.z(k), s.third(k))
            }
        }
        let count = q * n
        s.deltaDDot(depth).update(repeating: 0, count: Int(count))
        cblas_daxpy(count, 2 / Double(n), s.zDDot(depth), 1, s.deltaDDot(depth), 1)
        for k in stride(from: depth, through: 1, by: -1) {
            let block = o + offsets[k - 1]
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m(k), m(k - 1), n, scale, s.deltaDDot(k), n, s.h(k - 1), n,
                        0, block, m(k - 1))
            guard k > 1 else { break }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m(k), m(k - 1), n, 2 * scale, s.deltaDot(k), n, s.hDot(k - 1), n,
                        1, block, m(k - 1))
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m(k), m(k - 1), n, scale, s.delta(k), n, s.hDDot(k - 1), n,
                        1, block, m(k - 1))
            applyTransposed(uu + offsets[k - 1], k: k, to: s.deltaDot(k), beta: 0, into: s.gammaDDot(k - 1))
            cblas_dscal(m(k - 1) * n, 2, s.gammaDDot(k - 1), 1)
            applyTransposed(w + offsets[k - 1], k: k, to: s.deltaDDot(k), beta: 1, into: s.gammaDDot(k - 1))
            gf_gelu_second_adjoint(m(k - 1) * n, s.gammaDDot(k - 1), s.slope(k - 1), s.gammaDot(k - 1), s.curvature(k - 1), s.zDot(k - 1),
                                   s.gamma(k - 1), s.third(k - 1), s.zDDot(k - 1), s.deltaDDot(k - 1))
        }
    }

    /// R itself (no R_min is known for a nonlinear model).
    public func excessRisk(at theta: UnsafeBufferPointer<Double>) -> Double {
        precondition(theta.count == parameterCount)
        sweep(theta.baseAddress!, gradientState, curvature: false, backward: false)
        return loss(gradientState)
    }

    public func excessRiskOfLastGradient() -> Double { loss(gradientState) }

    public func evaluate(at theta: UnsafeBufferPointer<Double>) -> RiskEvaluation {
        precondition(theta.count == parameterCount)
        sweep(theta.baseAddress!, gradientState, curvature: false, backward: true)
        writeGradient(gradientState, into: gradientScratch, scale: 1)
        let gradNormSq = cblas_ddot(Int32(parameterCount), gradientScratch, 1, gradientScratch, 1)
        let r = loss(gradientState)
        return RiskEvaluation(loss: r, excessRisk: r, gradientNormSquared: gradNormSq)
    }

    /// `(I + γH_GN)⁻¹` by the Woodbury identity on the rank-≤ qn Gauss–Newton part, when N = qn is at most
    /// `GELUGaussNewtonPreconditioner.maximumSystemSize`; nil otherwise.
    public func makeGaussNewtonPreconditioner() -> (any NewtonPreconditioner)? {
        guard Int(q * n) <= GELUGaussNewtonPreconditioner.maximumSystemSize else { return nil }
        return GELUGaussNewtonPreconditioner(shape: network.shape, samples: Int(n), outputs: Int(q), inputsTransposed: inputsT)
    }

    /// The forward pass on other inputs (count×d): count×q. Allocates its own activations.
    public func predictions(at theta: [Double], inputs: [Double], count: Int) -> [Double] {
        let d = widths[0]
        precondition(theta.count == parameterCount && inputs.count == count * d)
        var h = [Double](repeating: 0, count: d * count)  // H_0 = X'ᵀ
        for i in 0..<count { for j in 0..<d { h[j * count + i] = inputs[i * d + j] } }
        for k in 1...depth {
            var z = [Double](repeating: 0, count: widths[k] * count)
            theta.withUnsafeBufferPointer { t in
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m(k), Int32(count), m(k - 1), 1, t.baseAddress! + offsets[k - 1],
                            m(k - 1), h, Int32(count), 0, &z, Int32(count))
            }
            if k < depth { z.withUnsafeMutableBufferPointer { gf_gelu(Int32($0.count), $0.baseAddress, $0.baseAddress, nil, nil) } }
            h = z
        }
        let qq = Int(q)
        var out = [Double](repeating: 0, count: count * qq)
        for i in 0..<count { for j in 0..<qq { out[i * qq + j] = h[j * count + i] } }
        return out
    }
}

/// The cached matrices of one `GELUNetworkRisk` sweep, each with n columns (row-major): `H_0 = Xᵀ`
/// (shared, not owned), and per layer `Z_k`, `H_k`, `σ'(Z_k)`, `σ''(Z_k)`, `Δ_k`, `Γ_k` and the tangents
/// `Ż_k`, `Ḣ_k`, `Δ̇_k`, `Γ̇_k`, the second tangents `Z̈_k`, `Ḧ_k`, `Δ̈_k`, `Γ̈_k` and σ'''(Z_k) of the third
/// derivative (m_k×n), plus the residual `Z_L − Yᵀ`. One allocation.
final class GELUSweepState {
    private static let perLayer = 15
    private let buffer: AlignedBuffer
    private let base: [UnsafeMutablePointer<Double>]  // per layer k (index k), 10 matrices of m_k×n
    private let sizes: [Int]
    private let inputs: UnsafeMutablePointer<Double>
    let residual: UnsafeMutablePointer<Double>

    init(widths: [Int], samples n: Int, inputs: UnsafeMutablePointer<Double>) {
        let depth = widths.count - 1
        let sizes = widths.map { $0 * n }
        let total = sizes[1...].reduce(0, +) * Self.perLayer + sizes[depth]
        buffer = AlignedBuffer(count: total)
        var bases: [UnsafeMutablePointer<Double>] = [buffer.pointer]  // index 0 unused
        var offset = 0
        for k in 1...depth { bases.append(buffer.pointer + offset); offset += sizes[k] * Self.perLayer }
        base = bases
        residual = buffer.pointer + offset
        self.sizes = sizes
        self.inputs = inputs
    }

    @inline(__always) private func slot(_ k: Int, _ i: Int) -> UnsafeMutablePointer<Double> { base[k] + i * sizes[k] }
    @inline(__always) func z(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 0) }
    /// `H_k`; `H_0` is Xᵀ.
    @inline(__always) func h(_ k: Int) -> UnsafeMutablePointer<Double> { k == 0 ? inputs : slot(k, 1) }
    @inline(__always) func slope(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 2) }
    @inline(__always) func curvature(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 3) }
    @inline(__always) func delta(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 4) }
    @inline(__always) func gamma(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 5) }
    @inline(__always) func zDot(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 6) }
    @inline(__always) func hDot(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 7) }
    @inline(__always) func deltaDot(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 8) }
    @inline(__always) func gammaDot(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 9) }
    @inline(__always) func zDDot(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 10) }
    @inline(__always) func hDDot(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 11) }
    @inline(__always) func deltaDDot(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 12) }
    @inline(__always) func gammaDDot(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 13) }
    @inline(__always) func third(_ k: Int) -> UnsafeMutablePointer<Double> { slot(k, 14) }
}
