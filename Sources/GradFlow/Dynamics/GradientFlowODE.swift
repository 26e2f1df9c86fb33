import CSundials
import CVectorKernels

/// The gradient-flow ODE `θ' = F(θ) = −∇R(θ)` as CVODE sees it: the context passed through CVODE's
/// `user_data`, and the C callbacks (top-level, non-capturing: DESIGN.md's compiler pitfall).
///
/// Callbacks: right-hand side `F`; Jacobian-times-vector setup (linearize at y) and product
/// `J v = −H v` (MATH.md §2.3); the dense Jacobian `−H` column by column; the root function
/// `(R − R_min) − tol` for the loss-tolerance stop, followed by the event functions (`TrajectoryEvents`); and
/// an error handler that keeps CVODE's message.
final class GradientFlowODE {
    let risk: DifferentiableRisk
    let count: Int
    let lossTolerance: Double
    /// Unit vector used to assemble the dense Jacobian column by column.
    private var unit: [Double]
    /// CVODE's last error message (from its error handler).
    var lastMessage = ""
    /// Asked between right-hand sides: true stops the integration (CVODE then fails with
    /// CV_RHSFUNC_FAIL, which the integrator turns into `GradFlowError.interrupted`).
    let shouldStop: () -> Bool
    /// SPGMR's preconditioner, when the settings ask for one (created on first use).
    private(set) var preconditioner: (any NewtonPreconditioner)?
    /// Whether root 0 is the loss tolerance.
    let hasLossRoot: Bool
    /// The functions whose crossings are located after the loss root (nil: none).
    let events: (any TrajectoryEvents)?
    /// The loss root (if any) and the events.
    var rootCount: Int { (hasLossRoot ? 1 : 0) + (events?.eventCount ?? 0) }
    /// The time of the last root return (set by the session before `rootOutcome`).
    var lastRootTime = 0.0

    /// The scalar tolerances of the error weights `1/(rtol·|y_i| + atol)` (`gradientFlowErrorWeights`), set by
    /// the session that installs that callback.
    var errorWeightTolerances = (relative: 0.0, absolute: 0.0)

    /// The right-hand side in place of −∇R, when set (the central flow's edge phase).
    let field: (any VectorField)?

    init(risk: DifferentiableRisk, lossTolerance: Double, hasLossRoot: Bool = true, events: (any TrajectoryEvents)? = nil,
         field: (any VectorField)? = nil, shouldStop: @escaping () -> Bool = { false }) {
        self.risk = risk
        self.field = field
        count = risk.parameterCount
        self.lossTolerance = lossTolerance
        self.hasLossRoot = hasLossRoot
        self.events = events
        self.shouldStop = shouldStop
        unit = []
    }

    @inline(__always) func buffer(_ v: N_Vector) -> UnsafeMutableBufferPointer<Double> {
        UnsafeMutableBufferPointer(start: N_VGetArrayPointer(v), count: count)
    }

    func rightHandSide(_ y: N_Vector, _ ydot: N_Vector) -> Int32 {
        if shouldStop() { return -1 }  // unrecoverable: CVODE stops at once
        if let field { return field.velocity(at: UnsafeBufferPointer(buffer(y)), into: buffer(ydot)) ? 0 : 1 }
        risk.gradient(at: UnsafeBufferPointer(buffer(y)), into: buffer(ydot), scale: -1)
        // A non-finite field is recoverable once: CVODE retries with a smaller step, and fails with
        // CV_REPTD_RHSFUNC_ERR / CV_FIRST_RHSFUNC_ERR if it persists.
        return risk.lastGradientIsFinite ? 0 : 1
    }

    func jacobianTimesSetup(_ y: N_Vector) -> Int32 {
        risk.linearize(at: UnsafeBufferPointer(buffer(y)))
        return 0
    }

    func jacobianTimes(_ v: N_Vector, _ jv: N_Vector) -> Int32 {
        risk.hessianVectorProduct(UnsafeBufferPointer(buffer(v)), into: buffer(jv), scale: -1)
        return 0
    }

    /// Whether the risk offers a Gauss–Newton preconditioner (which is then created).
    func preparePreconditioner() -> Bool {
        if preconditioner == nil { preconditioner = risk.makeGaussNewtonPreconditioner() }
        return preconditioner != nil
    }

    /// CVODE's preconditioner setup for `I − γJ_F = I + γH`: rebuilds K at y unless CVODE says the
    /// Jacobian data may be reused (`jok`), then factors `I + 2γΣK`. Returns 1 (recoverable: CVODE retries
    /// with fresh data or a smaller step) if that matrix is singular.
    func preconditionerSetup(_ y: N_Vector, jacobianIsCurrent jok: Bool, gamma: Double) -> (status: Int32, recomputed: Bool) {
        guard let preconditioner else { return (-1, false) }
        let recompute = !jok || !preconditioner.isLinearized
        if recompute { preconditioner.linearize(at: UnsafeBufferPointer(buffer(y))) }
        return (preconditioner.factor(gamma: gamma) ? 0 : 1, recompute)
    }

    func preconditionerSolve(_ r: N_Vector, _ z: N_Vector) -> Int32 {
        guard let preconditioner else { return -1 }
        preconditioner.solve(UnsafeBufferPointer(buffer(r)), into: buffer(z))
        return 0
    }

    func denseJacobian(_ y: N_Vector, _ matrix: SUNMatrix) -> Int32 {
        risk.linearize(at: UnsafeBufferPointer(buffer(y)))
        if unit.count != count { unit = [Double](repeating: 0, count: count) }
        for j in 0..<count {
            unit[j] = 1
            let column = UnsafeMutableBufferPointer(start: SUNDenseMatrix_Column(matrix, Int64(j)), count: count)
            unit.withUnsafeBufferPointer { risk.hessianVectorProduct($0, into: column, scale: -1) }
            unit[j] = 0
        }
        return 0
    }

    /// The root functions at y: `(R − R_min) − tol` first when the loss stops the run, then the events.
    func roots(_ y: N_Vector, _ out: UnsafeMutablePointer<Double>) {
        let weights = UnsafeBufferPointer(buffer(y))
        var offset = 0
        if hasLossRoot {
            out[0] = risk.excessRisk(at: weights) - lossTolerance
            offset = 1
        }
        if let events, events.eventCount > 0 {
            events.eventValues(at: weights, into: UnsafeMutableBufferPointer(start: out + offset, count: events.eventCount))
        }
    }

    static func from(_ userData: UnsafeMutableRawPointer?) -> GradientFlowODE {
        Unmanaged<GradientFlowODE>.fromOpaque(userData!).takeUnretainedValue()
    }
}

let gradientFlowRightHandSide: CVRhsFn = { _, y, ydot, userData in
    GradientFlowODE.from(userData).rightHandSide(y!, ydot!)
}

let gradientFlowJacobianTimesSetup: CVLsJacTimesSetupFn = { _, y, _, userData in
    GradientFlowODE.from(userData).jacobianTimesSetup(y!)
}

let gradientFlowJacobianTimes: CVLsJacTimesVecFn = { v, jv, _, _, _, userData, _ in
    GradientFlowODE.from(userData).jacobianTimes(v!, jv!)
}

let gradientFlowPreconditionerSetup: CVLsPrecSetupFn = { _, y, _, jok, jcurPtr, gamma, userData in
    let (status, recomputed) = GradientFlowODE.from(userData).preconditionerSetup(y!, jacobianIsCurrent: jok != 0, gamma: gamma)
    jcurPtr?.pointee = recomputed ? 1 : 0
    return status
}

let gradientFlowPreconditionerSolve: CVLsPrecSolveFn = { _, _, _, r, z, _, _, _, userData in
    GradientFlowODE.from(userData).preconditionerSolve(r!, z!)
}

let gradientFlowDenseJacobian: CVLsJacFn = { _, y, _, matrix, userData, _, _, _ in
    GradientFlowODE.from(userData).denseJacobian(y!, matrix!)
}

let gradientFlowRoot: CVRootFn = { _, y, gout, userData in
    GradientFlowODE.from(userData).roots(y!, gout!)
    return 0
}

/// The error weights `w_i = 1/(rtol·|y_i| + atol)` in one pass of GradFlow's kernels (`gf_vector_error_weights`:
/// the same bits as SUNDIALS' four passes, two threads on a large vector); for `ERKStepWFtolerances` and
/// `CVodeWFtolerances` when GradFlow's kernels are installed.
let gradientFlowErrorWeights: ARKEwtFn = { y, weights, userData in
    let tolerances = GradientFlowODE.from(userData).errorWeightTolerances
    return gf_vector_error_weights(y, weights, tolerances.relative, tolerances.absolute)
}

let gradientFlowErrorHandler: CVErrHandlerFn = { _, _, function, message, userData in
    let ode = GradientFlowODE.from(userData)
    let where_ = function.map { String(cString: $0) } ?? ""
    let text = message.map { String(cString: $0) } ?? ""
    ode.lastMessage = where_.isEmpty ? text : "\(where_): \(text)"
}
