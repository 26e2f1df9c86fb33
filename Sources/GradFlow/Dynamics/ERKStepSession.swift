import CSundials
import CVectorKernels
import Glibc

/// A typed owner of one ARKODE ERKStep integration (explicit Runge–Kutta, the Dormand–Prince 5(4) pair
/// with FSAL, SUNDIALS' `ARKODE_DORMAND_PRINCE_7_4_5`: the same pair as scipy's `RK45`, with 6 right-hand
/// sides per accepted step and no linear algebra). For the non-stiff stretches of gradient flow (the
/// plateau near the saddle at 0, where H ≈ 0). Its stability interval on the negative real axis is
/// about [−3.3, 0], so on a stiff stretch its steps are capped near `3.3 / S` (S the sharpness).
final class ERKStepSession: ODESession {
    private var context: SUNContext?
    private var memory: UnsafeMutableRawPointer?
    let state: N_Vector
    private let ode: GradientFlowODE

    /// - Parameter stepBudget: when set, `advance` returns `.stepBudget` after this many steps
    ///   (ARKODE's `mxstep`), at the current internal time, instead of failing.
    init(ode: GradientFlowODE, initial: [Double], startTime: Double, settings: SolverSettings, tFinal: Double,
         stepBudget: Int? = nil) throws {
        self.ode = ode
        budgeted = stepBudget != nil
        let (ctx, y) = try makeSundialsState(initial, kernels: settings.vectorKernels)
        context = ctx
        state = y
        memory = ERKStepCreate(gradientFlowRightHandSide, startTime, y, ctx)
        guard memory != nil else { throw GradFlowError.solver(flagName: "ERKStepCreate", flag: -1, time: 0, message: "") }
        let userData = Unmanaged.passUnretained(ode).toOpaque()
        try check(ERKStepSetErrHandlerFn(memory, gradientFlowErrorHandler, userData))
        try check(ERKStepSetUserData(memory, userData))
        try check(ERKStepSetTableNum(memory, ARKODE_DORMAND_PRINCE_7_4_5))
        try check(ERKStepSStolerances(memory, settings.relativeTolerance, settings.absoluteTolerance))
        try useFusedErrorWeights(ode, settings) { ERKStepWFtolerances(memory, $0) }
        try check(ERKStepSetMaxNumSteps(memory, min(stepBudget ?? settings.maxSteps, Int(Int32.max))))
        try check(ERKStepSetStopTime(memory, tFinal))
        if ode.rootCount > 0 {
            try check(ERKStepRootInit(memory, Int32(ode.rootCount), gradientFlowRoot))
            var directions = rootDirections(ode)
            try check(ERKStepSetRootDirection(memory, &directions))
            try check(ERKStepSetNoInactiveRootWarn(memory))
        }
    }

    private let budgeted: Bool

    deinit {
        if memory != nil { ERKStepFree(&memory) }
        N_VDestroy(state)
        if context != nil { SUNContext_Free(&context) }
    }

    func advance(to tout: Double) throws -> (time: Double, outcome: ODEOutcome) {
        var t = 0.0
        let flag = ERKStepEvolve(memory, tout, state, &t, ARK_NORMAL)
        if flag == ARK_TOO_MUCH_WORK && budgeted { return (t, .stepBudget) }
        if flag < 0 { throw failure(flag, time: t) }
        if flag == ARK_ROOT_RETURN {
            ode.lastRootTime = t
            return (t, rootOutcome(ode) { ERKStepGetRootInfo(memory, $0) })
        }
        return (t, .reached)
    }

    /// The size of the last step taken.
    var lastStepSize: Double {
        var h = 0.0
        ERKStepGetLastStep(memory, &h)
        return h
    }

    var statistics: SolverStatistics {
        var s = SolverStatistics()
        func read(_ get: (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>) -> Int32) -> Int { sundialsCounter(memory, get) }
        s.steps = read(ERKStepGetNumSteps)
        s.rhsEvaluations = read(ERKStepGetNumRhsEvals)
        s.errorTestFailures = read(ERKStepGetNumErrTestFails)
        s.rootFunctionEvaluations = read(ERKStepGetNumGEvals)
        s.lastStepSize = lastStepSize
        s.lastOrder = 5
        return s
    }

    private func check(_ flag: Int32) throws {
        if flag < 0 { throw failure(flag, time: 0) }
    }

    private func failure(_ flag: Int32, time: Double) -> GradFlowError {
        sundialsFailure(flag, time: time, unknown: "ARK_UNKNOWN", message: ode.lastMessage, name: ERKStepGetReturnFlagName)
    }
}
