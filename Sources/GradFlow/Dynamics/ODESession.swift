import CSundials
import CVectorKernels
import Glibc

/// How one call to `ODESession.advance(to:)` ended.
enum ODEOutcome: Equatable {
    /// The output time was reached (the state is interpolated there).
    case reached
    /// The loss-tolerance root was located first (the state is at the root).
    case root
    /// Event functions (`TrajectoryEvents`) changed sign first, at these indices (the state is at the crossing).
    case event([Int])
    /// The session took its step budget before reaching the output time; the state is the solver's
    /// current internal solution at the returned time. Only sessions created with a step budget return it.
    case stepBudget

    var isEvent: Bool { if case .event = self { return true } else { return false } }
}

/// One SUNDIALS integration of the gradient-flow ODE (`GradientFlowODE`), driven output time by output
/// time by `GradientFlowIntegrator`: CVODE (`CVodeSession`) or ARKODE's explicit Runge–Kutta stepper
/// (`ERKStepSession`). Both own their SUNDIALS objects and turn negative flags into
/// `GradFlowError.solver` with SUNDIALS' flag name.
protocol ODESession: AnyObject {
    /// The solver's state vector (its data is the stacked weights θ).
    var state: N_Vector { get }
    /// Integrates towards `tout`; returns the time reached and why it stopped there.
    func advance(to tout: Double) throws -> (time: Double, outcome: ODEOutcome)
    /// The solver's counters so far.
    var statistics: SolverStatistics { get }
}

/// The `GradFlowError.solver` for a negative SUNDIALS flag, named by the solver's own flag-name function
/// (whose string the caller frees), with the message its error handler kept.
func sundialsFailure(_ flag: Int32, time: Double, unknown: String, message: String,
                     name: (Int) -> UnsafeMutablePointer<CChar>?) -> GradFlowError {
    var flagName = unknown
    if let cName = name(Int(flag)) {
        flagName = String(cString: cName)
        free(cName)
    }
    return .solver(flagName: flagName, flag: Int(flag), time: time, message: message)
}

/// The outcome of a root return, from SUNDIALS' `rootsfound` flags (`get` fills them): the loss root (index 0
/// when `ode.hasLossRoot`) ends the run, else the events whose flags are set.
func rootOutcome(_ ode: GradientFlowODE, _ get: (UnsafeMutablePointer<Int32>) -> Int32) -> ODEOutcome {
    var found = [Int32](repeating: 0, count: ode.rootCount)
    _ = found.withUnsafeMutableBufferPointer { get($0.baseAddress!) }
    let offset = ode.hasLossRoot ? 1 : 0
    let events = (offset..<found.count).filter { found[$0] != 0 }.map { $0 - offset }
    for index in events { ode.events?.eventCrossed(index, at: ode.lastRootTime) }
    if ode.hasLossRoot, found[0] != 0 { return .root }
    return .event(events)
}

/// The root directions SUNDIALS is given: the loss root only from above (−1), events as they ask (both ways
/// by default).
func rootDirections(_ ode: GradientFlowODE) -> [Int32] {
    (ode.hasLossRoot ? [-1] : []) + (0..<(ode.events?.eventCount ?? 0)).map { ode.events!.direction(of: $0) }
}

/// One `long int` counter of a SUNDIALS integrator (0 if the getter fails).
func sundialsCounter(_ memory: UnsafeMutableRawPointer?, _ get: (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>) -> Int32) -> Int {
    var value = 0
    _ = get(memory, &value)
    return value
}

/// A new SUNDIALS context and a state vector of `initial.count` entries holding `initial`, with GradFlow's
/// kernels or SUNDIALS' own. The caller owns both (`N_VDestroy`, then `SUNContext_Free`).
func makeSundialsState(_ initial: [Double], kernels: VectorKernels) throws -> (context: SUNContext, state: N_Vector) {
    var context: SUNContext?
    guard SUNContext_Create(nil, &context) == 0, let ctx = context else {
        throw GradFlowError.solver(flagName: "SUNContext_Create", flag: -1, time: 0, message: "could not create the SUNDIALS context")
    }
    let count = Int64(initial.count)
    guard let y = kernels == .gradflow ? gf_vector_new_aligned(count, ctx) : N_VNew_Serial(count, ctx) else {
        SUNContext_Free(&context)
        throw GradFlowError.solver(flagName: "N_VNew_Serial", flag: -1, time: 0, message: "could not allocate the state vector")
    }
    initial.withUnsafeBufferPointer { N_VGetArrayPointer(y).update(from: $0.baseAddress!, count: initial.count) }
    return (ctx, y)
}

/// With GradFlow's kernels, replaces the integrator's scalar-tolerance error weights (four passes over the state
/// per step: |y|, ·rtol, +atol, 1/·) by `gradientFlowErrorWeights`, one pass with the same bits. Called after
/// the scalar tolerances and the user data are set; `install` is `ERKStepWFtolerances` or `CVodeWFtolerances`.
func useFusedErrorWeights(_ ode: GradientFlowODE, _ settings: SolverSettings, install: (ARKEwtFn) -> Int32) throws {
    guard settings.vectorKernels == .gradflow else { return }
    ode.errorWeightTolerances = (settings.relativeTolerance, settings.absoluteTolerance)
    let flag = install(gradientFlowErrorWeights)
    if flag < 0 {
        throw GradFlowError.solver(flagName: "WFtolerances", flag: Int(flag), time: 0, message: "could not set the error weights")
    }
}
