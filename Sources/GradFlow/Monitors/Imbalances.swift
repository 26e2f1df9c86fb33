import COpenBLAS

/// The imbalances of Lemma 1 (MATH.md §4.1), `D_k = W_k W_kᵀ − W_{k+1}ᵀ W_{k+1}` (m_k × m_k, k = 1…L−1):
/// conserved by gradient flow, so `D_k(t) = D_k(0)`. Holds D_k(0) and measures the change at θ:
/// per k, the absolute drift `‖D_k(θ) − D_k(0)‖_F` and the relative drift, divided by the scale of the
/// weights there, `max(‖W_kW_kᵀ‖_F, ‖W_{k+1}ᵀW_{k+1}‖_F)`.
/// (The issue writes D_k with the opposite sign; the drift's norm is the same.)
/// Cost per evaluation: two symmetric rank-k products per k, ≈ Σ_k m_k²(m_{k−1} + m_{k+1}) flops.
public struct Imbalances: Sendable {
    public let shape: NetworkShape
    /// D_k(0), k = 1…L−1 (index k − 1), each m_k × m_k row-major.
    public let initialImbalances: [[Double]]

    public init(initialWeights: [Double], shape: NetworkShape) {
        self.shape = shape
        initialImbalances = shape.depth < 2 ? [] : (1..<shape.depth).map { Self.imbalance(initialWeights, shape: shape, k: $0).matrix }
    }

    /// `D_k = W_kW_kᵀ − W_{k+1}ᵀW_{k+1}` and the Frobenius norms of its two terms.
    public static func imbalance(_ theta: [Double], shape: NetworkShape, k: Int) -> (matrix: [Double], scale: Double) {
        let m = shape.rows(k)
        // Only the upper triangles of the two terms are written and read: no need to zero them first (at m = 50 the
        // zeroing of these three m×m arrays was a quarter of the monitor's cost).
        var first = Self.uninitialized(m * m), second = Self.uninitialized(m * m)
        let n = shape.columns(k), below = shape.rows(k + 1)
        theta.withUnsafeBufferPointer { t in
            let a = t.baseAddress! + shape.offset(k), b = t.baseAddress! + shape.offset(k + 1)
            if max(m, n, below) <= SmallMatrices.widthLimit {
                // Small layers: the upper triangles by plain loops (OpenBLAS's call overhead is most of a 5×5
                // product's cost; this runs at every output time).
                first.withUnsafeMutableBufferPointer { f in second.withUnsafeMutableBufferPointer { g in
                    for i in 0..<m {
                        for j in i..<m {
                            var s = 0.0
                            for c in 0..<n { s += a[i * n + c] * a[j * n + c] }
                            f[i * m + j] = s
                            var r = 0.0
                            for c in 0..<below { r += b[c * m + i] * b[c * m + j] }
                            g[i * m + j] = r
                        }
                    }
                } }
            } else {
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(m), Int32(n), 1, a, Int32(n), 0, &first, Int32(m))
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(m), Int32(below), 1, b, Int32(m), 0, &second, Int32(m))
            }
        }
        // D_k (mirrored from the upper triangles) and the two terms' Frobenius norms, in one pass without
        // bounds checks (this runs at every output time).
        var d = Self.uninitialized(m * m)  // every entry written below
        var firstSquares = 0.0, secondSquares = 0.0
        first.withUnsafeBufferPointer { f in second.withUnsafeBufferPointer { g in d.withUnsafeMutableBufferPointer { out in
            for i in 0..<m {
                let a = f[i * m + i], b = g[i * m + i]
                firstSquares += a * a
                secondSquares += b * b
                out[i * m + i] = a - b
                for j in (i + 1)..<max(m, i + 1) {
                    let a = f[i * m + j], b = g[i * m + j]
                    firstSquares += 2 * a * a
                    secondSquares += 2 * b * b
                    let v = a - b
                    out[i * m + j] = v
                    out[j * m + i] = v
                }
            }
        } } }
        return (d, max(firstSquares, secondSquares).squareRoot())
    }

    /// An array of `count` doubles whose values are whatever the allocator left: for outputs written in full.
    private static func uninitialized(_ count: Int) -> [Double] {
        [Double](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// Per k = 1…L−1: `D_k(θ) − D_k(0)` (m_k × m_k row-major) and the scale of the weights there.
    public func differences(at theta: [Double]) -> [(difference: [Double], scale: Double)] {
        (1..<max(shape.depth, 1)).map { k in
            var (d, scale) = Self.imbalance(theta, shape: shape, k: k)
            cblas_daxpy(Int32(d.count), -1, initialImbalances[k - 1], 1, &d, 1)  // D_k(θ) − D_k(0)
            return (d, scale)
        }
    }

    /// Per k = 1…L−1: (absolute drift, relative drift) at θ.
    public func drift(at theta: [Double]) -> (absolute: [Double], relative: [Double]) {
        var absolute: [Double] = [], relative: [Double] = []
        for (difference, scale) in differences(at: theta) {
            let norm = cblas_dnrm2(Int32(difference.count), difference, 1)
            absolute.append(norm)
            relative.append(scale > 0 ? norm / scale : norm)
        }
        return (absolute, relative)
    }
}
