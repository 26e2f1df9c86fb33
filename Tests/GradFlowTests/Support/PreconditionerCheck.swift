import GradFlow

/// What the tests of the three Gauss–Newton preconditioners share: a Jacobian by central differences, the
/// residual of the Woodbury solve against a dense H_GN, and one flow with and one without the preconditioner.
enum PreconditionerCheck {
    /// ∂f/∂θ (rows × P, row-major) by central differences of `f` with step `h`.
    static func jacobian(_ theta: [Double], step h: Double, rows: Int, _ f: ([Double]) -> [Double]) -> [Double] {
        let count = theta.count
        var j = [Double](repeating: 0, count: rows * count)
        var t = theta
        for c in 0..<count {
            t[c] = theta[c] + h; let plus = f(t)
            t[c] = theta[c] - h; let minus = f(t)
            t[c] = theta[c]
            for row in 0..<rows { j[row * count + c] = (plus[row] - minus[row]) / (2 * h) }
        }
        return j
    }

    /// For each γ: factors, solves `z = (I + γH̃)⁻¹ r` (fresh and in place), and returns
    /// `‖(I + γH_GN) z − r‖/‖r‖` with `H_GN z` from `gaussNewton`, whether the factorisation succeeded, and
    /// whether the in-place solve gave the same bits.
    static func woodburyResiduals(_ preconditioner: any NewtonPreconditioner, at theta: [Double], seed: UInt64, gammas: [Double],
                                  gaussNewton: ([Double]) -> [Double]) -> [(gamma: Double, residual: Double, factored: Bool, inPlace: Bool)] {
        var rng = GaussianGenerator(seed: seed)
        let r = rng.gaussians(theta.count)
        theta.withUnsafeBufferPointer { preconditioner.linearize(at: $0) }
        return gammas.map { gamma in
            let factored = preconditioner.factor(gamma: gamma)
            var z = [Double](repeating: 0, count: theta.count)
            r.withUnsafeBufferPointer { rr in z.withUnsafeMutableBufferPointer { preconditioner.solve(rr, into: $0) } }
            let hz = gaussNewton(z)
            let mz = (0..<z.count).map { z[$0] + gamma * hz[$0] }
            var inPlace = r
            inPlace.withUnsafeMutableBufferPointer { buffer in preconditioner.solve(UnsafeBufferPointer(buffer), into: buffer) }
            return (gamma, Reference.relativeError(mz, r), factored, inPlace == z)
        }
    }

    /// `Jᵀ(C (J z))` for a dense J (rows × P) and a map C on ℝ^rows.
    static func sandwich(_ j: [Double], rows: Int, _ z: [Double], _ c: ([Double]) -> [Double]) -> [Double] {
        let count = z.count
        var jz = [Double](repeating: 0, count: rows)
        for row in 0..<rows { for col in 0..<count { jz[row] += j[row * count + col] * z[col] } }
        let cjz = c(jz)
        var out = [Double](repeating: 0, count: count)
        for col in 0..<count { for row in 0..<rows { out[col] += j[row * count + col] * cjz[row] } }
        return out
    }

    /// The same BDF + SPGMR flow (rtol 1e-10) without and with the Gauss–Newton preconditioner.
    static func flows(_ risk: any DifferentiableRisk, from theta: [Double], schedule: OutputSchedule) throws
        -> (plain: GradientFlowResult, preconditioned: GradientFlowResult)
    {
        func run(_ preconditioner: KrylovPreconditioner) throws -> GradientFlowResult {
            try GradientFlowIntegrator(risk: risk, settings: SolverSettings(method: .bdfKrylov, relativeTolerance: 1e-10,
                                                                            absoluteTolerance: 1e-14, preconditioner: preconditioner))
                .integrate(from: theta, schedule: schedule, lossTolerance: nil) { _, _, _ in }
        }
        return (try run(.none), try run(.gaussNewton))
    }
}
