import COpenBLAS
import Glibc

/// The top singular triplet of a small dense matrix, with certified error bounds.
public struct TopSingularTriplet: Sendable {
    /// ρ, the computed σ_1²: a Rayleigh quotient, so `ρ ≤ σ_1² ≤ ρ + eigenvalueBound` (up to rounding).
    public var sigmaSquared: Double
    /// ‖W‖_F² − σ_1², computed without cancellation as ‖W − (Wv)vᵀ‖_F² (or ‖W − u(uᵀW)‖_F²); it exceeds the
    /// true value by at most `eigenvalueBound` (up to rounding).
    public var residualSquared: Double
    /// The top left singular vector (length m, unit norm).
    public var u: [Double]
    /// The top right singular vector (length n, unit norm); `W v ≈ σ_1 u`.
    public var v: [Double]
    /// A certified bound on σ_1² − ρ (Kato–Temple); 0 for the LAPACK path (its error is rounding only).
    public var eigenvalueBound: Double
    /// A certified bound on the sine of the angle between the iterated vector and the exact top singular
    /// vector (Davis–Kahan); 0 for the LAPACK path.
    public var angleBound: Double
    /// Lanczos steps taken (0: a direct method, `dgesdd` or Jacobi, computed the triplet).
    public var lanczosSteps: Int
    /// Whether LAPACK computed the triplet (first call, or the iteration did not certify in time).
    public var usedLAPACK: Bool
    /// Whether one-sided Jacobi (`JacobiSVD`) computed it (min(m, n) ≤ `TopSingularTripletSolver.directLimit`).
    public var usedJacobi: Bool = false
    /// A certified upper bound on σ_2 (up to rounding): the direct methods' σ_2 widened by 8kε·σ_1, or the square root of
    /// the bound μ on λ_2 that the iteration's certificate used. The next call's Weyl bound starts from it.
    public var secondSingularValueBound: Double = .infinity
}

/// Warm-started, certified Lanczos for the top singular triplet of an m×n row-major matrix W that changes
/// slowly between calls (one layer of the network at successive output times).
///
/// **Math.** Let k = min(m, n) and A = WᵀW (k = n) or WWᵀ (k = m), a k×k positive semidefinite matrix with
/// eigenvalues λ_1 ≥ λ_2 ≥ … ≥ 0, λ_i = σ_i². Lanczos with full reorthogonalisation runs on A, applied as two
/// `dgemv` (4mn flops), started from the previous call's top vector. After j steps with Ritz values
/// θ_1 ≥ … ≥ θ_j, the top Ritz vector y gets an explicit residual r = ‖Ay − ρy‖ with ρ = yᵀAy. Two upper bounds
/// on λ_2 are available without knowing the spectrum:
/// - the trace bound μ_tr = tr A − ρ − Σ_{i≥3} θ_i (Cauchy interlacing gives θ_i ≤ λ_i, and ρ ≤ λ_1);
/// - the Weyl bound μ_W = (s_2 + ‖W − W_prev‖_F)², where s_2 is a certified upper bound on σ_2(W_prev)
///   from the previous call (`dgesdd`'s σ_2, or that call's μ);
/// - when neither separates θ_1 (a flat spectrum that moved farther than its gap since the previous call: μ_W ≥ σ_1²,
///   and μ_tr counts the eigenvalues the iteration has not seen), Cholesky's μ_C: λ_2 < μ_C = (θ_1 + θ_2)/2 + δ
///   whenever μ_C I − A + 2θ_1·yyᵀ (y the top Ritz vector) factors, since subtracting a rank-one positive
///   semidefinite matrix interlaces the spectrum (`secondEigenvalueCertificate`, δ the factorisation's rounding).
///
/// With μ = min(μ_tr, μ_W, μ_C) + 8kε·tr A (rounding) and ρ > μ, λ_1 is the only eigenvalue above μ, so
/// Kato–Temple gives ρ ≤ λ_1 ≤ ρ + r²/(ρ − μ), and Davis–Kahan gives sin∠(y, v_1) ≤ r/(ρ − μ). The call is
/// accepted when r²/(ρ − μ) ≤ max(1e-10·(‖W‖_F² − ρ), 1e-20·ρ) (the rank-one residual to ten digits or
/// σ_1² to twenty) and r/(ρ − μ) ≤ `angleTolerance` (1e-10); otherwise, and on the first call, LAPACK
/// `dgesdd` computes the triplet and refreshes s_2. On case B's 50×50 layers μ_C removed every fall-back after the
/// first call (36 of 711 calls had fallen back, each after 32 steps; Lemma 2's instructions 465 M → 325 M). The other vector follows as Wy/‖Wy‖ (or Wᵀy/‖Wᵀy‖),
/// whose angle to its exact counterpart is at most (σ_2/σ_1)·tan∠(y, v_1).
///
/// **Cost.** Per Lanczos step 4mn flops for the two products with W plus O(jk) for the reorthogonalisation; the
/// tridiagonal eigenproblem (`dsterf` and `dstein`, O(j²)) from one step before the previous call's count on, then
/// only when the residual's rate says the test may pass;
/// O(mn) for ‖ΔW‖_F, the explicit residual and the rank-one residual. Measured on case B's 50×50 layers: 1 step
/// once a layer is near rank one, 15–25 steps while it is still Gaussian-like (flat spectrum, relative gap ≈ 0.1),
/// against O(mn·k) for `dgesdd` with vectors. Memory: two copies of W and `maxSteps`·k doubles of basis,
/// allocated once.
///
/// **Small layers.** When k ≤ `directLimit` every call is a one-sided Jacobi SVD (`JacobiSVD`) instead: exact to
/// rounding like the LAPACK path (both bounds 0) at any magnitude, warm-started from the previous call's rotation
/// (which `state()` then includes), and cheaper there than the iteration's fixed costs
/// (case A's 5-wide layers: 36 k instructions per Lanczos call, most of them in `dsterf`/`dstein` and BLAS call
/// overheads on 5-vectors, against 10 k for Jacobi).
public final class TopSingularTripletSolver {
    /// The largest min(rows, columns) computed by Jacobi rather than warm Lanczos (`JacobiSVD`'s O(k²·max(m, n))
    /// sweeps against the iteration's fixed costs, both warm-started along a slowly drifting square matrix:
    /// measured in `gradflow-bench --cases K`).
    public static let directLimit = 12
    public let rows: Int
    public let columns: Int
    /// The Lanczos steps allowed before falling back to LAPACK.
    public let maxSteps: Int
    /// Required certified bound on the sine of the vector's angle error.
    public let angleTolerance: Double
    /// Calls that used LAPACK, and all calls.
    public private(set) var lapackCalls = 0, calls = 0

    private let k: Int
    /// The matrix of this call and of the previous call (swapped after each call), in 64-byte-aligned
    /// storage like every BLAS operand of GradFlow's numerics, so that the bits do not depend on the allocator.
    private var current: AlignedBuffer, previous: AlignedBuffer
    private var hasPrevious = false
    /// A certified upper bound on σ_2 of the previous matrix.
    private var secondBound = 0.0
    /// The Lanczos steps the previous call took (0 after LAPACK): this call's first tridiagonal eigenproblem
    /// comes one step before, since consecutive matrices of a trajectory need about as many steps.
    private var previousSteps = 0
    private let startBuffer: AlignedBuffer, basisBuffer: AlignedBuffer, workBuffer: AlignedBuffer
    private let productBuffer: AlignedBuffer, otherBuffer: AlignedBuffer, coefficientBuffer: AlignedBuffer
    private var start: UnsafeMutablePointer<Double> { startBuffer.pointer }
    private var basis: UnsafeMutablePointer<Double> { basisBuffer.pointer }
    private var work: UnsafeMutablePointer<Double> { workBuffer.pointer }
    private var product: UnsafeMutablePointer<Double> { productBuffer.pointer }
    private var other: UnsafeMutablePointer<Double> { otherBuffer.pointer }
    private var coefficients: UnsafeMutablePointer<Double> { coefficientBuffer.pointer }
    private var alpha: [Double], beta: [Double]
    /// The direct method for k ≤ `directLimit`, and its vectors.
    private let jacobi: JacobiSVD?
    private let leftBuffer: AlignedBuffer, rightBuffer: AlignedBuffer
    /// The k×k matrix of the Cholesky certificate of λ_2 (`secondEigenvalueCertificate`), and the Ritz vector it uses.
    private let certificateBuffer: AlignedBuffer, ritzBuffer: AlignedBuffer
    /// `dstevr`'s arrays, allocated once.
    private var diagonal: [Double], offDiagonal: [Double], ritzWork: [Double], ritzIntegerWork: [Int32]

    /// - Parameters:
    ///   - maxSteps: Lanczos steps before falling back to LAPACK (at most min(rows, columns)).
    ///   - angleTolerance: the certified sine of the angle error that a warm result must reach.
    ///   - directLimit: Jacobi computes every call when min(rows, columns) is at most this (0: never).
    public init(rows: Int, columns: Int, maxSteps: Int = 32, angleTolerance: Double = 1e-10, directLimit: Int = TopSingularTripletSolver.directLimit) {
        precondition(rows >= 1 && columns >= 1)
        self.rows = rows
        self.columns = columns
        k = min(rows, columns)
        self.maxSteps = max(1, min(maxSteps, k))
        self.angleTolerance = angleTolerance
        current = AlignedBuffer(count: rows * columns)
        previous = AlignedBuffer(count: rows * columns)
        startBuffer = AlignedBuffer(count: k)
        basisBuffer = AlignedBuffer(count: self.maxSteps * k)
        workBuffer = AlignedBuffer(count: max(rows, columns))
        productBuffer = AlignedBuffer(count: k)
        otherBuffer = AlignedBuffer(count: max(rows, columns))
        coefficientBuffer = AlignedBuffer(count: self.maxSteps)
        let steps = self.maxSteps
        diagonal = .init(repeating: 0, count: steps)
        offDiagonal = .init(repeating: 0, count: steps)
        ritzWork = .init(repeating: 0, count: 5 * steps)
        ritzIntegerWork = .init(repeating: 0, count: steps)
        alpha = []
        beta = []
        alpha.reserveCapacity(self.maxSteps)
        beta.reserveCapacity(self.maxSteps)
        jacobi = k <= directLimit ? JacobiSVD(rows: rows, columns: columns) : nil
        leftBuffer = AlignedBuffer(count: jacobi == nil ? 0 : rows)
        certificateBuffer = AlignedBuffer(count: jacobi == nil ? k * k : 0)
        ritzBuffer = AlignedBuffer(count: jacobi == nil ? k : 0)
        rightBuffer = AlignedBuffer(count: jacobi == nil ? 0 : columns)
    }

    /// Forgets the previous matrix: the next call uses LAPACK.
    public func reset() { hasPrevious = false }

    /// The length of `state()`: min(rows, columns) + 3, and k² more with Jacobi (unless `savesRotation` is off).
    public var stateCount: Int { legacyStateCount + (savesRotation ? k * k : 0) }
    /// The length of the state of builds before Jacobi: k + 3.
    public var legacyStateCount: Int { k + 3 }
    /// Whether `state()` holds Jacobi's rotation (true when Jacobi computes this layer). Off, a resumed run's first
    /// Jacobi call starts cold (the same values to rounding): how a partial written before Jacobi existed is resumed.
    public var savesRotation: Bool {
        get { jacobi != nil && rotationInState }
        set { rotationInState = newValue }
    }
    private var rotationInState = true
    /// What the next call depends on besides the matrix it is given and the previous matrix:
    /// `[has a previous matrix (0 or 1), the bound on its σ_2, its Lanczos steps, its top vector (k)]`, and with
    /// Jacobi its rotation Q (k², the warm start).
    public func state() -> [Double] {
        var state: [Double] = []
        state.reserveCapacity(stateCount)
        appendState(to: &state)
        return state
    }

    /// Appends `state()` to `state` (a monitor's resume state is saved with every output row: no intermediate arrays).
    public func appendState(to state: inout [Double]) {
        state.append(hasPrevious ? 1 : 0)
        state.append(secondBound)
        state.append(Double(previousSteps))
        state.append(contentsOf: UnsafeBufferPointer(start: start, count: k))
        if savesRotation { jacobi?.appendRotation(to: &state) }
    }
    /// Restores `state()` as it was after a call on the matrix `previous` (row-major, rows×columns): the next
    /// call then gives the same bits as it would have after that call.
    public func restore(_ state: ArraySlice<Double>, previous matrix: ArraySlice<Double>) {
        guard state.count == stateCount, matrix.count == rows * columns else { return }
        let s = Array(state)
        hasPrevious = s[0] == 1
        secondBound = s[1]
        previousSteps = Int(s[2])
        for i in 0..<k { start[i] = s[3 + i] }
        if let jacobi {
            let rotation = s[(3 + k)...]
            jacobi.restore(rotation: savesRotation && hasPrevious ? rotation : [])  // none saved: the next call is cold
        }
        var i = 0
        for value in matrix { previous.pointer[i] = value; i += 1 }
    }

    /// z = A x for the k-vector x (A = WᵀW when k = n, WWᵀ otherwise).
    private func apply(_ w: UnsafePointer<Double>, _ x: UnsafePointer<Double>, into z: UnsafeMutablePointer<Double>) {
        let m = Int32(rows), n = Int32(columns)
        if k == columns {
            cblas_dgemv(CblasRowMajor, CblasNoTrans, m, n, 1, w, n, x, 1, 0, work, 1)
            cblas_dgemv(CblasRowMajor, CblasTrans, m, n, 1, w, n, work, 1, 0, z, 1)
        } else {
            cblas_dgemv(CblasRowMajor, CblasTrans, m, n, 1, w, n, x, 1, 0, work, 1)
            cblas_dgemv(CblasRowMajor, CblasNoTrans, m, n, 1, w, n, work, 1, 0, z, 1)
        }
    }

    /// The top singular triplet of the row-major `rows`×`columns` matrix at `w`.
    public func solve(_ matrix: UnsafePointer<Double>) throws -> TopSingularTriplet {
        calls += 1
        if let jacobi, let result = direct(jacobi, matrix) { return result }
        let count = rows * columns
        current.pointer.update(from: matrix, count: count)
        let w = UnsafePointer(current.pointer)
        let frobenius = cblas_ddot(Int32(count), w, 1, w, 1)
        if hasPrevious, frobenius > 0, let result = try iterate(w, frobenius: frobenius) {
            swap(&current, &previous)
            return result
        }
        return try lapack(w)
    }

    /// The Jacobi triplet (nil if its sweeps did not converge: LAPACK then computes it). Leaves the state as the
    /// LAPACK path does, so that `state()` means the same whichever computed the last call.
    private func direct(_ jacobi: JacobiSVD, _ w: UnsafePointer<Double>) -> TopSingularTriplet? {
        let u = leftBuffer.pointer, v = rightBuffer.pointer
        let top = jacobi.decompose(w, u: u, v: v, warm: hasPrevious)
        guard top.converged, top.sigmaSquared.isFinite, top.residualSquared.isFinite else { return nil }
        previous.pointer.update(from: w, count: rows * columns)
        hasPrevious = true
        secondBound = top.secondSingularValue + 8 * Double(k) * Double.ulpOfOne * top.sigma
        previousSteps = 0
        start.update(from: k == columns ? UnsafePointer(v) : UnsafePointer(u), count: k)
        return TopSingularTriplet(sigmaSquared: top.sigmaSquared, residualSquared: top.residualSquared,
                                  u: Array(UnsafeBufferPointer(start: u, count: rows)), v: Array(UnsafeBufferPointer(start: v, count: columns)),
                                  eigenvalueBound: 0, angleBound: 0, lanczosSteps: 0, usedLAPACK: false, usedJacobi: true,
                                  secondSingularValueBound: secondBound)
    }

    private func lapack(_ w: UnsafePointer<Double>) throws -> TopSingularTriplet {
        lapackCalls += 1
        let count = rows * columns
        let svd = try LAPACK.singularValues(Array(UnsafeBufferPointer(start: w, count: count)), rows: rows, columns: columns)
        let s = svd.values
        swap(&current, &previous)
        hasPrevious = true
        // dgesdd's singular values are accurate to a few ε·σ_1: widen σ_2 by that.
        secondBound = (s.count > 1 ? s[1] : 0) + 8 * Double(k) * Double.ulpOfOne * s[0]
        previousSteps = 0
        (k == columns ? svd.v : svd.u).withUnsafeBufferPointer { start.update(from: $0.baseAddress!, count: k) }
        return TopSingularTriplet(sigmaSquared: s[0] * s[0], residualSquared: s.dropFirst().map { $0 * $0 }.reduce(0, +),
                                  u: svd.u, v: svd.v, eigenvalueBound: 0, angleBound: 0, lanczosSteps: 0, usedLAPACK: true,
                                  secondSingularValueBound: secondBound)
    }

    /// Lanczos from the previous top vector; nil when it does not certify within `maxSteps`.
    private func iterate(_ w: UnsafePointer<Double>, frobenius trace: Double) throws -> TopSingularTriplet? {
        let count = rows * columns, kk = Int32(k)
        // Weyl: σ_2(W) ≤ σ_2(W_prev) + ‖W − W_prev‖_2 ≤ secondBound + ‖ΔW‖_F.
        var change = 0.0
        let before = previous.pointer
        for i in 0..<count { let d = w[i] - before[i]; change += d * d }
        let weyl = secondBound + change.squareRoot()
        let weylBound = weyl * weyl
        let roundoff = 8 * Double(k) * Double.ulpOfOne * trace

        let startNorm = cblas_dnrm2(kk, start, 1)
        guard startNorm > 0 else { return nil }
        basis.update(from: start, count: k)
        cblas_dscal(kk, 1 / startNorm, basis, 1)
        alpha.removeAll(keepingCapacity: true)
        beta.removeAll(keepingCapacity: true)
        // The tridiagonal eigenproblems are the iteration's largest fixed cost: the first one comes a step before
        // the previous call's count (consecutive matrices need about as many steps; the test does not depend on
        // when it is made, so this changes the cost only); after three checks, the next one comes when the
        // residual's observed rate of decrease says the test may pass.
        var nextCheck = max(1, previousSteps - 1), previous: (n: Int, excess: Double)?
        // The Cholesky certificate λ_2 < μ_C (`secondEigenvalueCertificate`), tried at most once per call.
        var certified = Double.infinity, certificateTried = false
        for j in 0..<maxSteps {
            let q = basis + j * k
            apply(w, q, into: product)
            let a = cblas_ddot(kk, q, 1, product, 1)
            alpha.append(a)
            cblas_daxpy(kk, -a, q, 1, product, 1)
            if j > 0 { cblas_daxpy(kk, -beta[j - 1], basis + (j - 1) * k, 1, product, 1) }
            for _ in 0..<2 {  // full reorthogonalisation, twice
                cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(j + 1), kk, 1, basis, kk, product, 1, 0, coefficients, 1)
                cblas_dgemv(CblasRowMajor, CblasTrans, Int32(j + 1), kk, -1, basis, kk, coefficients, 1, 1, product, 1)
            }
            let b = cblas_dnrm2(kk, product, 1)
            let n = j + 1
            let check = n >= nextCheck || n == maxSteps
            let breakdown = b <= Double.ulpOfOne * trace
            if check || breakdown {
                let (theta1, theta2) = try topRitzPairs(n)  // the top Ritz vector's coefficients in `coefficients`
                let estimate = b * abs(coefficients[n - 1])
                // λ_2 ≤ tr A − λ_1 − Σ_{i≥3} λ_i ≤ tr A − θ_1 − Σ_{i=3..j} θ_i (interlacing, λ_i ≥ 0), and
                // Σ_{i=3..j} θ_i = tr T_j − θ_1 − θ_2.
                let diagonalSum = alpha.reduce(0, +)
                let lower = max(diagonalSum - theta1 - theta2, 0)
                var mu = min(trace - theta1 - lower, weylBound, certified) + roundoff
                // Neither bound separates λ_1 (a flat spectrum, and a matrix that moved farther than its gap since the
                // previous call): once the residual is within 100× of passing with half the Ritz gap, certify
                // λ_2 < (θ_1 + θ_2)/2 by Cholesky instead of falling back to dgesdd.
                let midpoint = 0.5 * (theta1 + theta2)
                if !certificateTried, n >= 3, theta1 > theta2, mu > theta1 - 0.1 * (theta1 - theta2) {
                    let half = theta1 - midpoint
                    let passing = min(angleTolerance * half, (half * max(1e-10 * (trace - theta1), 1e-20 * theta1)).squareRoot())
                    if estimate <= 100 * passing {
                        certificateTried = true
                        certified = try secondEigenvalueCertificate(w, below: midpoint, ritzSteps: n, theta1: theta1, trace: trace)
                        mu = min(mu, certified + roundoff)
                    }
                }
                let gap = theta1 - mu
                // How far the residual is from the test (> 1: not yet), and when to look again.
                let allowed = gap > 0 ? min(angleTolerance * gap, (gap * max(1e-10 * (trace - theta1), 1e-20 * theta1)).squareRoot()) : 0
                let excess = allowed > 0 ? estimate / allowed : .infinity
                nextCheck = n + 1
                if n >= 3, excess > 1, excess.isFinite, let previous, previous.excess.isFinite, excess < previous.excess {
                    let rate = pow(excess / previous.excess, 1 / Double(n - previous.n))
                    let needed = log(excess) / -log(rate)
                    if needed.isFinite { nextCheck = n + max(1, min(6, Int(needed.rounded(.down)))) }
                } else if n >= 3, previous != nil {
                    nextCheck = n + 2
                }
                previous = (n, excess)
                if gap > 0, breakdown || accepts(residual: estimate, gap: gap, rho: theta1, trace: trace) {
                    // The Ritz vector y = Q s_1, then its explicit residual: the certificate rests on it.
                    cblas_dgemv(CblasRowMajor, CblasTrans, Int32(n), kk, 1, basis, kk, coefficients, 1, 0, start, 1)
                    let yNorm = cblas_dnrm2(kk, start, 1)
                    cblas_dscal(kk, 1 / yNorm, start, 1)
                    apply(w, start, into: product)
                    let rho = cblas_ddot(kk, start, 1, product, 1)
                    cblas_daxpy(kk, -rho, start, 1, product, 1)
                    let r = cblas_dnrm2(kk, product, 1)
                    let muExplicit = min(trace - rho - lower, weylBound, certified) + roundoff
                    let gapExplicit = rho - muExplicit
                    if gapExplicit > 0, accepts(residual: r, gap: gapExplicit, rho: rho, trace: trace) {
                        return finish(w, rho: rho, eigenvalueBound: r * r / gapExplicit, angleBound: r / gapExplicit, steps: n,
                                      secondBound: max(muExplicit, 0).squareRoot())
                    }
                    // The explicit residual did not confirm the estimate: the basis must continue from `product`
                    // as the recurrence left it, so recompute it (rare).
                    apply(w, basis + j * k, into: product)
                    cblas_daxpy(kk, -alpha[j], basis + j * k, 1, product, 1)
                    if j > 0 { cblas_daxpy(kk, -beta[j - 1], basis + (j - 1) * k, 1, product, 1) }
                    for _ in 0..<2 {
                        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(j + 1), kk, 1, basis, kk, product, 1, 0, coefficients, 1)
                        cblas_dgemv(CblasRowMajor, CblasTrans, Int32(j + 1), kk, -1, basis, kk, coefficients, 1, 1, product, 1)
                    }
                }
            }
            if breakdown || n == maxSteps { break }
            beta.append(b)
            cblas_dcopy(kk, product, 1, basis + n * k, 1)
            cblas_dscal(kk, 1 / b, basis + n * k, 1)
        }
        return nil
    }

    /// A certified upper bound on λ_2 of A = WᵀW (or WWᵀ), or ∞: `below` plus rounding when the Cholesky factorisation
    /// of M = μI − A + c·yyᵀ succeeds, with y the top Ritz vector of the first `ritzSteps` Lanczos vectors (its
    /// coefficients in `coefficients`), μ = `below` and c = 2θ_1.
    ///
    /// Why it holds: subtracting the positive semidefinite c·yyᵀ interlaces the spectrum, λ_1(A − c·yyᵀ) ≥ λ_2(A), for
    /// any y; M positive definite means λ_1(A − c·yyᵀ) < μ. In floating point, a Cholesky factorisation that runs to
    /// completion is that of M + ΔM with ‖ΔM‖_2 ≤ γ_{k+1}·k·‖M‖_2 (Higham, Accuracy and Stability, Thm 10.5, with
    /// ‖|R|‖_2² ≤ k‖R‖_2²); forming A costs ‖ΔA‖_2 ≤ γ_max(m,n)·‖W‖_F² and forming M 2ε·k·‖M‖ more. All are below
    /// δ = 2((k + 2)² + max(m, n))·ε·(|μ| + ‖W‖_F² + c), the margin added. A good y (a converged Ritz vector) makes
    /// λ_1(A − c·yyᵀ) ≈ λ_2, so μ halfway between θ_2 and θ_1 passes once θ_2 is near λ_2.
    ///
    /// Cost: one `dsyrk` (k²·max(m, n) flops) and one `dpotrf` (k³/3), against `dgesdd`'s O(k²·max(m, n)) with a
    /// large constant (measured on case B's 50×50 layers: about 20× cheaper).
    private func secondEigenvalueCertificate(_ w: UnsafePointer<Double>, below mu: Double, ritzSteps n: Int,
                                             theta1: Double, trace: Double) throws -> Double {
        let kk = Int32(k), a = certificateBuffer.pointer, y = ritzBuffer.pointer
        cblas_dgemv(CblasRowMajor, CblasTrans, Int32(n), kk, 1, basis, kk, coefficients, 1, 0, y, 1)  // y = Q s_1
        if k == columns {  // A = WᵀW (n×n)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, kk, Int32(rows), 1, w, Int32(columns), 0, a, kk)
        } else {  // A = WWᵀ (m×m)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, kk, Int32(columns), 1, w, Int32(columns), 0, a, kk)
        }
        let c = 2 * theta1
        for i in 0..<k {
            for j in i..<k { a[i * k + j] = (i == j ? mu : 0) - a[i * k + j] + c * y[i] * y[j] }
        }
        // The row-major upper triangle is LAPACK's column-major lower one.
        var uplo = CChar(UInt8(ascii: "L")), order = kk, lda = kk, info: Int32 = 0
        dpotrf_(&uplo, &order, a, &lda, &info, 1)
        guard info == 0 else { return .infinity }  // not positive definite (or μ too close to λ_2): no certificate
        let delta = 2 * (Double((k + 2) * (k + 2)) + Double(max(rows, columns))) * Double.ulpOfOne * (abs(mu) + trace + c)
        return mu + delta
    }

    /// The acceptance test: Davis–Kahan sin∠ ≤ r/gap within `angleTolerance`, and Kato–Temple λ_1 − ρ ≤ r²/gap
    /// within max(1e-10·(tr A − ρ), 1e-20·ρ): the rank-one residual ‖W‖_F² − σ_1² to ten digits, or σ_1² to twenty.
    private func accepts(residual r: Double, gap: Double, rho: Double, trace: Double) -> Bool {
        r <= angleTolerance * gap && r * r <= gap * max(1e-10 * (trace - rho), 1e-20 * rho)
    }

    /// The two largest eigenvalues θ_1 ≥ θ_2 of the Lanczos tridiagonal T_n (θ_2 = 0 for n = 1), and the top
    /// eigenvector's n coefficients in `coefficients`: LAPACK `dsterf` (all eigenvalues, O(n²)) and `dstein`
    /// (inverse iteration for the top one, O(n)).
    private func topRitzPairs(_ n: Int) throws -> (Double, Double) {
        if n == 1 { coefficients[0] = 1; return (alpha[0], 0) }
        for i in 0..<n { diagonal[i] = alpha[i] }
        for i in 0..<(n - 1) { offDiagonal[i] = beta[i] }
        var nn = Int32(n), info: Int32 = 0
        dsterf_(&nn, &diagonal, &offDiagonal, &info)
        guard info == 0 else { throw GradFlowError.lapack(routine: "dsterf", info: Int(info)) }
        let theta1 = diagonal[n - 1], theta2 = diagonal[n - 2]
        var one: Int32 = 1, ldz = Int32(n), block: Int32 = 1, split = Int32(n), failed: Int32 = 0
        var value = theta1
        dstein_(&nn, alpha, beta, &one, &value, &block, &split, coefficients, &ldz, &ritzWork, &ritzIntegerWork, &failed, &info)
        guard info == 0 else { throw GradFlowError.lapack(routine: "dstein", info: Int(info)) }
        return (theta1, theta2)
    }

    /// The triplet from the certified unit vector in `start`: the other vector, and the rank-one residual
    /// ‖W − σ u vᵀ‖_F² computed as ‖W − (Wv)vᵀ‖_F² (k = n) or ‖W − u(uᵀW)‖_F² (k = m), without cancellation.
    private func finish(_ w: UnsafePointer<Double>, rho: Double, eigenvalueBound: Double, angleBound: Double, steps: Int,
                        secondBound: Double) -> TopSingularTriplet {
        let m = rows, n = columns
        let y = Array(UnsafeBufferPointer(start: start, count: k))
        var residual = 0.0
        var otherVector: [Double]
        if k == n {
            cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), 1, w, Int32(n), start, 1, 0, other, 1)  // Wv (m)
            for r in 0..<m {
                let wr = other[r]
                for c in 0..<n { let e = w[r * n + c] - wr * y[c]; residual += e * e }
            }
            otherVector = Array(UnsafeBufferPointer(start: other, count: m))
        } else {
            cblas_dgemv(CblasRowMajor, CblasTrans, Int32(m), Int32(n), 1, w, Int32(n), start, 1, 0, other, 1)  // Wᵀu (n)
            for r in 0..<m {
                let ur = y[r]
                for c in 0..<n { let e = w[r * n + c] - ur * other[c]; residual += e * e }
            }
            otherVector = Array(UnsafeBufferPointer(start: other, count: n))
        }
        let norm = otherVector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { for i in otherVector.indices { otherVector[i] /= norm } }
        self.secondBound = secondBound
        previousSteps = steps
        return TopSingularTriplet(sigmaSquared: rho, residualSquared: residual, u: k == n ? otherVector : y, v: k == n ? y : otherVector,
                                  eigenvalueBound: eigenvalueBound, angleBound: angleBound, lanczosSteps: steps, usedLAPACK: false,
                                  secondSingularValueBound: secondBound)
    }
}
