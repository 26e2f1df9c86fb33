/// CVODE's counters for one run (the `/solver` attributes of the trajectory file).
public struct SolverStatistics: Sendable, Codable, Equatable {
    public var steps = 0
    public var rhsEvaluations = 0
    /// Right-hand sides spent by the linear solver (difference quotients); 0 with the exact J v.
    public var linearSolverRhsEvaluations = 0
    public var jacobianVectorProducts = 0
    public var jacobianEvaluations = 0
    public var linearIterations = 0
    public var linearSolverSetups = 0
    public var nonlinearIterations = 0
    public var errorTestFailures = 0
    public var nonlinearConvergenceFailures = 0
    public var linearConvergenceFailures = 0
    public var rootFunctionEvaluations = 0
    public var lastStepSize = 0.0
    public var lastOrder = 0
    /// `auto` only: the time at which the explicit stepper handed over to BDF (nil if it never did).
    public var stiffnessSwitchTime: Double?

    public init() {}

    /// Adds the counters of an earlier session of the same run (the explicit part of an `auto` run).
    mutating func add(_ earlier: SolverStatistics) {
        steps += earlier.steps
        rhsEvaluations += earlier.rhsEvaluations
        linearSolverRhsEvaluations += earlier.linearSolverRhsEvaluations
        jacobianVectorProducts += earlier.jacobianVectorProducts
        jacobianEvaluations += earlier.jacobianEvaluations
        linearIterations += earlier.linearIterations
        linearSolverSetups += earlier.linearSolverSetups
        nonlinearIterations += earlier.nonlinearIterations
        errorTestFailures += earlier.errorTestFailures
        nonlinearConvergenceFailures += earlier.nonlinearConvergenceFailures
        linearConvergenceFailures += earlier.linearConvergenceFailures
        rootFunctionEvaluations += earlier.rootFunctionEvaluations
    }

    /// Name–value pairs in a fixed order, with the attribute names of the trajectory file's `/solver`.
    public var namedValues: [(String, AttributeValue)] {
        let counters: [(String, Int)] = [
            ("steps", steps), ("rhs_evals", rhsEvaluations), ("lin_rhs_evals", linearSolverRhsEvaluations),
            ("jv_evals", jacobianVectorProducts), ("jac_evals", jacobianEvaluations), ("lin_iters", linearIterations),
            ("lin_setups", linearSolverSetups), ("nonlin_iters", nonlinearIterations), ("err_test_fails", errorTestFailures),
            ("nonlin_conv_fails", nonlinearConvergenceFailures), ("lin_conv_fails", linearConvergenceFailures),
            ("root_evals", rootFunctionEvaluations), ("last_order", lastOrder),
        ]
        return counters.map { ($0.0, AttributeValue.integer($0.1)) } + [("last_step", .double(lastStepSize))]
            + (stiffnessSwitchTime.map { [("stiffness_switch_time", AttributeValue.double($0))] } ?? [])
    }
}
