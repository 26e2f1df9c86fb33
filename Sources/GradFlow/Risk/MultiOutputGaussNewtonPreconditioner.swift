import COpenBLAS

/// The inverse of the Gauss–Newton part of CVODE's Newton matrix for a linear network with q outputs
/// (MATH.md §6.1), `(I + γH_GN)⁻¹` with `H_GN V = J_Mᵀ(2 (J_M V) Σ)`, where `J_M V = Σ_k B_k V_k A_k` (q×d) is
/// the derivative of M = W_L⋯W_1 and `J_Mᵀ Δ = (B_kᵀ Δ A_kᵀ)_k`. By the Woodbury identity:
///
///     (I + γH_GN)⁻¹ r = r − J_Mᵀ S,   vec(S) = (I + 2γ (I_q ⊗ Σ) K)⁻¹ vec(2γ (J_M r) Σ),
///
/// with `K = J_M J_Mᵀ = Σ_k (B_kB_kᵀ) ⊗ (A_kᵀA_k)` (qd×qd, acting on row-major vec(Δ)). With q = 1 this is
/// `GaussNewtonPreconditioner`'s `(I + 2γΣK)`.
///
/// Costs: `linearize` ≈ 2Pd (prefixes A_k) + 2qP (suffixes B_k) + L(qd)² flops (the Kronecker sums);
/// `factor` forms `I + 2γ(I ⊗ Σ)K` (2q²d³ flops) and LU-factors it ((2/3)(qd)³); `solve` ≈ 8qP + 2qd² + 2(qd)²
/// flops, about one Hessian-vector product. Offered for qd ≤ `maximumSystemSize`. Nothing allocates after `init`.
package final class MultiOutputGaussNewtonPreconditioner {
    /// The largest qd for which `MultiOutputLinearRisk` offers this preconditioner.
    package static let maximumSystemSize = 2000

    package let shape: NetworkShape
    private let widths: [Int]
    private let depth: Int
    private let d: Int32, q: Int32, size: Int32  // size = qd
    private let offsets: [Int]
    private let storage: [AlignedBuffer]
    private let sigma, theta, kernel, system, gramP, gramQ, prefix, nextPrefix, u: UnsafeMutablePointer<Double>
    private let chain: MatrixChainState
    private var pivots: [Int32]
    /// The γ of the last `factor`.
    package private(set) var gamma = 0.0
    package private(set) var isLinearized = false

    /// - Parameters: the network's shape (m_L = q) and the covariance Σ (d×d row-major).
    package init(shape: NetworkShape, covariance: [Double]) {
        self.shape = shape
        widths = shape.widths
        depth = shape.depth
        let dd = shape.inputDimension, qq = shape.outputWidth, big = dd * qq
        d = Int32(dd)
        q = Int32(qq)
        size = Int32(big)
        offsets = (1...depth).map { shape.offset($0) }
        let maxWidth = widths.max()!
        storage = [AlignedBuffer(covariance), AlignedBuffer(count: shape.parameterCount), AlignedBuffer(count: big * big),
                   AlignedBuffer(count: big * big), AlignedBuffer(count: qq * qq), AlignedBuffer(count: dd * dd),
                   AlignedBuffer(count: maxWidth * dd), AlignedBuffer(count: maxWidth * dd), AlignedBuffer(count: big)]
        (sigma, theta, kernel, system, gramP) = (storage[0].pointer, storage[1].pointer, storage[2].pointer, storage[3].pointer,
                                                 storage[4].pointer)
        (gramQ, prefix, nextPrefix, u) = (storage[5].pointer, storage[6].pointer, storage[7].pointer, storage[8].pointer)
        chain = MatrixChainState(widths: widths, rows: qq)
        pivots = [Int32](repeating: 0, count: big)
    }

    @inline(__always) private func m(_ k: Int) -> Int32 { Int32(widths[k]) }

    /// Stores θ, the suffix matrices B_k, and `K = Σ_k (B_kB_kᵀ) ⊗ (A_kᵀA_k)`.
    package func linearize(at weights: UnsafeBufferPointer<Double>) {
        precondition(weights.count == shape.parameterCount)
        theta.update(from: weights.baseAddress!, count: weights.count)
        let qq = Int(q), dd = Int(d), big = Int(size)
        // B_L = I_q, B_{k−1} = B_k W_k.
        chain.b(depth).update(repeating: 0, count: qq * qq)
        for a in 0..<qq { chain.b(depth)[a * qq + a] = 1 }
        for k in stride(from: depth, through: 1, by: -1) {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, q, m(k - 1), m(k), 1, chain.b(k), m(k), theta + offsets[k - 1],
                        m(k - 1), 0, chain.b(k - 1), m(k - 1))
        }
        // A_1 = I_d, A_{k+1} = W_k A_k; K += (B_kB_kᵀ) ⊗ (A_kᵀA_k).
        kernel.update(repeating: 0, count: big * big)
        var current = prefix, next = nextPrefix
        current.update(repeating: 0, count: dd * dd)
        for i in 0..<dd { current[i * dd + i] = 1 }
        for k in 1...depth {
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, q, m(k), 1, chain.b(k), m(k), 0, gramP, q)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, m(k - 1), 1, current, d, 0, gramQ, d)
            for i in 0..<dd { for j in 0..<i { gramQ[i * dd + j] = gramQ[j * dd + i] } }
            for a in 0..<qq {
                for b in 0..<qq {
                    let p = a <= b ? gramP[a * qq + b] : gramP[b * qq + a]
                    for i in 0..<dd {  // block (a, b), row i: += p · Q_k[i, :]
                        cblas_daxpy(d, p, gramQ + i * dd, 1, kernel + (a * dd + i) * big + b * dd, 1)
                    }
                }
            }
            if k < depth {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m(k), d, m(k - 1), 1, theta + offsets[k - 1], m(k - 1),
                            current, d, 0, next, d)
                swap(&current, &next)
            }
        }
        isLinearized = true
    }

    /// Forms and LU-factors `I + 2γ(I_q ⊗ Σ)K`. Returns false if it is singular.
    package func factor(gamma: Double) -> Bool {
        precondition(isLinearized)
        self.gamma = gamma
        let dd = Int(d), big = Int(size)
        for a in 0..<Int(q) {  // block row a: 2γ Σ K[a rows, :]
            cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, d, size, 2 * gamma, sigma, d, kernel + a * dd * big, size,
                        0, system + a * dd * big, size)
        }
        for i in 0..<big { system[i * big + i] += 1 }
        // Row-major Z is column-major Zᵀ: factor Zᵀ = PLU and solve with TRANS = 'T'.
        var n = size, lda = size, info: Int32 = 0
        dgetrf_(&n, &n, system, &lda, &pivots, &info)
        return info == 0
    }

    package func solve(_ r: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        precondition(r.count == shape.parameterCount && out.count == shape.parameterCount)
        let rr = r.baseAddress!, o = out.baseAddress!
        // J_M r = δB_0, with δB_L = 0, δB_{k−1} = δB_k W_k + B_k R_k.
        chain.deltaB(depth).update(repeating: 0, count: Int(q) * widths[depth])
        for k in stride(from: depth, through: 1, by: -1) {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, q, m(k - 1), m(k), 1, chain.b(k), m(k), rr + offsets[k - 1],
                        m(k - 1), 0, chain.deltaB(k - 1), m(k - 1))
            if k < depth {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, q, m(k - 1), m(k), 1, chain.deltaB(k), m(k),
                            theta + offsets[k - 1], m(k - 1), 1, chain.deltaB(k - 1), m(k - 1))
            }
        }
        // u = vec(2γ (J_M r) Σ); S = Z⁻¹u in place.
        cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, q, d, 2 * gamma, sigma, d, chain.deltaB(0), d, 0, u, d)
        var trans = CChar(UInt8(ascii: "T")), n = size, one: Int32 = 1, lda = size, ldb = size, info: Int32 = 0
        dgetrs_(&trans, &n, &one, system, &lda, &pivots, u, &ldb, &info, 1)
        // out = r − J_Mᵀ S: F̃_1 = S, F̃_{k+1} = F̃_k W_kᵀ, out_k −= B_kᵀ F̃_k.
        if o != UnsafeMutablePointer(mutating: rr) { o.update(from: rr, count: shape.parameterCount) }
        chain.f(1).update(from: u, count: Int(size))
        for k in 1...depth {
            if k > 1 {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, q, m(k - 1), m(k - 2), 1, chain.f(k - 1), m(k - 2),
                            theta + offsets[k - 2], m(k - 2), 0, chain.f(k), m(k - 1))
            }
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m(k), m(k - 1), q, -1, chain.b(k), m(k), chain.f(k), m(k - 1),
                        1, o + offsets[k - 1], m(k - 1))
        }
    }
}

extension MultiOutputGaussNewtonPreconditioner: NewtonPreconditioner {}
