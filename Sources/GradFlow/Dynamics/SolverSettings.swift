/// How CVODE integrates the gradient-flow ODE `θ' = −∇R(θ)`.
public enum IntegrationMethod: String, Sendable, Codable, CaseIterable {
    /// Explicit Dormand–Prince 5(4) (ARKODE ERKStep) while the flow is not stiff, then BDF + SPGMR
    /// (`bdfKrylov`) from the first check at which the explicit steps are limited by stability: every
    /// 200 explicit steps, h·S ≥ 2 with S from 12 Lanczos iterations. The default.
    case auto
    /// Explicit Runge–Kutta, Dormand–Prince 5(4) with FSAL (ARKODE ERKStep; scipy's RK45 pair): 6
    /// right-hand sides per step, no Jacobian. For non-stiff flows (a plateau, a short horizon).
    case erk
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

extension IntegrationMethod {
    /// The SUNDIALS solvers behind the method, for summaries and the `/solver` `integrator` attribute.
    public var solverDescription: String {
        switch self {
        case .auto: return "auto (ARKODE ERKStep Dormand–Prince 5(4), then CVODE BDF + SPGMR when stiff)"
        case .erk: return "ARKODE ERKStep Dormand–Prince 5(4)"
        case .bdfKrylov: return "CVODE BDF + SPGMR (exact J v)"
        case .bdfDense: return "CVODE BDF + dense −H"
        case .adams: return "CVODE Adams + fixed point"
        }
    }
}

/// Which implementation of the N_Vector loop operations CVODE uses.
public enum VectorKernels: String, Sendable, Codable, CaseIterable {
    /// GradFlow's own kernels, compiled with -O3 (the default).
    case gradflow
    /// SUNDIALS' serial vector as Debian ships it (compiled without optimisation), for comparison.
    case sundials
}

/// SPGMR's preconditioner (`bdf-krylov`, and the BDF part of `auto`).
public enum KrylovPreconditioner: String, Sendable, Codable, CaseIterable {
    /// No preconditioner.
    case none
    /// `(I + γH_GN)⁻¹` by the Woodbury identity on the Gauss–Newton part: rank ≤ d for the scalar-output linear
    /// network (`GaussNewtonPreconditioner`, ≈ 2Pd flops per CVODE preconditioner setup), rank ≤ qd with q
    /// outputs (`MultiOutputGaussNewtonPreconditioner`, qd ≤ 2000), rank ≤ qn for a GELU network
    /// (`GELUGaussNewtonPreconditioner`, qn ≤ 2000); ≈ one Hessian-vector product per application.
    case gaussNewton = "gauss-newton"
}

/// SPGMR's orthogonalisation.
public enum GramSchmidt: String, Sendable, Codable, CaseIterable {
    /// Modified Gram–Schmidt (one dot product and one update per basis vector, in sequence).
    case modified
    /// Classical Gram–Schmidt (fused: one pass of dot products, one linear combination).
    case classical
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
    /// SPGMR's preconditioner.
    public var preconditioner: KrylovPreconditioner
    /// SPGMR's Gram–Schmidt variant.
    public var gramSchmidt: GramSchmidt
    /// CVODE's linear-solver tolerance factor `epslin` (nil: CVODE's 0.05).
    public var linearSolverToleranceFactor: Double?

    public init(method: IntegrationMethod = .auto, relativeTolerance: Double = 1e-8,
                absoluteTolerance: Double = 1e-12, maxSteps: Int = 1_000_000, krylovDimension: Int = 10,
                maxOrder: Int? = nil, vectorKernels: VectorKernels = .gradflow, preconditioner: KrylovPreconditioner = .gaussNewton,
                gramSchmidt: GramSchmidt = .modified, linearSolverToleranceFactor: Double? = nil) {
        self.method = method
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.maxSteps = maxSteps
        self.krylovDimension = krylovDimension
        self.maxOrder = maxOrder
        self.vectorKernels = vectorKernels
        self.preconditioner = preconditioner
        self.gramSchmidt = gramSchmidt
        self.linearSolverToleranceFactor = linearSolverToleranceFactor
    }

    private enum CodingKeys: String, CodingKey {
        case method, relativeTolerance, absoluteTolerance, maxSteps, krylovDimension, maxOrder, vectorKernels
        case preconditioner, gramSchmidt, linearSolverToleranceFactor
    }

    /// Decodes configurations of earlier versions too (their files lack the later settings, which then
    /// take the values those versions used).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.decode(IntegrationMethod.self, forKey: .method)
        relativeTolerance = try c.decode(Double.self, forKey: .relativeTolerance)
        absoluteTolerance = try c.decode(Double.self, forKey: .absoluteTolerance)
        maxSteps = try c.decode(Int.self, forKey: .maxSteps)
        krylovDimension = try c.decode(Int.self, forKey: .krylovDimension)
        maxOrder = try c.decodeIfPresent(Int.self, forKey: .maxOrder)
        vectorKernels = try c.decodeIfPresent(VectorKernels.self, forKey: .vectorKernels) ?? .gradflow
        preconditioner = try c.decodeIfPresent(KrylovPreconditioner.self, forKey: .preconditioner) ?? .none
        gramSchmidt = try c.decodeIfPresent(GramSchmidt.self, forKey: .gramSchmidt) ?? .modified
        linearSolverToleranceFactor = try c.decodeIfPresent(Double.self, forKey: .linearSolverToleranceFactor)
    }

    /// - Throws: `GradFlowError.invalidConfiguration` naming the field that is out of range.
    public func validate() throws {
        guard relativeTolerance.isFinite, relativeTolerance > 0, relativeTolerance < 1 else {
            throw GradFlowError.invalidConfiguration(field: .relativeTolerance, value: "\(relativeTolerance)", reason: "must be in (0, 1)")
        }
        guard absoluteTolerance.isFinite, absoluteTolerance > 0 else {
            throw GradFlowError.invalidConfiguration(field: .absoluteTolerance, value: "\(absoluteTolerance)", reason: "must be a finite number > 0")
        }
        guard maxSteps >= 1 else {
            throw GradFlowError.invalidConfiguration(field: .maxSteps, value: "\(maxSteps)", reason: "must be at least 1")
        }
        guard (1...500).contains(krylovDimension) else {
            throw GradFlowError.invalidConfiguration(field: .krylovDimension, value: "\(krylovDimension)", reason: "must be in 1…500")
        }
        if let f = linearSolverToleranceFactor {
            guard f.isFinite, f > 0, f < 1 else {
                throw GradFlowError.invalidConfiguration(field: .linearSolverToleranceFactor, value: "\(f)", reason: "must be in (0, 1)")
            }
        }
        if let q = maxOrder {
            switch method {
            case .erk:  // Dormand–Prince 5(4) throughout: no order to cap, but never a count below 1
                guard q >= 1 else {
                    throw GradFlowError.invalidConfiguration(field: .maxOrder, value: "\(q)",
                                                             reason: "must be at least 1 (erk, Dormand–Prince 5(4) throughout, does not use it)")
                }
            case .auto:  // the cap of the BDF part it may switch to
                guard (1...5).contains(q) else {
                    throw GradFlowError.invalidConfiguration(field: .maxOrder, value: "\(q)", reason: "must be in 1…5 for auto (the order of its BDF part)")
                }
            default:
                let limit = method == .adams ? 12 : 5
                guard (1...limit).contains(q) else {
                    throw GradFlowError.invalidConfiguration(field: .maxOrder, value: "\(q)", reason: "must be in 1…\(limit) for \(method.rawValue)")
                }
            }
        }
    }
}
