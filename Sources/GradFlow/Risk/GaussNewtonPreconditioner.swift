import COpenBLAS

/// The inverse of the Gauss–Newton part of CVODE's Newton matrix, `(I + γ H_GN)⁻¹` with
/// `H_GN = 2 JᵀΣJ` (MATH.md §2.2; J = ∂w/∂θ is d×P, `JJᵀ = K`), by the Woodbury identity:
///
///     (I + 2γ JᵀΣJ)⁻¹ r = r − Jᵀ s,   s = (I_d + 2γ Σ K)⁻¹ (2γ Σ J r).
///
/// CVODE's BDF solves `(I − γJ_F) x = r` with `J_F = −H` at every Newton iteration, matrix-free by SPGMR.
/// H = H_GN + H_2, where H_2 is linear in the function-space gradient g and vanishes at a minimiser; H_GN
/// carries the data covariance Σ, whose conditioning makes the flow stiff. Preconditioning SPGMR with
/// this exact inverse of `I + γH_GN` leaves it only the H_2 part to resolve.
///
/// Costs: `linearize` (at the point CVODE's preconditioner setup gives) builds `K = Σ_k ‖b_k‖² A_kᵀA_k`
/// from the prefix matrices A_k, ≈ 2Pd + Σ_k m_{k−1}d² flops; `factor` forms and LU-factors the d×d
/// matrix `I + 2γΣK` (≈ (2 + 2/3)d³ flops); `solve` costs one β sweep (`J r`, 4P flops), one
/// forward sweep (`A_k s`, 2P flops), a d×d solve and P rank-one updates: ≈ 7P + 4d² flops, about the
/// cost of one Hessian-vector product. Nothing allocates after `init`.
package final class GaussNewtonPreconditioner {
    package let shape: NetworkShape
    private let widths: [Int]
    private let depth: Int
    private let d: Int32
    private let offsets: [Int]
    private let storage: [AlignedBuffer]
    private let sigma, p, theta, b, beta, a, prefix, nextPrefix, k, z, u: UnsafeMutablePointer<Double>
    private let bOffsets: [Int]
    private var pivots: [Int32]
    /// The γ of the last `factor`.
    package private(set) var gamma = 0.0
    /// Whether `linearize` has been called.
    package private(set) var isLinearized = false

    /// - Parameters: `covariance` Σ (d×d, row-major) and the projection p (m_L entries).
    package init(shape: NetworkShape, covariance: [Double], projection: [Double]) {
        self.shape = shape
        widths = shape.widths
        depth = shape.depth
        let dd = shape.inputDimension
        d = Int32(dd)
        offsets = (1...depth).map { shape.offset($0) }
        var bOffsets: [Int] = [], total = 0
        for width in widths { bOffsets.append(total); total += width }
        self.bOffsets = bOffsets
        let maxWidth = widths.max()!
        storage = [AlignedBuffer(covariance), AlignedBuffer(projection), AlignedBuffer(count: shape.parameterCount),
                   AlignedBuffer(count: total), AlignedBuffer(count: total), AlignedBuffer(count: total),
                   AlignedBuffer(count: maxWidth * dd), AlignedBuffer(count: maxWidth * dd), AlignedBuffer(count: dd * dd),
                   AlignedBuffer(count: dd * dd), AlignedBuffer(count: dd)]
        (sigma, p, theta, b, beta, a) = (storage[0].pointer, storage[1].pointer, storage[2].pointer, storage[3].pointer,
                                        storage[4].pointer, storage[5].pointer)
        (prefix, nextPrefix, k, z, u) = (storage[6].pointer, storage[7].pointer, storage[8].pointer, storage[9].pointer,
                                        storage[10].pointer)
        pivots = [Int32](repeating: 0, count: dd)
    }

    @inline(__always) private func m(_ k: Int) -> Int32 { Int32(widths[k]) }
    @inline(__always) private func vector(_ base: UnsafeMutablePointer<Double>, _ k: Int) -> UnsafeMutablePointer<Double> {
        base + bOffsets[k]
    }

    /// Stores θ, its suffix vectors b_k, and `K = Σ_k ‖b_k‖² A_kᵀA_k` (upper triangle, row-major).
    package func linearize(at weights: UnsafeBufferPointer<Double>) {
        precondition(weights.count == shape.parameterCount)
        theta.update(from: weights.baseAddress!, count: weights.count)
        cblas_dcopy(m(depth), p, 1, vector(b, depth), 1)
        for layer in stride(from: depth, through: 1, by: -1) {
            cblas_dgemv(CblasRowMajor, CblasTrans, m(layer), m(layer - 1), 1, theta + offsets[layer - 1], m(layer - 1),
                        vector(b, layer), 1, 0, vector(b, layer - 1), 1)
        }
        // A_1 = I_d; A_{k+1} = W_k A_k (m_k × d, row-major); K += ‖b_k‖² A_kᵀA_k.
        let dd = Int(d)
        k.update(repeating: 0, count: dd * dd)
        var current = prefix, next = nextPrefix
        current.update(repeating: 0, count: dd * dd)
        for i in 0..<dd { current[i * dd + i] = 1 }
        for layer in 1...depth {
            let bNorm = cblas_ddot(m(layer), vector(b, layer), 1, vector(b, layer), 1)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, m(layer - 1), bNorm, current, d, 1, k, d)
            if layer < depth {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m(layer), d, m(layer - 1), 1,
                            theta + offsets[layer - 1], m(layer - 1), current, d, 0, next, d)
                swap(&current, &next)
            }
        }
        for i in 0..<dd { for j in 0..<i { k[i * dd + j] = k[j * dd + i] } }
        isLinearized = true
    }

    /// Forms and LU-factors `I + 2γΣK`. Returns false if it is singular (then `solve` must not be used).
    package func factor(gamma: Double) -> Bool {
        precondition(isLinearized)
        self.gamma = gamma
        let dd = Int(d)
        cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, d, d, 2 * gamma, sigma, d, k, d, 0, z, d)
        for i in 0..<dd { z[i * dd + i] += 1 }
        // Row-major Z is column-major Zᵀ: factor Zᵀ = PLU and solve with TRANS = 'T' in `solve`.
        var n = d, lda = d, info: Int32 = 0
        dgetrf_(&n, &n, z, &lda, &pivots, &info)
        return info == 0
    }

    /// z = (I + γH_GN)⁻¹ r at the linearization point, for the γ of the last `factor`. `out` may be `r`.
    package func solve(_ r: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        precondition(r.count == shape.parameterCount && out.count == shape.parameterCount)
        let rr = r.baseAddress!, o = out.baseAddress!
        // β_L = 0; β_{k−1} = R_kᵀ b_k + W_kᵀ β_k; J r = β_0.
        vector(beta, depth).update(repeating: 0, count: widths[depth])
        for layer in stride(from: depth, through: 1, by: -1) {
            cblas_dgemv(CblasRowMajor, CblasTrans, m(layer), m(layer - 1), 1, rr + offsets[layer - 1], m(layer - 1),
                        vector(b, layer), 1, 0, vector(beta, layer - 1), 1)
            if layer < depth {
                cblas_dgemv(CblasRowMajor, CblasTrans, m(layer), m(layer - 1), 1, theta + offsets[layer - 1], m(layer - 1),
                            vector(beta, layer), 1, 1, vector(beta, layer - 1), 1)
            }
        }
        // s = (I + 2γΣK)⁻¹ 2γΣ J r, into u.
        cblas_dsymv(CblasRowMajor, CblasUpper, d, 2 * gamma, sigma, d, vector(beta, 0), 1, 0, u, 1)
        var trans = CChar(UInt8(ascii: "T")), n = d, one: Int32 = 1, lda = d, ldb = d, info: Int32 = 0
        dgetrs_(&trans, &n, &one, z, &lda, &pivots, u, &ldb, &info, 1)
        // a_1 = s, a_{k+1} = W_k a_k (a_k = A_k s); out_k = r_k − b_k a_kᵀ.
        cblas_dcopy(d, u, 1, vector(a, 0), 1)
        for layer in 1..<depth {
            cblas_dgemv(CblasRowMajor, CblasNoTrans, m(layer), m(layer - 1), 1, theta + offsets[layer - 1], m(layer - 1),
                        vector(a, layer - 1), 1, 0, vector(a, layer), 1)
        }
        if o != UnsafeMutablePointer(mutating: rr) { o.update(from: rr, count: shape.parameterCount) }
        for layer in 1...depth {
            cblas_dger(CblasRowMajor, m(layer), m(layer - 1), -1, vector(b, layer), 1, vector(a, layer - 1), 1,
                       o + offsets[layer - 1], m(layer - 1))
        }
    }
}
