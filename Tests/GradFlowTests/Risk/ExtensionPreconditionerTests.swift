import Foundation
import GradFlow
import Testing

@Suite("Extension models: Gauss–Newton preconditioners")
struct ExtensionPreconditionerTests {
    @Test("GELU Gauss–Newton preconditioner: (I + γ(2/n)JᵀJ) z = r, J the output Jacobian by differences", arguments: [3, 5])
    func geluWoodbury(_ index: Int) throws {
        let (risk, network, problem, theta) = try ExtensionFixtures.fixture(index)
        let preconditioner = try #require(risk.makeGaussNewtonPreconditioner())
        // J = ∂vec(Z_L)/∂θ (N×P, row (a, i) → a·n + i) by central differences of the loop forward pass.
        let n = problem.sampleCount, d = problem.dimension, q = problem.outputCount
        let j = PreconditionerCheck.jacobian(theta, step: 1e-5, rows: q * n) { t in  // Z_L, q×n row-major
            var z = [Double](repeating: 0, count: q * n)
            for i in 0..<n {
                let f = ModelReference.outputs(t, shape: network.shape, model: .gelu, input: problem.inputs[(i * d)..<((i + 1) * d)])
                for a in 0..<q { z[a * n + i] = f[a] }
            }
            return z
        }
        let results = PreconditionerCheck.woodburyResiduals(preconditioner, at: theta, seed: 12, gammas: [0.01, 0.7, 40.0]) { z in
            PreconditionerCheck.sandwich(j, rows: q * n, z) { $0.map { 2 / Double(n) * $0 } }  // H_GN = (2/n)JᵀJ
        }
        for result in results {
            #expect(result.factored && result.inPlace)
            #expect(result.residual < 1e-7, "γ = \(result.gamma)")  // J by differences: O(h²) ≈ 1e-10, times γ‖J‖²
        }
    }

    @Test("multi-output Gauss–Newton preconditioner: (I + γH_GN) z = r, H_GN V = J_Mᵀ(2 (J_M V) Σ) with J_M by differences", arguments: [0, 1])
    func multivariateWoodbury(_ index: Int) throws {
        let (risk, network, problem, theta) = try ExtensionFixtures.fixture(index)
        let preconditioner = try #require(risk.makeGaussNewtonPreconditioner())
        let d = problem.dimension, q = problem.outputCount
        // J_M, (q·d)×P, by central differences of M (q×d; column j is the output at e_j): exact for multilinear M.
        let j = PreconditionerCheck.jacobian(theta, step: 1e-4, rows: q * d) { t in
            var map = [Double](repeating: 0, count: q * d)
            for j in 0..<d {
                var e = [Double](repeating: 0, count: d)
                e[j] = 1
                let f = ModelReference.outputs(t, shape: network.shape, model: .linear, input: e[...])
                for a in 0..<q { map[a * d + j] = f[a] }
            }
            return map
        }
        let results = PreconditionerCheck.woodburyResiduals(preconditioner, at: theta, seed: 13, gammas: [0.01, 0.7, 40.0]) { z in
            PreconditionerCheck.sandwich(j, rows: q * d, z) { dm in  // vec(2 (J_M z) Σ)
                var g = [Double](repeating: 0, count: q * d)
                for a in 0..<q { for i in 0..<d { for k in 0..<d { g[a * d + i] += 2 * dm[a * d + k] * problem.covariance[k * d + i] } } }
                return g
            }
        }
        for result in results {
            #expect(result.factored && result.inPlace)
            #expect(result.residual < 1e-8, "γ = \(result.gamma)")
        }
    }

    @Test("the multi-output preconditioner leaves the flow unchanged and cuts SPGMR's iterations on stiff data")
    func multivariatePreconditionedFlow() throws {
        let problem = try SyntheticData(samples: 40, dimension: 6, seed: 3, conditionNumber: 1e4, outputs: 3).makeProblem()
        let network = try ModelReference.network([6, 6, 6, 3], model: .linear)
        let theta = try WeightInitialization.gaussian(scale: 0.4, zeroLayer: nil).draw(shape: network.shape, seed: 6)
        let risk = RiskFactory.makeRisk(network: network, problem: problem)
        let (plain, preconditioned) = try PreconditionerCheck.flows(risk, from: theta, schedule: OutputSchedule(tFinal: 20000, count: 10))
        #expect(Reference.relativeError(preconditioned.finalWeights, plain.finalWeights) < 1e-6)
        let (pre, none) = (preconditioned.statistics, plain.statistics)
        // Measured: 1,843 against 7,428 Krylov iterations, 1.3 against 2.9 per Newton iteration.
        #expect(Double(pre.linearIterations) <= 1.5 * Double(pre.nonlinearIterations), "\(pre.linearIterations) for \(pre.nonlinearIterations)")
        #expect(Double(pre.linearIterations) < 0.5 * Double(none.linearIterations), "\(pre.linearIterations) vs \(none.linearIterations)")
    }

    @Test("the GELU preconditioner leaves the flow unchanged and cuts the Hessian-vector products")
    func geluPreconditionedFlow() throws {
        let problem = try SyntheticData(samples: 30, dimension: 4, noise: 0, seed: 3, outputs: 2).makeProblem()
        let network = try ModelReference.network([4, 4, 4, 4, 2], model: .gelu)
        let theta = try WeightInitialization.gaussian(scale: 0.5, zeroLayer: nil).draw(shape: network.shape, seed: 6)
        let risk = RiskFactory.makeRisk(network: network, problem: problem)
        let (plain, preconditioned) = try PreconditionerCheck.flows(risk, from: theta, schedule: OutputSchedule(tFinal: 5000, count: 10))
        #expect(Reference.relativeError(preconditioned.finalWeights, plain.finalWeights) < 1e-6)
        let (pre, none) = (preconditioned.statistics, plain.statistics)
        // Measured: 3,116 against 6,831 products, 1.2 against 2.1 Krylov iterations per Newton iteration.
        #expect(Double(pre.jacobianVectorProducts) < 0.6 * Double(none.jacobianVectorProducts),
                "\(pre.jacobianVectorProducts) vs \(none.jacobianVectorProducts)")
        #expect(Double(pre.linearIterations) <= 1.5 * Double(pre.nonlinearIterations), "\(pre.linearIterations) for \(pre.nonlinearIterations)")
    }
}
