import COpenBLAS

/// The end-to-end quantities of a network at one point θ that the PL certificate, the sharpness
/// bounds and the d×d sharpness formula use (MATH.md §1.1, §2.5, §4.3, §4.5):
/// suffix vectors `b_k = W_{k+1}ᵀ⋯W_Lᵀ p` (k = 0…L, `b_0 = w`), prefix matrices
/// `A_k = W_{k−1}⋯W_1` (m_{k−1}×d, k = 1…L), and the tangent kernel `K = Σ_k ‖b_k‖² A_kᵀA_k` (d×d).
///
/// Cost ≈ 2Pd flops for the prefixes, 2P for the suffixes, Σ_k m_{k−1}d² for K and one d×d eigenvalue
/// problem for λ_max(K); the L d×d eigenvalue problems for `‖A_k‖_2²` only when asked for
/// (`prefixSpectralNormsSquared()`, at checkpoints). Allocates; used at output times and checkpoints only.
public struct NetworkGeometry: Sendable {
    /// `b_0 … b_L`.
    public let suffix: [[Double]]
    /// `‖b_k‖²`, k = 0…L.
    public let suffixNormsSquared: [Double]
    /// `A_kᵀA_k` (d×d row-major), k = 1…L (index k − 1).
    public let prefixGrams: [[Double]]
    /// K, d×d row-major.
    public let kernel: [Double]
    /// λ_max(K).
    public let kernelLambdaMax: Double
    public let dimension: Int

    /// - Precondition: `network.isScalarLinear` (these quantities need the projection p).
    public init(weights theta: [Double], network: Network) throws {
        precondition(network.isScalarLinear, "NetworkGeometry needs a scalar-output linear network")
        let shape = network.shape, L = shape.depth, d = shape.inputDimension
        dimension = d
        if (shape.widths.max() ?? 0) <= SmallMatrices.widthLimit {
            (suffix, suffixNormsSquared, prefixGrams, kernel, kernelLambdaMax) = try Self.small(theta, shape: shape, projection: network.projection!)
            return
        }
        // Every BLAS operand in 64-byte-aligned storage, for reproducible bits (see `AlignedBuffer`).
        let weights = AlignedBuffer(theta)
        var b = [AlignedBuffer](repeating: AlignedBuffer(count: 0), count: L + 1)
        b[L] = AlignedBuffer(network.projection!)
        for k in stride(from: L, through: 1, by: -1) {
            b[k - 1] = AlignedBuffer(count: shape.columns(k))
            cblas_dgemv(CblasRowMajor, CblasTrans, Int32(shape.rows(k)), Int32(shape.columns(k)), 1,
                        weights.pointer + shape.offset(k), Int32(shape.columns(k)), b[k].pointer, 1, 0, b[k - 1].pointer, 1)
        }
        suffix = b.map(\.array)
        suffixNormsSquared = suffix.map { v in v.reduce(0) { $0 + $1 * $1 } }

        let kernel = AlignedBuffer(count: d * d), gram = AlignedBuffer(count: d * d)
        var grams: [[Double]] = []
        var prefix = AlignedBuffer(count: d * d)  // A_1 = I_d
        for i in 0..<d { prefix.pointer[i * d + i] = 1 }
        for k in 1...L {
            let rows = shape.columns(k)  // A_k is m_{k−1} × d
            // K += ‖b_k‖² A_kᵀA_k (upper triangle, mirrored below); ‖A_k‖_2² = λ_max(A_kᵀA_k).
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(rows), 1, prefix.pointer, Int32(d), 0, gram.pointer, Int32(d))
            for i in 0..<d { for j in 0..<i { gram.pointer[i * d + j] = gram.pointer[j * d + i] } }
            cblas_daxpy(Int32(d * d), suffixNormsSquared[k], gram.pointer, 1, kernel.pointer, 1)
            grams.append(gram.array)
            if k < L {
                let next = AlignedBuffer(count: shape.rows(k) * d)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(shape.rows(k)), Int32(d), Int32(rows), 1,
                            weights.pointer + shape.offset(k), Int32(rows), prefix.pointer, Int32(d), 0, next.pointer, Int32(d))
                prefix = next
            }
        }
        self.kernel = kernel.array
        prefixGrams = grams
        kernelLambdaMax = try LAPACK.symmetricEigenvalues(kernel.array, order: d).last ?? 0
    }

    /// The same quantities for small networks (every width ≤ `SmallMatrices.widthLimit`): plain loops instead of BLAS calls,
    /// whose fixed costs are most of a 5×5 product's, and λ_max(K) as K's top singular value by one-sided Jacobi
    /// (`JacobiSVD`; K is positive semidefinite, so σ_1(K) = λ_max(K), to the same rounding level as `dsyevr`).
    private static func small(_ theta: [Double], shape: NetworkShape, projection: [Double]) throws
        -> ([[Double]], [Double], [[Double]], [Double], Double)
    {
        let L = shape.depth, d = shape.inputDimension, widest = shape.widths.max() ?? 0
        var suffix = [[Double]](repeating: [], count: L + 1), norms = [Double](repeating: 0, count: L + 1)
        var grams: [[Double]] = []
        grams.reserveCapacity(L)
        var kernel = [Double](repeating: 0, count: d * d)
        // Scratch: the current and next prefix A_k (at most widest × d each) and one Gram.
        var scratch = [Double](repeating: 0, count: 2 * widest * d + d * d)
        theta.withUnsafeBufferPointer { t in scratch.withUnsafeMutableBufferPointer { buffer in kernel.withUnsafeMutableBufferPointer { kk in
            let w = t.baseAddress!, K = kk.baseAddress!
            var prefix = buffer.baseAddress!, next = prefix + widest * d
            let gram = next + widest * d
            var b = projection
            norms[L] = b.reduce(0) { $0 + $1 * $1 }
            suffix[L] = b
            for k in stride(from: L, through: 1, by: -1) {
                let m = shape.rows(k), n = shape.columns(k), block = w + shape.offset(k)
                var out = [Double](repeating: 0, count: n)
                out.withUnsafeMutableBufferPointer { o in b.withUnsafeBufferPointer { c in
                    for r in 0..<m {
                        let x = c[r]
                        for j in 0..<n { o[j] += block[r * n + j] * x }
                    }
                } }
                var square = 0.0
                for x in out { square += x * x }
                norms[k - 1] = square
                suffix[k - 1] = out
                b = out
            }
            prefix.update(repeating: 0, count: d * d)  // A_1 = I_d
            for i in 0..<d { prefix[i * d + i] = 1 }
            for k in 1...L {
                let rows = shape.columns(k), c = norms[k]
                for i in 0..<d {
                    for j in i..<d {
                        var s = 0.0
                        for r in 0..<rows { s += prefix[r * d + i] * prefix[r * d + j] }
                        gram[i * d + j] = s
                        gram[j * d + i] = s
                    }
                }
                for i in 0..<(d * d) { K[i] += c * gram[i] }
                grams.append(Array(UnsafeBufferPointer(start: gram, count: d * d)))
                if k < L {
                    let m = shape.rows(k), block = w + shape.offset(k)
                    next.update(repeating: 0, count: m * d)
                    for r in 0..<m {
                        for col in 0..<rows {
                            let x = block[r * rows + col]
                            for j in 0..<d { next[r * d + j] += x * prefix[col * d + j] }
                        }
                    }
                    swap(&prefix, &next)
                }
            }
        } } }
        var u = [Double](repeating: 0, count: d), v = [Double](repeating: 0, count: d)
        let top = kernel.withUnsafeBufferPointer { JacobiSVD(rows: d, columns: d).decompose($0.baseAddress!, u: &u, v: &v) }
        // Jacobi declines a K with a non-finite or subnormal largest entry: `dsyevr` then, as for wide networks.
        let lambdaMax = top.converged ? top.sigma : try LAPACK.symmetricEigenvalues(kernel, order: d).last ?? 0
        return (suffix, norms, grams, kernel, lambdaMax)
    }

    /// `‖A_k‖_2² = λ_max(A_kᵀA_k)`, k = 1…L (index k − 1): L symmetric d×d eigenvalue problems (`dsyevr`).
    public func prefixSpectralNormsSquared() throws -> [Double] {
        let d = dimension
        return try prefixGrams.map { try LAPACK.symmetricEigenvalues($0, order: d).last ?? 0 }
    }

    /// The derived trajectory bound `2Λ Σ_k ‖b_k‖² ‖A_k‖_2²` on the sharpness, valid at any minimiser
    /// (MATH.md §4.5).
    public func derivedSharpnessBound(lambdaMax: Double) throws -> Double {
        2 * lambdaMax * zip(suffixNormsSquared.dropFirst(), try prefixSpectralNormsSquared()).map { $0 * $1 }.reduce(0, +)
    }

    /// `2 λ_max(Σ^{1/2} K Σ^{1/2})`: the sharpness at a global minimiser (g = 0), from a d×d problem
    /// (MATH.md §2.5). Away from minimisers it is only the Gauss–Newton part's top eigenvalue.
    public func minimizerSharpness(covarianceSquareRoot root: [Double]) throws -> Double {
        let d = dimension
        var tmp = [Double](repeating: 0, count: d * d), m = [Double](repeating: 0, count: d * d)
        cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, Int32(d), Int32(d), 1, root, Int32(d), kernel, Int32(d), 0, &tmp, Int32(d))
        cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, Int32(d), Int32(d), 1, root, Int32(d), tmp, Int32(d), 0, &m, Int32(d))
        for i in 0..<d { for j in 0..<i { let s = (m[i * d + j] + m[j * d + i]) / 2; m[i * d + j] = s; m[j * d + i] = s } }
        return 2 * (try LAPACK.symmetricEigenvalues(m, order: d).last ?? 0)
    }
}
