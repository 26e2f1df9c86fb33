import COpenBLAS

/// The component on ker X when n < d (MATH.md §10.4, after Min et al. 2021), for every linear network.
/// `∇_{W_1}R` has rows in range(Σ), so with `P⊥` the projector onto ker Σ:
/// - `W_1(t)P⊥ = W_1(0)P⊥` exactly: `w1_kernel_drift` = ‖(W_1(t) − W_1(0))P⊥‖_F must stay at rounding level,
///   judged against `1e-10·(1 + max_t ‖W_1(t)‖_F)`;
/// - `‖M(t)P⊥‖_F ≤ ‖B(t)‖_2 ‖W_1(0)P⊥‖_F` with `B = W_L⋯W_2` (`pᵀW_L⋯W_2` for scalar output):
///   `output_kernel_norm` beside `output_kernel_bound`, judged with a relative slack of 1e-9 and an absolute one
///   of 1e-12·max(1, ‖M*‖_F) (the rounding level of M);
/// - at a minimiser `‖M_∞ − M*‖_F = ‖M_∞P⊥‖_F`: the distance of the limit to the min-norm solution, which is
///   0 when `W_1(0)P⊥ = 0`.
///
/// Cost: one d×d eigenproblem at set-up; per output time B and M (≈ 2P(d + q) flops) and one SVD of B.
public final class KernelComponentMonitor: Monitor {
    let context: MonitorContext
    /// P⊥, d×d row-major.
    let projector: [Double]
    /// ‖W_1(0)P⊥‖_F.
    public let initialKernelNorm: Double
    private var worstDrift = 0.0, largestWeight = 0.0, worstBoundRatio = 0.0, boundHeld = true
    private var lastDistance: (toSolution: Double, kernel: Double)?

    public init?(context: MonitorContext) throws {
        let problem = context.problem, d = problem.dimension
        guard context.network.model == .linear, problem.rank < d else { return nil }
        self.context = context
        let eigen = try LAPACK.symmetricEigen(problem.covariance, order: d)
        var projector = [Double](repeating: 0, count: d * d)
        for j in 0..<(d - problem.rank) {
            let v = eigen.vectors[(j * d)..<((j + 1) * d)].map { $0 }
            for a in 0..<d { for b in 0..<d { projector[a * d + b] += v[a] * v[b] } }
        }
        self.projector = projector
        initialKernelNorm = Self.kernelNorm(context.initialWeights, projector: projector, shape: context.network.shape)
    }

    /// ‖W_1P⊥‖_F for the first block of θ.
    static func kernelNorm(_ theta: [Double], projector: [Double], shape: NetworkShape) -> Double {
        let m = shape.rows(1), d = shape.inputDimension
        var product = [Double](repeating: 0, count: m * d)
        theta.withUnsafeBufferPointer { t in
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(d), Int32(d), 1, t.baseAddress!, Int32(d),
                        projector, Int32(d), 0, &product, Int32(d))
        }
        return product.map { $0 * $0 }.reduce(0, +).squareRoot()
    }

    /// B = W_L⋯W_2 (or pᵀW_L⋯W_2), rows × m_1 row-major.
    func suffixProduct(_ theta: [Double]) -> (matrix: [Double], rows: Int) {
        let shape = context.network.shape, L = shape.depth
        var rows = shape.outputWidth
        var b: [Double]
        if let p = context.network.projection {
            b = p
            rows = 1
        } else {
            b = (0..<(rows * rows)).map { $0 / rows == $0 % rows ? 1 : 0 }
        }
        var width = shape.outputWidth
        for k in stride(from: L, through: 2, by: -1) {
            let columns = shape.columns(k)
            var next = [Double](repeating: 0, count: rows * columns)
            theta.withUnsafeBufferPointer { t in
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(columns), Int32(width), 1, b, Int32(width),
                            t.baseAddress! + shape.offset(k), Int32(columns), 0, &next, Int32(columns))
            }
            b = next
            width = columns
        }
        return (b, rows)
    }

    public var columns: [TrajectoryColumn] {
        [.scalar("w1_kernel_drift", "‖(W_1(t) − W_1(0))P⊥‖_F, P⊥ the projector onto ker X (MATH.md §10.4)"),
         .scalar("w1_norm", "‖W_1(t)‖_F (the scale of the drift's rounding level)"),
         .scalar("output_kernel_norm", "‖M(t)P⊥‖_F"),
         .scalar("output_kernel_bound", "‖W_L⋯W_2(t)‖_2 ‖W_1(0)P⊥‖_F")]
    }

    public var boundAttributes: [(String, AttributeValue)] { [("w1_initial_kernel_norm", .double(initialKernelNorm))] }

    public func measure(_ sample: MonitorSample, into row: inout MonitorRow) throws {
        let shape = context.network.shape, d = shape.inputDimension, theta = sample.weights
        var change = theta
        for i in shape.range(1) { change[i] -= context.initialWeights[i] }
        row["w1_kernel_drift"] = [Self.kernelNorm(change, projector: projector, shape: shape)]
        guard let m = sample.endToEndMap else { return }
        let q = m.count / d
        var mp = [Double](repeating: 0, count: q * d)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(q), Int32(d), Int32(d), 1, m, Int32(d), projector, Int32(d), 0, &mp, Int32(d))
        row["output_kernel_norm"] = [mp.map { $0 * $0 }.reduce(0, +).squareRoot()]
        let b = suffixProduct(theta)
        let top = shape.depth == 1 ? 1 : try LAPACK.thinSVD(b.matrix, rows: b.rows, columns: shape.rows(1)).values[0]
        row["output_kernel_bound"] = [top * initialKernelNorm]
        let norm = theta[shape.range(1)].map { $0 * $0 }.reduce(0, +).squareRoot()
        row["w1_norm"] = [norm]
        let distance = zip(m, context.problem.minimumNormSolution).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        lastDistance = (distance, row["output_kernel_norm"]![0])
    }

    public func track(_ row: inout MonitorRow) {
        if let drift = row["w1_kernel_drift"]?.first { worstDrift = max(worstDrift, drift) }
        if let norm = row["w1_norm"]?.first { largestWeight = max(largestWeight, norm) }
        if let value = row["output_kernel_norm"]?.first, let bound = row["output_kernel_bound"]?.first {
            // Values at the rounding level of M (W_1(0)P⊥ = 0 gives a bound of 0, and ‖MP⊥‖_F is then rounding
            // noise of a few ε·‖M‖) count as 0: the slack is 1e-12·max(1, ‖M*‖_F).
            let slack = 1e-12 * max(1, context.problem.solutionNorm)
            let excess = value > slack ? value : 0
            worstBoundRatio = max(worstBoundRatio, bound > 0 ? excess / bound : (excess > 0 ? .infinity : 0))
            if value > bound * (1 + 1e-9) + slack { boundHeld = false }
        }
    }

    /// The drift allowed for W_1P⊥: rounding level, `1e-10·(1 + max_t ‖W_1(t)‖_F)`.
    var driftThreshold: Double { 1e-10 * (1 + max(largestWeight, initialKernelNorm)) }

    public func verdicts(at end: MonitorSample, atMinimum: Bool) -> [MonitorVerdict] {
        var list = [
            MonitorVerdict(key: "w1_kernel_drift", title: "ker X: W_1(t)P⊥ = W_1(0)P⊥", value: worstDrift, valueDigits: 3,
                           bound: [driftThreshold], boundText: "0 (≤ \(driftThreshold, digits: 2) numerically)", margin: driftThreshold - worstDrift,
                           outcome: .judged(worstDrift <= driftThreshold),
                           note: "max over t of ‖(W_1(t) − W_1(0))P⊥‖_F; ‖W_1(0)P⊥‖_F = \(initialKernelNorm, digits: 3)"),
            MonitorVerdict(key: "output_kernel_norm", title: "ker X: ‖M(t)P⊥‖_F ≤ ‖W_L⋯W_2(t)‖_2‖W_1(0)P⊥‖_F",
                           value: worstBoundRatio, valueDigits: 4, bound: [1], boundText: "≤ 1", margin: 1 - worstBoundRatio,
                           outcome: .judged(boundHeld), note: "worst ratio of the two sides over every output time"),
        ]
        if let last = lastDistance {
            list.append(MonitorVerdict(key: "min_norm_distance", title: "ker X: ‖M_∞ − M*‖_F = ‖M_∞P⊥‖_F at a minimiser",
                                       value: last.toSolution, valueDigits: 6, bound: [last.kernel], boundText: "\(last.kernel, digits: 6)",
                                       margin: nil, outcome: atMinimum ? .info : .notApplicable,
                                       note: "distance of the limit to the min-norm solution M*; 0 when W_1(0)P⊥ = 0 (MATH.md §10.4)"))
        }
        return list
    }
}
