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
}
