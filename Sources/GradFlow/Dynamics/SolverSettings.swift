/// How CVODE integrates the gradient-flow ODE `θ' = −∇R(θ)`.
public enum IntegrationMethod: String, Sendable, Codable, CaseIterable {
    /// BDF with Newton–Krylov iterations (SPGMR, no preconditioner) on the exact Jacobian-times-vector
    /// product `J v = −H v` (MATH.md §2.3). Cost per Krylov iteration: one Hessian-vector product
    /// (≈ 11P flops). The default: exact, matrix-free, fit for any P.
    case bdfKrylov = "bdf-krylov"
    /// BDF with a dense direct solver on the Jacobian `−H`, assembled from P Hessian-vector products
    /// (≈ 11P² flops) and factorised (≈ (2/3)P³ flops, in SUNDIALS' own unoptimised dense LU).
    /// For small P (up to a few hundred).
    case bdfDense = "bdf-dense"
    /// Adams–Moulton with fixed-point iteration: no Jacobian; for the non-stiff regime.
    case adams
}

/// Which implementation of the N_Vector loop operations CVODE uses.
public enum VectorKernels: String, Sendable, Codable, CaseIterable {
    /// GradFlow's own kernels, compiled with -O3 (the default).
    case gradflow
    /// SUNDIALS' serial vector as Debian ships it (compiled without optimisation), for comparison.
    case sundials
}

/// CVODE settings. Defaults are chosen so that the default problem reaches R − R_min ≤ 1e-10.
public struct SolverSettings: Sendable, Codable, Equatable {
    public var method: IntegrationMethod
    /// CVODE's relative tolerance.
    public var relativeTolerance: Double
    /// CVODE's absolute tolerance (one scalar for every weight).
    public var absoluteTolerance: Double
    /// The most internal steps between two output times (CVODE's `mxstep`).
    public var maxSteps: Int
    /// SPGMR's maximum Krylov dimension (`maxl`), for `bdf-krylov`.
    public var krylovDimension: Int
    /// The largest order CVODE may use (BDF ≤ 5, Adams ≤ 12); nil for CVODE's default.
    public var maxOrder: Int?
    /// The N_Vector loop kernels.
    public var vectorKernels: VectorKernels

    public init(method: IntegrationMethod = .bdfKrylov, relativeTolerance: Double = 1e-8,
                absoluteTolerance: Double = 1e-12, maxSteps: Int = 1_000_000, krylovDimension: Int = 10,
                maxOrder: Int? = nil, vectorKernels: VectorKernels = .gradflow) {
        self.method = method
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.maxSteps = maxSteps
        self.krylovDimension = krylovDimension
        self.maxOrder = maxOrder
        self.vectorKernels = vectorKernels
    }

    /// - Throws: `GradFlowError.invalidArgument` naming the option that is out of range.
    public func validate() throws {
        guard relativeTolerance.isFinite, relativeTolerance > 0, relativeTolerance < 1 else {
            throw GradFlowError.invalidArgument(option: "--rtol", value: "\(relativeTolerance)", reason: "must be in (0, 1)")
        }
        guard absoluteTolerance.isFinite, absoluteTolerance > 0 else {
            throw GradFlowError.invalidArgument(option: "--atol", value: "\(absoluteTolerance)", reason: "must be a finite number > 0")
        }
        guard maxSteps >= 1 else {
            throw GradFlowError.invalidArgument(option: "--max-steps", value: "\(maxSteps)", reason: "must be at least 1")
        }
        guard (1...500).contains(krylovDimension) else {
            throw GradFlowError.invalidArgument(option: "--krylov-dim", value: "\(krylovDimension)", reason: "must be in 1…500")
        }
        if let q = maxOrder {
            let limit = method == .adams ? 12 : 5
            guard (1...limit).contains(q) else {
                throw GradFlowError.invalidArgument(option: "--max-order", value: "\(q)", reason: "must be in 1…\(limit) for \(method.rawValue)")
            }
        }
    }
}
