/// The root functions of one phase of the central flow, after the monitors' events (MATH.md §11):
/// - stable phase: `S − 2/η`, terminal on an upward crossing (enter the edge phase);
/// - edge phase: `⟨∇S, ∇R⟩`, terminal on an upward crossing (leave: gradient flow would flatten), and
///   `(λ_1 − λ_2) − tol·λ_1`, terminal on a downward crossing (multiple eigenvalues at 2/η).
/// The monitors' events keep their own meaning and are passed through.
final class CentralFlowEvents: TrajectoryEvents {
    let monitors: (any TrajectoryEvents)?
    let phase: CentralFlowPhase
    let geometry: EdgeGeometry
    let gapTolerance: Double
    /// The phase event that ended the integration (0: enter or leave, 1: multiple eigenvalues).
    private(set) var crossed: Int?

    init(monitors: (any TrajectoryEvents)?, phase: CentralFlowPhase, geometry: EdgeGeometry, gapTolerance: Double) {
        self.monitors = monitors
        self.phase = phase
        self.geometry = geometry
        self.gapTolerance = gapTolerance
    }

    private var monitorCount: Int { monitors?.eventCount ?? 0 }
    var eventCount: Int { monitorCount + (phase == .stable ? 1 : 2) }

    func eventValues(at weights: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>) {
        let m = monitorCount
        if let monitors, m > 0 { monitors.eventValues(at: weights, into: UnsafeMutableBufferPointer(rebasing: values[0..<m])) }
        let p = geometry.point(at: weights, gradients: phase == .edge)
        switch phase {
        case .stable:
            values[m] = p.sharpness - geometry.threshold
        case .edge:
            values[m] = p.alignment
            values[m + 1] = Self.gap(p, tolerance: gapTolerance)
        }
    }

    /// `(λ_1 − λ_2) − tol·|λ_1|`: negative once the two top eigenvalues are within the tolerance.
    static func gap(_ p: EdgeGeometry.Point, tolerance: Double) -> Double {
        (p.sharpness - p.secondEigenvalue) - tolerance * abs(p.sharpness)
    }

    func eventCrossed(_ index: Int, at time: Double) {
        if index < monitorCount { monitors?.eventCrossed(index, at: time) } else if crossed == nil { crossed = index - monitorCount }
    }

    func direction(of index: Int) -> Int32 {
        if index < monitorCount { return monitors!.direction(of: index) }
        return index - monitorCount == 0 ? 1 : -1
    }

    func isTerminal(_ index: Int) -> Bool { index >= monitorCount }
}
