import CSundials
import CVectorKernels
import Glibc

/// A typed owner of one CVODE integration: the SUNDIALS context, the state vector, the integrator
/// memory and its linear or nonlinear solver, freed together. Every negative CVODE flag becomes a
/// `GradFlowError.solver` carrying CVODE's own flag name.
final class CVodeSession: ODESession {
    private var context: SUNContext?
    private var memory: UnsafeMutableRawPointer?
    let state: N_Vector
    private var linearSolver: SUNLinearSolver?
    private var matrix: SUNMatrix?
    private var nonlinearSolver: SUNNonlinearSolver?
    private let ode: GradientFlowODE
    private var maxSteps: Int

    /// Sets CVODE up for `ode` from `initial` at `startTime`.
    init(ode: GradientFlowODE, initial: [Double], startTime: Double = 0, settings: SolverSettings, tFinal: Double) throws {
        self.ode = ode
        maxSteps = settings.maxSteps
        let (ctx, y) = try makeSundialsState(initial, kernels: settings.vectorKernels)
        context = ctx
        state = y

        memory = CVodeCreate(settings.method == .adams ? CV_ADAMS : CV_BDF, ctx)
        guard memory != nil else { throw GradFlowError.solver(flagName: "CVodeCreate", flag: -1, time: 0, message: "") }
        let userData = Unmanaged.passUnretained(ode).toOpaque()
        try check(CVodeSetErrHandlerFn(memory, gradientFlowErrorHandler, userData))
        try check(CVodeInit(memory, gradientFlowRightHandSide, startTime, y))
        try check(CVodeSStolerances(memory, settings.relativeTolerance, settings.absoluteTolerance))
        try check(CVodeSetUserData(memory, userData))
        try useFusedErrorWeights(ode, settings) { CVodeWFtolerances(memory, $0) }
        try check(CVodeSetMaxNumSteps(memory, min(settings.maxSteps, Int(Int32.max))))
        try check(CVodeSetStopTime(memory, tFinal))
        if let q = settings.maxOrder { try check(CVodeSetMaxOrd(memory, Int32(q))) }

        switch settings.method {
        case .bdfKrylov, .auto, .erk:  // the integrator only asks CVODE for its own methods; auto's BDF part is bdfKrylov
            let preconditioned = settings.preconditioner == .gaussNewton && ode.preparePreconditioner()
            linearSolver = SUNLinSol_SPGMR(y, Int32(preconditioned ? SUN_PREC_LEFT : SUN_PREC_NONE), Int32(settings.krylovDimension), ctx)
            if settings.gramSchmidt == .classical { SUNLinSol_SPGMRSetGSType(linearSolver, Int32(SUN_CLASSICAL_GS)) }
            try check(CVodeSetLinearSolver(memory, linearSolver, nil))
            try check(CVodeSetJacTimes(memory, gradientFlowJacobianTimesSetup, gradientFlowJacobianTimes))
            if preconditioned {
                try check(CVodeSetPreconditioner(memory, gradientFlowPreconditionerSetup, gradientFlowPreconditionerSolve))
            }
            if let factor = settings.linearSolverToleranceFactor { try check(CVodeSetEpsLin(memory, factor)) }
        case .bdfDense:
            matrix = SUNDenseMatrix(Int64(ode.count), Int64(ode.count), ctx)
            linearSolver = SUNLinSol_Dense(y, matrix, ctx)
            try check(CVodeSetLinearSolver(memory, linearSolver, matrix))
            try check(CVodeSetJacFn(memory, gradientFlowDenseJacobian))
        case .adams:
            nonlinearSolver = SUNNonlinSol_FixedPoint(y, 0, ctx)
            try check(CVodeSetNonlinearSolver(memory, nonlinearSolver))
        }
        if ode.rootCount > 0 {
            try check(CVodeRootInit(memory, Int32(ode.rootCount), gradientFlowRoot))
            var directions = rootDirections(ode)  // the loss only from above the tolerance to below
            try check(CVodeSetRootDirection(memory, &directions))
            try check(CVodeSetNoInactiveRootWarn(memory))
        }
    }

    deinit {
        if memory != nil { CVodeFree(&memory) }
        if let linearSolver { SUNLinSolFree(linearSolver) }
        if let matrix { SUNMatDestroy(matrix) }
        if let nonlinearSolver { SUNNonlinSolFree(nonlinearSolver) }
        N_VDestroy(state)
        if context != nil { SUNContext_Free(&context) }
    }

    /// Integrates to `tout` (CV_NORMAL: the state is interpolated at `tout`), or to an earlier root.
    /// Returns the time reached.
    func advance(to tout: Double) throws -> (time: Double, outcome: ODEOutcome) {
        var t = 0.0
        let flag = CVode(memory, tout, state, &t, CV_NORMAL)
        if flag < 0 { throw failure(flag, time: t) }
        if flag == CV_ROOT_RETURN {
            ode.lastRootTime = t
            return (t, rootOutcome(ode) { CVodeGetRootInfo(memory, $0) })
        }
        return (t, .reached)
    }

    /// CVODE's counters so far.
    var statistics: SolverStatistics {
        var s = SolverStatistics()
        func read(_ get: (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>) -> Int32) -> Int { sundialsCounter(memory, get) }
        s.steps = read(CVodeGetNumSteps)
        s.rhsEvaluations = read(CVodeGetNumRhsEvals)
        s.errorTestFailures = read(CVodeGetNumErrTestFails)
        s.nonlinearIterations = read(CVodeGetNumNonlinSolvIters)
        s.nonlinearConvergenceFailures = read(CVodeGetNumNonlinSolvConvFails)
        s.rootFunctionEvaluations = read(CVodeGetNumGEvals)
        if linearSolver != nil {
            s.linearSolverSetups = read(CVodeGetNumLinSolvSetups)
            s.linearIterations = read(CVodeGetNumLinIters)
            s.linearConvergenceFailures = read(CVodeGetNumLinConvFails)
            s.jacobianVectorProducts = read(CVodeGetNumJtimesEvals)
            s.jacobianEvaluations = read(CVodeGetNumJacEvals)
            s.linearSolverRhsEvaluations = read(CVodeGetNumLinRhsEvals)
        }
        var h = 0.0
        CVodeGetLastStep(memory, &h)
        s.lastStepSize = h
        var q: Int32 = 0
        CVodeGetLastOrder(memory, &q)
        s.lastOrder = Int(q)
        return s
    }

    private func check(_ flag: Int32) throws {
        if flag < 0 { throw failure(flag, time: 0) }
    }

    private func failure(_ flag: Int32, time: Double) -> GradFlowError {
        sundialsFailure(flag, time: time, unknown: "CV_UNKNOWN", message: ode.lastMessage, name: CVodeGetReturnFlagName)
    }
}
