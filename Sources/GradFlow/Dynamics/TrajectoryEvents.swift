/// Functions g_j(θ) whose zero crossings are located along a trajectory, and what is told of each crossing:
/// gradient flow locates them with SUNDIALS' root finding (to the solver's tolerance, between output
/// times); gradient descent evaluates them after every step and interpolates linearly in t = kη between the
/// two steps whose values differ in sign. The monitors provide them (for example a mode strength reaching
/// half its target, MATH.md §10.2).
public protocol TrajectoryEvents: AnyObject {
    /// How many functions.
    var eventCount: Int { get }
    /// g_j(θ), j = 0…eventCount−1. Called between right-hand sides: it must not disturb the integrator's
    /// workspaces (use a risk instance of its own).
    func eventValues(at weights: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>)
    /// g_j changed sign at `time`.
    func eventCrossed(_ index: Int, at time: Double)
    /// Which crossings of g_j count: +1 only upward (g_j from negative to positive), −1 only downward, 0 both
    /// (the default).
    func direction(of index: Int) -> Int32
    /// Whether a crossing of g_j ends the integration there (gradient flow returns at the crossing with
    /// `StopReason.event`); the default: no, the integration goes on.
    func isTerminal(_ index: Int) -> Bool
}

extension TrajectoryEvents {
    public func direction(of index: Int) -> Int32 { 0 }
    public func isTerminal(_ index: Int) -> Bool { false }
}
