import COpenBLAS

/// The largest and smallest eigenvalues of the Hessian at one point, with their error certificates.
public struct SharpnessEstimate: Sendable {
    /// S = λ_max(H), the algebraically largest eigenvalue.
    public var lambdaMax: Double
    /// `‖H y − θ_max y‖` for the top Ritz pair: some eigenvalue lies within it of `lambdaMax`.
    public var residualMax: Double
    /// λ_min(H) (negative away from minima: saddles have negative curvature).
    public var lambdaMin: Double
    public var residualMin: Double
    /// Hessian-vector products used.
    public var products: Int
    /// Whether both ends met the tolerance (always true for the dense path).
    public var converged: Bool
    /// The top Ritz vector (for warm-starting the next checkpoint); empty for the dense path.
    public var ritzVector: [Double]
    /// The bottom Ritz vector when both ends were converged (`LanczosEnds.extremes`), for warm-starting the
    /// next checkpoint with `ritzVector` (`SharpnessEstimator.lanczos(at:start:startBottom:)`); else empty.
    public var bottomRitzVector: [Double] = []
    /// Steps at which the Lanczos basis was reorthogonalised (partial reorthogonalisation; 0 for the dense path).
    public var reorthogonalisations: Int = 0
}

/// Which Ritz pairs a Lanczos run must converge before it stops.
public enum LanczosEnds: Sendable {
    /// The top and the bottom pair: S = λ_max and λ_min (the sharpness monitor).
    case extremes
    /// The top pair only: S and u (the central flow, MATH.md §11).
    case top
}

/// Estimates the sharpness S(W) = λ_max(∇²R(W)) (MATH.md §3).
///
/// `lanczos`: Lanczos with partial reorthogonalisation (Simon's ω-recurrence keeps the basis semi-orthogonal,
/// |q_iᵀq_k| ≤ √ε; a step that would break it is reorthogonalised against the whole basis by classical
/// Gram–Schmidt, a second pass when the DGKS test asks for it, and so is the step after it) on exact
/// Hessian-vector products, stopped when the residuals `r = β_j |s_i[j]|` of both the top and the
/// bottom Ritz pairs are at most `tolerance · max(|θ_1|, |θ_j|, floor)`, or on breakdown (an exact
/// invariant subspace). **Accuracy** (both ends, tested against `dsyevr` on the dense Hessian along a descent
/// path that ends near a minimiser): each reported end θ has some eigenvalue within its residual r ≤
/// `tolerance`·scale (1e-8 by default), the extreme Ritz values interlace (θ_max ≤ λ_max, θ_min ≥ λ_min, up to
/// rounding), and once the end is separated by a gap γ from the rest of the spectrum its error is at most r²/γ
/// (S near a minimiser: r ≈ 7e-15 on case B). The stopping test is the same with and without warm starts, so starting
/// from the previous checkpoint's Ritz vectors changes the cost, not this accuracy.
/// Cost per iteration: one Hessian-vector product (≈ 11P flops), O(j) for the ω estimates, O(j) per bisection
/// step for the two extreme Ritz values of the tridiagonal and O(j) for their vectors (inverse iteration), plus ≈ 4jP at the steps that
/// reorthogonalise (`SharpnessEstimate.reorthogonalisations` of them: 55 of 231 steps over case B's five
/// checkpoints); memory j·P doubles for the basis, whose storage is kept from call to call (its pages are
/// touched once per run, not once per checkpoint).
/// `dense`: the full Hessian from P products and LAPACK `dsyevr` (≈ 11P² + (4/3)P³ flops; small P only).
public final class SharpnessEstimator {
    public let risk: DifferentiableRisk
    public let tolerance: Double
    public let maxIterations: Int
    /// The absolute floor of the relative test, so that a near-zero Hessian (small initialisation)
    /// does not stall it: MATH.md §3.1 suggests `1e−14·L·Λ·max(‖w*‖^{2−2/L}, 1)`.
    public let floor: Double
    private var rng: GaussianGenerator
    /// Asked before every Hessian-vector product: true ends the run with `GradFlowError.interrupted` (its
    /// time NaN: the caller knows the time).
    public var shouldStop: () -> Bool = { false }

    public init(risk: DifferentiableRisk, tolerance: Double = 1e-8, maxIterations: Int = 300, floor: Double = 1e-14, seed: UInt64 = 0) {
        self.risk = risk
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.floor = floor
        rng = GaussianGenerator(seed: seed, stream: 3)
    }

    /// Lanczos at θ, started from `start` plus a small random component (or from a random vector), until the
    /// Ritz pairs `ends` names meet the tolerance.
    ///
    /// With `startBottom` (the previous bottom Ritz vector, `SharpnessEstimate.bottomRitzVector`) the start is
    /// `start/‖start‖ + startBottom/‖startBottom‖` plus the random component: along a trajectory both ends then
    /// begin close to their eigenvectors. The random part (1e-3 of the start's norm) guards against a start
    /// orthogonal to an extreme eigenvector; the stopping test is unchanged, so the warm start changes the cost,
    /// not the certified accuracy.
    ///
    /// With `deflating` a unit vector u (an eigenvector of H), the run is on H restricted to u⊥: u is projected
    /// out of the start and of every product, so its top Ritz value is the largest eigenvalue of H on u⊥,
    /// λ_2 when u belongs to λ_1, and λ_1 again when λ_1 is repeated (which a run on H from one start vector
    /// cannot see). Cost: 2P flops more per iteration.
    public func lanczos(at theta: [Double], start: [Double]? = nil, startBottom: [Double]? = nil,
                        converging ends: LanczosEnds = .extremes, deflating u: [Double]? = nil) throws -> SharpnessEstimate {
        let p = risk.parameterCount
        let mMax = max(1, min(p, maxIterations))
        let deflation = u.flatMap { $0.count == p ? $0 : nil }
        func deflate(_ x: inout [Double]) {
            guard let d = deflation else { return }
            cblas_daxpy(Int32(p), -cblas_ddot(Int32(p), d, 1, x, 1), d, 1, &x, 1)
        }
        var q = rng.gaussians(p)
        deflate(&q)
        if var combined = start, combined.count == p {
            let topNorm = euclideanNorm(combined)
            if topNorm > 0 { cblas_dscal(Int32(p), 1 / topNorm, &combined, 1) }
            if let bottom = startBottom, bottom.count == p {
                let bottomNorm = euclideanNorm(bottom)
                if bottomNorm > 0 { cblas_daxpy(Int32(p), 1 / bottomNorm, bottom, 1, &combined, 1) }
            }
            let startNorm = euclideanNorm(combined), randomNorm = euclideanNorm(q)
            if startNorm > 0 { q = zip(combined, q).map { $0 + 1e-3 * startNorm / randomNorm * $1 } }
        }
        deflate(&q)
        let qNorm = euclideanNorm(q)
        cblas_dscal(Int32(p), 1 / qNorm, &q, 1)
        theta.withUnsafeBufferPointer { risk.linearize(at: $0) }

        // The basis q_0, q_1, … (row-major j×P) lives in storage kept from call to call: its pages are touched
        // once per run, not once per checkpoint (a fresh j×P array costs a page fault per 4 KiB).
        if basis.capacity < mMax * p { basis.reserveCapacity(mMax * p) }  // reserved, not touched
        basis.removeAll(keepingCapacity: true)
        basis.append(contentsOf: q)
        var alpha: [Double] = [], beta: [Double] = []
        if v.count != p { v = [Double](repeating: 0, count: p) }
        if h.count < mMax { h = [Double](repeating: 0, count: mMax) }
        var products = 0
        var result = SharpnessEstimate(lambdaMax: 0, residualMax: .infinity, lambdaMin: 0, residualMin: .infinity,
                                       products: 0, converged: false, ritzVector: [])
        var pairs = ExtremeRitzPairs(bottom: 0, top: 0, bottomVector: [], topVector: [])
        // ω estimates of the basis' loss of orthogonality: omega[k] ≈ q_jᵀq_k, omegaPrevious[k] ≈ q_{j−1}ᵀq_k.
        var omega = [Double](repeating: 0, count: mMax + 2), omegaPrevious = omega, next = omega
        omega[0] = 1
        var normEstimate = 0.0, reorthogonaliseNext = false, reorthogonalisations = 0
        let semiOrthogonality = Double.ulpOfOne.squareRoot()
        for j in 0..<mMax {
            if shouldStop() { throw GradFlowError.interrupted(time: .nan) }
            basis.withUnsafeBufferPointer { b in
                let qj = UnsafeBufferPointer(rebasing: b[(j * p)..<((j + 1) * p)])
                v.withUnsafeMutableBufferPointer { risk.hessianVectorProduct(qj, into: $0, scale: 1) }
            }
            deflate(&v)
            products += 1
            let a = basis.withUnsafeBufferPointer { cblas_ddot(Int32(p), $0.baseAddress! + j * p, 1, v, 1) }
            alpha.append(a)
            basis.withUnsafeBufferPointer { b in
                cblas_daxpy(Int32(p), -a, b.baseAddress! + j * p, 1, &v, 1)
                if j > 0 { cblas_daxpy(Int32(p), -beta[j - 1], b.baseAddress! + (j - 1) * p, 1, &v, 1) }
            }
            // Partial reorthogonalisation (Simon 1984): estimate ω_{j+1,k} ≈ q_{j+1}ᵀq_k by the recurrence that
            // the computed vectors obey, and reorthogonalise against the whole basis only when some estimate exceeds
            // √ε, and again at the next step. The basis stays semi-orthogonal (|q_iᵀq_k| ≤ √ε), which keeps the
            // Ritz values and the residual estimates β_j|s_i[j]| accurate to O(ε‖H‖) (Simon's theorem), at a
            // fraction of full reorthogonalisation's 4jP flops per step.
            let raw = euclideanNorm(v)
            normEstimate = max(normEstimate, abs(a) + raw + (j > 0 ? beta[j - 1] : 0))
            var reorthogonalise = reorthogonaliseNext
            if raw > 0 {
                let psi = Double.ulpOfOne * Double(p).squareRoot() * normEstimate / raw
                for k in 0..<j {
                    var t = beta[k] * omega[k + 1] + (alpha[k] - a) * omega[k]
                    if k > 0 { t += beta[k - 1] * omega[k - 1] }
                    if j > 0 { t -= beta[j - 1] * omegaPrevious[k] }
                    next[k] = (abs(t) + 2 * Double.ulpOfOne * normEstimate) / raw
                }
                next[j] = psi
                if (0...j).contains(where: { next[$0] > semiOrthogonality }) { reorthogonalise = true }
            } else {
                reorthogonalise = false
            }
            reorthogonaliseNext = reorthogonalise && !reorthogonaliseNext
            if reorthogonalise {
                reorthogonalisations += 1
                basis.withUnsafeBufferPointer { b in
                    // Full reorthogonalisation v −= Q(Qᵀv), repeated only when the pass removed more than 1 − 1/√2 of
                    // ‖v‖ (the Daniel–Gragg–Kaufman–Stewart test: a second pass then restores orthogonality to working
                    // precision).
                    var before = raw
                    for _ in 0..<2 {
                        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(j + 1), Int32(p), 1, b.baseAddress!, Int32(p), v, 1, 0, &h, 1)
                        cblas_dgemv(CblasRowMajor, CblasTrans, Int32(j + 1), Int32(p), -1, b.baseAddress!, Int32(p), h, 1, 1, &v, 1)
                        let after = euclideanNorm(v)
                        if after >= 0.5.squareRoot() * before { break }
                        before = after
                    }
                }
                for k in 0...j { next[k] = Double.ulpOfOne * Double(p).squareRoot() }
            }
            next[j + 1] = 1
            swap(&omegaPrevious, &omega)
            swap(&omega, &next)
            let bj = euclideanNorm(v)
            let n = j + 1
            // The two extreme Ritz pairs of T_n: eigenvalues by bisection and the two eigenvectors by inverse
            // iteration (O(n) per check, against O(n³) for all eigenvectors): check every step up to 60, then every 5.
            let check = n <= 60 || n % 5 == 0 || n == mMax || bj == 0
            if check {
                pairs = try Self.extremeRitzPairs(diagonal: alpha, offDiagonal: beta, vectors: ends == .extremes ? .both : .top)
                let top = pairs.top, bottom = pairs.bottom
                let scale = max(abs(top), abs(bottom), floor)
                // β_j|s_i[j]| ignores rounding; no residual is below the rounding level ε·scale.
                let roundoff = Double.ulpOfOne * scale
                let rMax = max(bj * abs(pairs.topVector[n - 1]), roundoff)
                let rMin = pairs.bottomVector.isEmpty ? Double.infinity : max(bj * abs(pairs.bottomVector[n - 1]), roundoff)
                result = SharpnessEstimate(lambdaMax: top, residualMax: rMax, lambdaMin: bottom, residualMin: rMin,
                                           products: products, converged: false, ritzVector: [])
                let breakdown = bj <= 1e-14 * scale
                let other = ends == .extremes ? rMin : 0
                if breakdown || (rMax <= tolerance * scale && other <= tolerance * scale) {
                    result.converged = true
                    break
                }
            }
            if n == mMax || bj == 0 { break }
            beta.append(bj)
            basis.append(contentsOf: v)
            basis.withUnsafeMutableBufferPointer { cblas_dscal(Int32(p), 1 / bj, $0.baseAddress! + n * p, 1) }
        }
        // Ritz vectors y = Σ_i s[i] q_i (the top one; the bottom one too when both ends were converged).
        let n = alpha.count
        func ritzVector(_ s: [Double]) -> [Double] {
            var y = [Double](repeating: 0, count: p)
            basis.withUnsafeBufferPointer { b in
                cblas_dgemv(CblasRowMajor, CblasTrans, Int32(n), Int32(p), 1, b.baseAddress!, Int32(p), s, 1, 0, &y, 1)
            }
            return y
        }
        if pairs.topVector.count == n {
            result.ritzVector = ritzVector(pairs.topVector)
            if pairs.bottomVector.count == n { result.bottomRitzVector = ritzVector(pairs.bottomVector) }
        }
        result.reorthogonalisations = reorthogonalisations
        return result
    }

    /// The Lanczos basis, the product and the coefficients, kept from call to call.
    private var basis: [Double] = []
    private var v: [Double] = []
    private var h: [Double] = []

    /// The extreme eigenpairs of a symmetric tridiagonal matrix T_n.
    package struct ExtremeRitzPairs {
        var bottom: Double, top: Double
        /// The unit eigenvectors (n coefficients each); `bottomVector` empty when not asked for.
        var bottomVector: [Double], topVector: [Double]
    }

    /// θ_min and θ_max of the tridiagonal T_n with the given diagonal (n) and off-diagonal (n − 1 entries used),
    /// by bisection (`LAPACK.tridiagonalEigenvalues`, O(n) each), and the eigenvectors of the ends `vectors` names
    /// by inverse iteration (`dstein`, O(n) each): O(n) per check, against O(n³) for `dstev` with all vectors,
    /// which it falls back to should bisection or inverse iteration fail. Equal to `dstev`'s extreme pairs to
    /// rounding (ε‖T_n‖ for the values); tested.
    package static func extremeRitzPairs(diagonal: [Double], offDiagonal: [Double], vectors: ExtremeVectors) throws -> ExtremeRitzPairs {
        let n = diagonal.count
        precondition(n >= 1 && offDiagonal.count >= n - 1)
        func allPairs() throws -> ExtremeRitzPairs {
            let all = try LAPACK.tridiagonalEigen(diagonal: diagonal, offDiagonal: offDiagonal)
            return ExtremeRitzPairs(bottom: all.values[0], top: all.values[n - 1],
                                    bottomVector: vectors == .both ? Array(all.vectors[0..<n]) : [],
                                    topVector: Array(all.vectors[((n - 1) * n)..<(n * n)]))
        }
        if n == 1 { return ExtremeRitzPairs(bottom: diagonal[0], top: diagonal[0], bottomVector: vectors == .both ? [1] : [], topVector: [1]) }
        do {
            let low = try LAPACK.tridiagonalEigenvalues(diagonal: diagonal, offDiagonal: offDiagonal, il: 1, iu: 1)
            let high = try LAPACK.tridiagonalEigenvalues(diagonal: diagonal, offDiagonal: offDiagonal, il: n, iu: n)
            // dstein wants the eigenvalues grouped by split-off block, ascending within a block.
            var wanted = [(value: high.values[0], block: high.blocks[0], isTop: true)]
            if vectors == .both { wanted.append((low.values[0], low.blocks[0], false)) }
            wanted.sort { ($0.block, $0.value) < ($1.block, $1.value) }
            let z = try LAPACK.tridiagonalEigenvectors(diagonal: diagonal, offDiagonal: offDiagonal, values: wanted.map(\.value),
                                                       blocks: wanted.map(\.block), split: high.split)
            var pairs = ExtremeRitzPairs(bottom: low.values[0], top: high.values[0], bottomVector: [], topVector: [])
            for (index, entry) in wanted.enumerated() {
                let column = Array(z[(index * n)..<((index + 1) * n)])
                if entry.isTop { pairs.topVector = column } else { pairs.bottomVector = column }
            }
            return pairs
        } catch {
            return try allPairs()
        }
    }

    package enum ExtremeVectors { case top, both }

    /// All eigenvalues of the dense Hessian (symmetrised) by LAPACK `dsyevr`; returns the two ends.
    public func dense(at theta: [Double]) throws -> SharpnessEstimate {
        let p = risk.parameterCount
        var h = risk.hessian(at: theta)
        for i in 0..<p { for j in 0..<i { let s = (h[i * p + j] + h[j * p + i]) / 2; h[i * p + j] = s; h[j * p + i] = s } }
        let values = try LAPACK.symmetricEigenvalues(h, order: p)
        return SharpnessEstimate(lambdaMax: values[p - 1], residualMax: 0, lambdaMin: values[0], residualMin: 0,
                                 products: p, converged: true, ritzVector: [])
    }
}
