import COpenBLAS
import CVectorKernels

/// The inverse of the Gauss–Newton part of CVODE's Newton matrix for a GELU network (MATH.md §6.3),
/// `(I + γH_GN)⁻¹` with `H_GN = (2/n) JᵀJ`, J = ∂vec(Z_L)/∂θ the N×P output Jacobian (N = qn), by the
/// Woodbury identity:
///
///     (I + (2γ/n) JᵀJ)⁻¹ r = r − Jᵀ s,   s = (I_N + (2γ/n) K)⁻¹ (2γ/n) J r,   K = JJᵀ.
///
/// Entry ((a, i), (b, j)) of K is `Σ_k (t_k^{a,i} · t_k^{b,j}) (h_{k−1,i} · h_{k−1,j})`, where `h_{k−1,i}`
/// is column i of H_{k−1} and `t_k^{a,i} = ∂Z_L[a, i]/∂Z_k[:, i]` is back-propagated per sample:
/// `T_L = [e_a]`, `T_{k−1} = (W_kᵀT_k) ⊙ σ'(Z_{k−1})` for all N columns at once (m_k×N matrices). So
/// `K = Σ_k (T_kᵀT_k) ⊙ (1_{q×q} ⊗ H_{k−1}ᵀH_{k−1})`.
///
/// Costs: `linearize` ≈ 2qnP (the T_k) + Σ_k N²(m_k + m_{k−1}/q²) flops and N² + 2NΣ_k m_k doubles;
/// `factor` a Cholesky of the N×N matrix (N³/3 flops); `solve` one forward tangent sweep (`J r`, 2nP),
/// one back-propagation (`Jᵀ s`, 4nP) and two triangular solves (2N²): about one Hessian-vector product.
/// It is offered only for N ≤ `maximumSystemSize` (the N×N system must stay small). Nothing allocates
/// after `init`.
package final class GELUGaussNewtonPreconditioner {
    /// The largest N = qn for which `GELUNetworkRisk` offers this preconditioner.
    package static let maximumSystemSize = 2000

    package let shape: NetworkShape
    private let widths: [Int]
    private let depth: Int
    private let n: Int32, q: Int32, count: Int32  // count = N = qn
    private let offsets: [Int]
    private let storage: AlignedBuffer
    private let theta: UnsafeMutablePointer<Double>
    private let inputsT: UnsafePointer<Double>        // H_0 = Xᵀ (d×n), owned by the risk
    private let z: [UnsafeMutablePointer<Double>]     // Z_k (m_k×n), k = 1…L (index k)
    private let h: [UnsafeMutablePointer<Double>]     // H_k (m_k×n), k = 1…L−1
    private let slope: [UnsafeMutablePointer<Double>] // σ'(Z_k), k = 1…L−1
    private let t: [UnsafeMutablePointer<Double>]     // T_k (m_k×N), k = 1…L
    private let work: [UnsafeMutablePointer<Double>]  // m_k×N scratch (tiled σ' or tangent), k = 1…L
    private let gramH: UnsafeMutablePointer<Double>   // n×n
    private let gramT: UnsafeMutablePointer<Double>   // N×N
    private let kernel: UnsafeMutablePointer<Double>  // K, N×N (upper triangle)
    private let system: UnsafeMutablePointer<Double>  // I + (2γ/n)K, Cholesky factor
    private let u: UnsafeMutablePointer<Double>       // N
    private let tangent: [UnsafeMutablePointer<Double>]  // Ż_k / Δ̃_k (m_k×n), k = 0…L
    private let tangentH: [UnsafeMutablePointer<Double>] // Ḣ_k (m_k×n)
    /// The γ of the last `factor`.
    package private(set) var gamma = 0.0
    package private(set) var isLinearized = false

    /// - Parameters: the network's shape, the samples n and outputs q, and `Xᵀ` (d×n row-major), which must
    ///   outlive the preconditioner (the risk owns it).
    init(shape: NetworkShape, samples: Int, outputs: Int, inputsTransposed: UnsafePointer<Double>) {
        self.shape = shape
        widths = shape.widths
        depth = shape.depth
        n = Int32(samples)
        q = Int32(outputs)
        let big = samples * outputs
        count = Int32(big)
        offsets = (1...depth).map { shape.offset($0) }
        inputsT = inputsTransposed
        var sizes: [(String, Int, Int)] = [("theta", 0, shape.parameterCount)]
        for k in 1...depth {
            sizes += [("z", k, widths[k] * samples), ("t", k, widths[k] * big), ("work", k, widths[k] * big),
                      ("tangent", k, widths[k] * samples), ("tangentH", k, widths[k] * samples)]
            if k < depth { sizes += [("h", k, widths[k] * samples), ("slope", k, widths[k] * samples)] }
        }
        sizes += [("gramH", 0, samples * samples), ("gramT", 0, big * big), ("kernel", 0, big * big), ("system", 0, big * big),
                  ("u", 0, big)]
        let buffer = AlignedBuffer(count: sizes.reduce(0) { $0 + $1.2 + 8 })  // +8: keep every block 64-byte aligned
        storage = buffer
        var pointers: [String: [Int: UnsafeMutablePointer<Double>]] = [:]
        var offset = 0
        for (name, k, size) in sizes {
            pointers[name, default: [:]][k] = buffer.pointer + offset
            offset += (size + 7) / 8 * 8
        }
        let layers = shape.depth
        func list(_ name: String) -> [UnsafeMutablePointer<Double>] {
            (0...layers).map { pointers[name]?[$0] ?? buffer.pointer }  // unused indices point anywhere; never read
        }
        theta = pointers["theta"]![0]!
        z = list("z")
        h = list("h")
        slope = list("slope")
        t = list("t")
        work = list("work")
        tangent = list("tangent")
        tangentH = list("tangentH")
        gramH = pointers["gramH"]![0]!
        gramT = pointers["gramT"]![0]!
        kernel = pointers["kernel"]![0]!
        system = pointers["system"]![0]!
        u = pointers["u"]![0]!
    }

    @inline(__always) private func m(_ k: Int) -> Int32 { Int32(widths[k]) }
    /// `H_k`, with `H_0 = Xᵀ`.
    @inline(__always) private func activations(_ k: Int) -> UnsafePointer<Double> { k == 0 ? inputsT : UnsafePointer(h[k]) }

    /// Stores θ, the forward sweep, the per-sample back-propagated T_k and `K = JJᵀ` (upper triangle).
    package func linearize(at weights: UnsafeBufferPointer<Double>) {
        precondition(weights.count == shape.parameterCount)
        theta.update(from: weights.baseAddress!, count: weights.count)
        for k in 1...depth {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m(k), n, m(k - 1), 1, theta + offsets[k - 1], m(k - 1),
                        activations(k - 1), n, 0, z[k], n)
            if k < depth { gf_gelu(m(k) * n, z[k], h[k], slope[k], nil) }
        }
        // T_L = [e_a] over the N = qn columns (column a·n + i).
        let samples = Int(n), outputs = Int(q), big = Int(count)
        t[depth].update(repeating: 0, count: outputs * big)
        for a in 0..<outputs { for i in 0..<samples { t[depth][a * big + a * samples + i] = 1 } }
        for k in stride(from: depth, through: 2, by: -1) {
            // T_{k−1} = (W_kᵀ T_k) ⊙ σ'(Z_{k−1}), with σ' tiled over the q outputs.
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m(k - 1), count, m(k), 1, theta + offsets[k - 1], m(k - 1),
                        t[k], count, 0, t[k - 1], count)
            let tiled = work[k - 1]
            for row in 0..<widths[k - 1] {
                for a in 0..<outputs { (tiled + row * big + a * samples).update(from: slope[k - 1] + row * samples, count: samples) }
            }
            gf_hadamard(m(k - 1) * count, t[k - 1], tiled, t[k - 1])
        }
        // K = Σ_k (T_kᵀT_k) ⊙ (1 ⊗ H_{k−1}ᵀH_{k−1}). dsyrk fills the upper triangle of T_kᵀT_k; the products
        // run over whole rows (block by block, each n wide), so only K's upper triangle is meaningful.
        kernel.update(repeating: 0, count: big * big)
        for k in 1...depth {
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, count, m(k), 1, t[k], count, 0, gramT, count)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, m(k - 1), 1, activations(k - 1), n, 0, gramH, n)
            for i in 0..<samples { for j in 0..<i { gramH[i * samples + j] = gramH[j * samples + i] } }
            for row in 0..<big {
                let i = row % samples
                for block in (row / samples)..<outputs {
                    let start = row * big + block * samples
                    gf_hadamard_accumulate(n, gramT + start, gramH + i * samples, kernel + start)
                }
            }
        }
        isLinearized = true
    }

    /// Forms `I + (2γ/n)K` and its Cholesky factor. Returns false if it is not positive definite.
    package func factor(gamma: Double) -> Bool {
        precondition(isLinearized)
        self.gamma = gamma
        let big = Int(count), c = 2 * gamma / Double(n)
        for row in 0..<big {
            for column in row..<big { system[row * big + column] = c * kernel[row * big + column] }
            system[row * big + row] += 1
        }
        // Row-major upper = column-major lower: factor with UPLO = 'L'.
        var uplo = CChar(UInt8(ascii: "L")), size = count, lda = count, info: Int32 = 0
        dpotrf_(&uplo, &size, system, &lda, &info, 1)
        return info == 0
    }

    package func solve(_ r: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        precondition(r.count == shape.parameterCount && out.count == shape.parameterCount)
        let rr = r.baseAddress!, o = out.baseAddress!
        // J r: Ż_k = R_k H_{k−1} + W_k Ḣ_{k−1}, Ḣ_k = σ'(Z_k) ⊙ Ż_k; u = vec(Ż_L).
        for k in 1...depth {
            let target = k == depth ? u : tangent[k]
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m(k), n, m(k - 1), 1, rr + offsets[k - 1], m(k - 1),
                        activations(k - 1), n, 0, target, n)
            if k > 1 {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m(k), n, m(k - 1), 1, theta + offsets[k - 1], m(k - 1),
                            tangentH[k - 1], n, 1, target, n)
            }
            if k < depth { gf_hadamard(m(k) * n, slope[k], tangent[k], tangentH[k]) }
        }
        // s = (I + (2γ/n)K)⁻¹ (2γ/n) u, in place in u (q×n, row a = output a).
        cblas_dscal(count, 2 * gamma / Double(n), u, 1)
        var uplo = CChar(UInt8(ascii: "L")), size = count, one: Int32 = 1, lda = count, ldb = count, info: Int32 = 0
        dpotrs_(&uplo, &size, &one, system, &lda, u, &ldb, &info, 1)
        // out = r − Jᵀs: Δ̃_L = s; (Jᵀs)_k = Δ̃_k H_{k−1}ᵀ; Δ̃_{k−1} = (W_kᵀ Δ̃_k) ⊙ σ'(Z_{k−1}).
        if o != UnsafeMutablePointer(mutating: rr) { o.update(from: rr, count: shape.parameterCount) }
        var delta = u
        for k in stride(from: depth, through: 1, by: -1) {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m(k), m(k - 1), n, -1, delta, n, activations(k - 1), n,
                        1, o + offsets[k - 1], m(k - 1))
            guard k > 1 else { break }
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m(k - 1), n, m(k), 1, theta + offsets[k - 1], m(k - 1),
                        delta, n, 0, tangent[k - 1], n)
            gf_hadamard(m(k - 1) * n, tangent[k - 1], slope[k - 1], tangent[k - 1])
            delta = tangent[k - 1]
        }
    }
}

extension GELUGaussNewtonPreconditioner: NewtonPreconditioner {}
