import GradFlow
import Testing

/// The Gauss–Newton preconditioner, the stiff synthetic data and the integrators added for speed
/// (explicit Dormand–Prince, the automatic explicit→BDF switch), each against an independent computation.
@Suite("Preconditioner, conditioned data, explicit and automatic integrators")
struct PreconditionerTests {
    @Test("(I + γH_GN) z = r for z from the Woodbury solve, H_GN = 2JᵀΣJ built densely", arguments: [[4, 3, 1], [4, 5, 2, 6, 1], [4, 4, 4, 4, 1]])
    func woodburySolve(widths: [Int]) throws {
        let problem = try Fixtures.problem()
        let (network, theta) = try Fixtures.fullyConnected(widths, scale: 0.8)
        let risk = DeepLinearRisk(network: network, problem: problem)
        let preconditioner = try #require(risk.makeGaussNewtonPreconditioner())
        let d = problem.dimension
        // J = ∂w/∂θ (d×P) by central differences of the loop end-to-end product (exact up to rounding: w is
        // multilinear in θ, so the O(h²) term of a central difference in one coordinate vanishes).
        let j = PreconditionerCheck.jacobian(theta, step: 1e-4, rows: d) { Reference.endToEnd($0, shape: network.shape, p: network.projection!) }
        let results = PreconditionerCheck.woodburyResiduals(preconditioner, at: theta, seed: 11, gammas: [0.01, 0.7, 40.0]) { z in
            PreconditionerCheck.sandwich(j, rows: d, z) { jz in  // 2ΣJz
                (0..<d).map { a in 2 * (0..<d).map { b in problem.covariance[a * d + b] * jz[b] }.reduce(0, +) }
            }
        }
        for result in results {
            #expect(result.factored)
            #expect(result.residual < 1e-8, "γ = \(result.gamma)")  // J by differences: rounding ≈ ε/h, times γ‖Σ‖‖J‖²
            #expect(result.inPlace)  // in place (z = r) gives the same
        }
    }

    @Test("the conditioned synthetic data have cond(Σ) = κ, and λ, Λ follow")
    func conditionedData() throws {
        for (n, d) in [(40, 6), (5, 8)] {
            let problem = try SyntheticData(samples: n, dimension: d, conditionNumber: 1e4).makeProblem()
            let eigenvalues = try LAPACK.symmetricEigenvalues(problem.covariance, order: d)
            let nonzero = eigenvalues.filter { $0 > 1e-12 * eigenvalues.last! }
            #expect(nonzero.count == min(n, d))
            #expect(abs(nonzero.last! - 1) < 1e-10)
            #expect(abs(nonzero.last! / nonzero.first! - 1e4) < 1e-6 * 1e4)
            #expect(abs(problem.lambdaMin - nonzero.first!) < 1e-12)
        }
        #expect(throws: GradFlowError.self) { try SyntheticData(conditionNumber: 0.5).makeProblem() }
    }

    @Test("the preconditioner does not change the flow, and cuts SPGMR's iterations on stiff data")
    func preconditionedFlow() throws {
        let problem = try SyntheticData(samples: 40, dimension: 8, conditionNumber: 1e4).makeProblem()
        let (network, theta) = try Fixtures.fullyConnected([8, 8, 8, 8, 1], scale: 0.4)
        let risk = DeepLinearRisk(network: network, problem: problem)
        let schedule = OutputSchedule(tFinal: 20000, count: 10, spacing: .log)
        let (plain, preconditioned) = try PreconditionerCheck.flows(risk, from: theta, schedule: schedule)
        #expect(Reference.relativeError(preconditioned.finalWeights, plain.finalWeights) < 1e-6)
        // Near-exact: about one Krylov iteration per Newton iteration, against 2–3 without.
        let (pre, none) = (preconditioned.statistics, plain.statistics)
        #expect(Double(pre.linearIterations) <= 1.25 * Double(pre.nonlinearIterations), "\(pre.linearIterations) for \(pre.nonlinearIterations)")
        #expect(Double(pre.linearIterations) < 0.7 * Double(none.linearIterations), "\(pre.linearIterations) vs \(none.linearIterations)")
    }

    @Test("auto stays explicit on the default problem and switches to BDF on stiff data, agreeing with BDF")
    func automaticSwitch() throws {
        func run(_ data: SyntheticData, _ widths: [Int], _ method: IntegrationMethod, _ tFinal: Double) throws -> GradientFlowResult {
            let problem = try data.makeProblem()
            let (network, theta) = try Fixtures.fullyConnected(widths, scale: 0.3)
            let risk = DeepLinearRisk(network: network, problem: problem)
            return try GradientFlowIntegrator(risk: risk, settings: SolverSettings(method: method, relativeTolerance: 1e-10, absoluteTolerance: 1e-14))
                .integrate(from: theta, schedule: OutputSchedule(tFinal: tFinal, count: 20, spacing: .log), lossTolerance: nil) { _, _, _ in }
        }
        let stiff = SyntheticData(samples: 40, dimension: 8, conditionNumber: 1e4)
        let auto = try run(stiff, [8, 8, 8, 1], .auto, 5000), bdf = try run(stiff, [8, 8, 8, 1], .bdfKrylov, 5000)
        let switchTime = try #require(auto.statistics.stiffnessSwitchTime)
        #expect(switchTime > 0 && switchTime < 5000)
        #expect(auto.statistics.jacobianVectorProducts > 0)
        #expect(Reference.relativeError(auto.finalWeights, bdf.finalWeights) < 1e-6)
        let easy = try run(SyntheticData(), [5, 5, 5, 1], .auto, 50)
        #expect(easy.statistics.stiffnessSwitchTime == nil && easy.statistics.jacobianVectorProducts == 0)
        #expect(Reference.relativeError(easy.finalWeights, try run(SyntheticData(), [5, 5, 5, 1], .erk, 50).finalWeights) == 0)
    }
}
