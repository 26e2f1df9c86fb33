/// The root functions of one phase of the central flow, after the monitors' events (MATH.md §11), each
/// terminal (the integration ends at its crossing and the phase changes or the run stops):
/// - stable: `S − 2/η` upward (enter the edge);
/// - edge: `⟨∇S, ∇R⟩` upward (leave: gradient flow would flatten), `(λ_1 − λ_2) − tol·λ_1` downward (multiple
///   eigenvalues at 2/η), and, with a loss tolerance, `‖Π∇R‖² − tol` downward (a stationary point of R on
///   S = 2/η, where the flow stops moving);
/// - above: `S − 2/η` downward (back to stable), `⟨∇S, ∇R⟩` downward (gradient flow would sharpen: edge).
/// The monitors' events keep their own meaning and are passed through.
final class CentralFlowEvents: TrajectoryEvents {
    /// What a phase event means.
    enum Kind: Equatable {
        case enterEdge, leaveEdge, multipleEigenvalues, stationary, fallBelow, sharpenAbove
    }

    let monitors: (any TrajectoryEvents)?
    let phase: CentralFlowPhase
    let geometry: EdgeGeometry
    let gapTolerance: Double
    let stationaryTolerance: Double?
    let kinds: [Kind]
    /// The phase event that ended the integration.
    private(set) var crossed: Kind?

    init(monitors: (any TrajectoryEvents)?, phase: CentralFlowPhase, geometry: EdgeGeometry, gapTolerance: Double,
         stationaryTolerance: Double?) {
        self.monitors = monitors
        self.phase = phase
        self.geometry = geometry
        self.gapTolerance = gapTolerance
        self.stationaryTolerance = stationaryTolerance
        switch phase {
        case .stable: kinds = [.enterEdge]
        case .edge: kinds = [.leaveEdge, .multipleEigenvalues] + (stationaryTolerance != nil ? [.stationary] : [])
        case .above: kinds = [.fallBelow, .sharpenAbove]
        }
    }

    private var monitorCount: Int { monitors?.eventCount ?? 0 }
    var eventCount: Int { monitorCount + kinds.count }

    func eventValues(at weights: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>) {
        let m = monitorCount
        if let monitors, m > 0 { monitors.eventValues(at: weights, into: UnsafeMutableBufferPointer(rebasing: values[0..<m])) }
        let p = geometry.point(at: weights, gradients: phase != .stable, second: phase == .edge)
        for (i, kind) in kinds.enumerated() {
            switch kind {
            case .enterEdge, .fallBelow: values[m + i] = p.sharpness - geometry.threshold
            case .leaveEdge, .sharpenAbove: values[m + i] = p.alignment
            case .multipleEigenvalues: values[m + i] = Self.gap(p, tolerance: gapTolerance)
            case .stationary: values[m + i] = p.projectedGradientNormSquared - (stationaryTolerance ?? 0)
            }
        }
    }

    /// `(λ_1 − λ_2) − tol·|λ_1|`: negative once the two top eigenvalues are within the tolerance.
    static func gap(_ p: EdgeGeometry.Point, tolerance: Double) -> Double {
        (p.sharpness - p.secondEigenvalue) - tolerance * abs(p.sharpness)
    }

    func eventCrossed(_ index: Int, at time: Double) {
        if index < monitorCount { monitors?.eventCrossed(index, at: time) } else if crossed == nil { crossed = kinds[index - monitorCount] }
    }

    func direction(of index: Int) -> Int32 {
        if index < monitorCount { return monitors!.direction(of: index) }
        switch kinds[index - monitorCount] {
        case .enterEdge, .leaveEdge: return 1
        case .multipleEigenvalues, .stationary, .fallBelow, .sharpenAbove: return -1
        }
    }

    func isTerminal(_ index: Int) -> Bool { index >= monitorCount }
}
