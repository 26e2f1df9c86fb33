/// The central flow's edge phase as a right-hand side (MATH.md §11):
/// `dθ/dt = −∇R − ½σ²∇S − κ(S − 2/η)∇S/‖∇S‖²`, σ² = −2⟨∇S, ∇R⟩/‖∇S‖², that is −Π∇R (Π the projector
/// orthogonal to ∇S) plus a Baumgarte term that pulls S back to 2/η: along it dS/dt = −κ(S − 2/η), so the
/// integration error in the constraint decays at rate κ = 1/η instead of accumulating. κ = 1/η is half the
/// top curvature 2/η at the edge, so it does not shorten the explicit steps.
/// Cost per evaluation: that of `EdgeGeometry.point` with gradients, plus 3P flops.
final class CentralFlowField: VectorField {
    let geometry: EdgeGeometry
    let rate: Double

    init(geometry: EdgeGeometry, learningRate: Double) {
        self.geometry = geometry
        rate = 1 / learningRate
    }

    func velocity(at theta: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) -> Bool {
        let p = geometry.point(at: theta, gradients: true)
        let coefficient = (p.alignment - rate * (p.sharpness - geometry.threshold)) / p.sharpnessGradientNormSquared
        guard coefficient.isFinite else { return false }
        let gradS = geometry.sharpnessGradient, gradR = geometry.lossGradient
        for i in 0..<out.count { out[i] = coefficient * gradS[i] - gradR[i] }
        return true
    }
}
