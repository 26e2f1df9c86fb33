/// The singular value decomposition of a small dense matrix by one-sided Jacobi rotations (Hestenes), in
/// place on preallocated storage: no allocation, no LAPACK call, the same bits for the same input and start.
///
/// **Math.** Let W be m×n (row-major), k = min(m, n) and ℓ = max(m, n). The k "vectors" x_1 … x_k are W's
/// columns when k = n and its rows when k = m (each of length ℓ). Rotations R_{ij} = [[c, s], [−s, c]] chosen
/// to make x_i ⟂ x_j (Rutishauser's formulas: ζ = (‖x_j‖² − ‖x_i‖²)/(2x_iᵀx_j), t = sign(ζ)/(|ζ| + √(1 + ζ²)),
/// c = 1/√(1 + t²), s = ct) are applied to the pair and accumulated in the k×k orthogonal Q, in cyclic sweeps
/// until every pair satisfies |x_iᵀx_j| ≤ √ℓ·ε·‖x_i‖‖x_j‖. Then X = (columns or rows of W)·Q has orthogonal
/// vectors: σ_i = ‖x_i‖, and the singular vectors on the short side are Q's columns, on the long side x_i/σ_i.
/// One-sided Jacobi is backward stable with singular values accurate to a few ε·σ_1 (Demmel and Veselić 1992:
/// small singular values to high relative accuracy when W's columns are well scaled); its singular vectors have
/// the rounding-level angle error ε·σ_1²/(σ_1² − σ_2²), like LAPACK's.
///
/// **Warm start.** Along a trajectory W changes little between calls, so the previous call's Q nearly
/// diagonalises the next W: `decompose(_:u:v:warm: true)` re-orthonormalises that Q (modified Gram–Schmidt, so
/// that rounding does not accumulate over calls) and starts from X = (columns or rows of W)·Q. The result is
/// the SVD of the new W to the same rounding level; only the number of sweeps changes (4 instead of 5–7 along
/// case A's trajectories, the last sweep being the check that no pair needs a rotation).
///
/// **Scale.** W is first multiplied by the power of two that brings its largest entry into [1, 2) (exact), so the
/// squared norms and the rotation test neither overflow nor underflow at any magnitude; the results are scaled
/// back. A W with a non-finite entry, or whose largest entry is subnormal, is declined (`converged` false).
///
/// **Cost.** Per sweep k(k − 1)/2 pairs, each about 3ℓ + 2k multiply–adds, O(k²ℓ); a warm start adds k²ℓ + k³.
/// For k ≲ 12 this is below a Lanczos iteration's fixed costs (tridiagonal eigenproblems, BLAS calls on tiny
/// vectors); for the 50-wide layers of larger problems `TopSingularTripletSolver` iterates instead.
package final class JacobiSVD {
    package let rows: Int, columns: Int
    /// k = min(rows, columns), ℓ = max(rows, columns).
    package let k: Int, length: Int
    /// The k vectors x_i (each of length ℓ, contiguous), rotated in place.
    private let vectors: AlignedBuffer
    /// Q, k×k, by columns: column i is `rotation.pointer + i·k` (each rotation updates two contiguous columns).
    private let rotation: AlignedBuffer
    /// ‖x_i‖², recomputed exactly at every sweep.
    private let norms: AlignedBuffer
    /// A copy of the vectors for the warm start's product.
    private let scratch: AlignedBuffer
    /// Whether `rotation` holds a previous call's Q.
    private var hasRotation = false

    /// The most sweeps made before giving up (never reached in practice: Jacobi converges quadratically).
    package static let maxSweeps = 60

    package init(rows: Int, columns: Int) {
        precondition(rows >= 1 && columns >= 1)
        self.rows = rows
        self.columns = columns
        k = min(rows, columns)
        length = max(rows, columns)
        vectors = AlignedBuffer(count: k * length)
        rotation = AlignedBuffer(count: k * k)
        norms = AlignedBuffer(count: k)
        scratch = AlignedBuffer(count: k * length)
    }

    /// Appends the previous call's Q (k×k by columns, the warm start of the next call; zeros before the first call).
    package func appendRotation(to state: inout [Double]) {
        if hasRotation {
            state.append(contentsOf: UnsafeBufferPointer(start: rotation.pointer, count: k * k))
        } else {
            state.append(contentsOf: repeatElement(0, count: k * k))
        }
    }
    /// Restores what `appendRotation` appended (ignored unless it has k² entries).
    package func restore(rotation values: ArraySlice<Double>) {
        guard values.count == k * k else { hasRotation = false; return }
        var i = 0
        for value in values { rotation.pointer[i] = value; i += 1 }
        hasRotation = true
    }

    /// Modified Gram–Schmidt on Q's columns, in place; false (Q unusable) if a column vanishes or is not finite.
    private func orthonormalizeRotation() -> Bool {
        let q = rotation.pointer, k = self.k
        for i in 0..<k {
            let qi = q + i &* k
            for j in 0..<i {
                let qj = q + j &* k
                var d = 0.0
                for r in 0..<k { d += qj[r] * qi[r] }
                for r in 0..<k { qi[r] -= d * qj[r] }
            }
            var s = 0.0
            for r in 0..<k { s += qi[r] * qi[r] }
            guard s.isFinite, s > 0.25 else { return false }
            let scale = 1 / s.squareRoot()
            for r in 0..<k { qi[r] *= scale }
        }
        return true
    }

    /// The result of `decompose`: σ_1², Σ_{i≥2} σ_i², σ_2, σ_1, and whether the sweeps converged (false, with NaN values,
    /// for a W with a non-finite entry or whose largest entry is subnormal).
    package struct Top {
        package var sigmaSquared: Double
        package var residualSquared: Double
        package var secondSingularValue: Double
        /// σ_1 itself (finite where σ_1² overflows or underflows).
        package var sigma: Double
        package var converged: Bool
        /// Sweeps made, the last one without a rotation.
        package var sweeps: Int
    }

    /// Decomposes the row-major `rows`×`columns` matrix at `w`; the top singular vectors go to `u` (length
    /// `rows`) and `v` (length `columns`), unit vectors with `W v = σ_1 u` up to rounding (for W = 0: σ_1 = 0,
    /// u and v the first unit vectors).
    package func decompose(_ w: UnsafePointer<Double>, u: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>,
                           warm: Bool = false) -> Top {
        let k = self.k, l = length, m = rows, n = columns
        let x = vectors.pointer, q = rotation.pointer, norm = norms.pointer
        // W is scaled by a power of two (exactly) so that its largest entry is in [1, 2): the squared norms and the
        // rotation test can then neither overflow nor underflow, whatever W's magnitude. Not finite, or a largest
        // entry below the normal range: not converged (the caller's other path, LAPACK, scales for itself).
        var largest = 0.0, finite = true
        for i in 0..<(m * n) {
            let a = abs(w[i])
            if !(a <= .greatestFiniteMagnitude) { finite = false }  // NaN too
            largest = max(largest, a)
        }
        guard finite, largest == 0 || largest >= Double.leastNormalMagnitude else {
            return Top(sigmaSquared: .nan, residualSquared: .nan, secondSingularValue: .nan, sigma: .nan, converged: false, sweeps: 0)
        }
        let exponent = largest == 0 ? 0 : largest.exponent
        let scale = Double(sign: .plus, exponent: -exponent, significand: 1), unscale = Double(sign: .plus, exponent: exponent, significand: 1)
        // x_i: column i of W (k = n) or row i (k = m), scaled.
        if k == n {
            for i in 0..<n { for r in 0..<m { x[i &* l &+ r] = w[r &* n &+ i] * scale } }
        } else {
            for i in 0..<(m * n) { x[i] = w[i] * scale }
        }
        if warm, hasRotation, orthonormalizeRotation() {
            // X ← X·Q: x_i = Σ_j Q[j, i] x_j, through the scratch copy.
            let y = scratch.pointer
            y.update(from: x, count: k * l)
            x.update(repeating: 0, count: k * l)
            for i in 0..<k {
                let xi = x + i &* l, qi = q + i &* k
                for j in 0..<k {
                    let c = qi[j], yj = y + j &* l
                    for r in 0..<l { xi[r] += c * yj[r] }
                }
            }
        } else {
            q.update(repeating: 0, count: k * k)
            for i in 0..<k { q[i &* k &+ i] = 1 }
        }
        hasRotation = true
        let tolerance = Double(l).squareRoot() * Double.ulpOfOne, squaredTolerance = tolerance * tolerance
        var converged = k == 1
        var sweep = 0
        while !converged && sweep < Self.maxSweeps {
            sweep += 1
            for i in 0..<k {
                let xi = x + i &* l
                var s = 0.0
                for r in 0..<l { s += xi[r] * xi[r] }
                norm[i] = s
            }
            var rotated = false
            for i in 0..<(k - 1) {
                let xi = x + i &* l, qi = q + i &* k
                for j in (i + 1)..<k {
                    let a = norm[i], b = norm[j]
                    guard a > 0, b > 0 else { continue }
                    let xj = x + j &* l, qj = q + j &* k
                    var g = 0.0
                    for r in 0..<l { g += xi[r] * xj[r] }
                    // |g| > tolerance·√(ab), without the square root.
                    guard g * g > squaredTolerance * a * b else { continue }
                    rotated = true
                    let zeta = (b - a) / (2 * g)
                    let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), s = c * t
                    for r in 0..<l {
                        let p = xi[r], o = xj[r]
                        xi[r] = c * p - s * o
                        xj[r] = s * p + c * o
                    }
                    for r in 0..<k {
                        let p = qi[r], o = qj[r]
                        qi[r] = c * p - s * o
                        qj[r] = s * p + c * o
                    }
                    norm[i] = a - t * g
                    norm[j] = b + t * g
                }
            }
            converged = !rotated
        }
        // Exact norms of the converged vectors; the top one and the sum of the others.
        var top = 0, total = 0.0
        for i in 0..<k {
            let xi = x + i &* l
            var s = 0.0
            for r in 0..<l { s += xi[r] * xi[r] }
            norm[i] = s
            if s > norm[top] { top = i }
        }
        var second = 0.0
        for i in 0..<k where i != top {
            total += norm[i]
            second = max(second, norm[i])
        }
        let sigma = norm[top].squareRoot()
        // Short side: column `top` of Q; long side: x_top/σ_1.
        let short = k == n ? v : u, long = k == n ? u : v
        for r in 0..<k { short[r] = q[top * k + r] }
        if sigma > 0 {
            for r in 0..<l { long[r] = x[top * l + r] / sigma }
        } else {
            long.update(repeating: 0, count: l)
            long[0] = 1
        }
        // Back to W's scale; a square that leaves the double range does so as the true value would.
        return Top(sigmaSquared: norm[top] * unscale * unscale, residualSquared: total * unscale * unscale,
                   secondSingularValue: second.squareRoot() * unscale, sigma: sigma * unscale, converged: converged, sweeps: sweep)
    }
}
