import COpenBLAS
import Foundation
import GradFlow
import Testing

@Suite("Gradient flow on CVODE")
struct GradientFlowTests {
    /// θ(T) from a run to the horizon, recording nothing.
    static func finalWeights(_ risk: DeepLinearRisk, _ theta0: [Double], tFinal: Double,
                             settings: SolverSettings, lossTolerance: Double? = nil) throws -> GradientFlowResult {
        try GradientFlowIntegrator(risk: risk, settings: settings)
            .integrate(from: theta0, schedule: OutputSchedule(tFinal: tFinal, count: 5), lossTolerance: lossTolerance) { _, _, _ in }
    }

    @Test("L = 1 matches the closed form w(t) = w* + exp(−2Σt)(w(0) − w*)", arguments: IntegrationMethod.allCases)
    func depthOneClosedForm(method: IntegrationMethod) throws {
        let problem = try Fixtures.problem(samples: 20, dimension: 4)
        let (network, theta0) = try Fixtures.fullyConnected([4, 1], scale: 1)
        let risk = DeepLinearRisk(network: network, problem: problem)
        let t = 0.7
        let result = try Self.finalWeights(risk, theta0, tFinal: t,
                                           settings: SolverSettings(method: method, relativeTolerance: 1e-11, absoluteTolerance: 1e-13))
        // Closed form through the eigendecomposition Σ = QΛQᵀ.
        let d = 4
        let (values, vectors) = try LAPACK.symmetricEigen(problem.covariance, order: d)
        let delta = zip(theta0, problem.minimumNormSolution).map { $0 - $1 }
        var expected = problem.minimumNormSolution
        for j in 0..<d {
            let q = Array(vectors[(j * d)..<((j + 1) * d)])
            let coefficient = zip(q, delta).map { $0 * $1 }.reduce(0, +) * Foundation.exp(-2 * values[j] * t)
            for i in 0..<d { expected[i] += coefficient * q[i] }
        }
        #expect(result.finalTime == t)
        #expect(Reference.relativeError(result.finalWeights, expected) < 1e-8)
    }

    @Test("Krylov, dense and Adams agree at tight tolerance")
    func methodsAgree() throws {
        let problem = try Fixtures.problem(samples: 15, dimension: 4)
        let (network, theta0) = try Fixtures.fullyConnected([4, 5, 3, 1], scale: 0.6)
        let risk = DeepLinearRisk(network: network, problem: problem)
        let finals = try IntegrationMethod.allCases.map {
            try Self.finalWeights(risk, theta0, tFinal: 5,
                                  settings: SolverSettings(method: $0, relativeTolerance: 1e-11, absoluteTolerance: 1e-14)).finalWeights
        }
        #expect(Reference.relativeError(finals[0], finals[1]) < 1e-7)
        #expect(Reference.relativeError(finals[0], finals[2]) < 1e-7)
        // And they moved: the flow is not trivially at rest.
        #expect(Reference.relativeError(finals[0], theta0) > 1e-2)
    }

    /// max_k ‖D_k(T) − D_k(0)‖_F / ‖W_k(0)W_k(0)ᵀ‖_F with D_k = W_kW_kᵀ − W_{k+1}ᵀW_{k+1}, by loops.
    static func conservationDrift(_ a: [Double], _ b: [Double], shape: NetworkShape) -> Double {
        var worst = 0.0
        for k in 1..<shape.depth {
            let d0 = Reference.imbalance(a, shape: shape, k: k), d1 = Reference.imbalance(b, shape: shape, k: k)
            let scale = shape.range(k).map { a[$0] * a[$0] }.reduce(0, +)
            worst = max(worst, Reference.norm(zip(d0, d1).map { $0 - $1 }) / scale)
        }
        return worst
    }

    @Test("the conservation law holds along a run, with a drift that shrinks with rtol")
    func conservationLawDrift() throws {
        let problem = try Fixtures.problem(samples: 20, dimension: 4)
        let (network, theta0) = try Fixtures.fullyConnected([4, 4, 4, 4, 1], scale: 0.5)
        let risk = DeepLinearRisk(network: network, problem: problem)
        let drifts = try [1e-6, 1e-10].map { rtol in
            let r = try Self.finalWeights(risk, theta0, tFinal: 20,
                                          settings: SolverSettings(relativeTolerance: rtol, absoluteTolerance: rtol * 1e-3))
            return Self.conservationDrift(theta0, r.finalWeights, shape: network.shape)
        }
        #expect(drifts[1] < 1e-7)
        #expect(drifts[1] < drifts[0] / 10)
    }

    @Test("the loss-tolerance stop is located by root finding, not overshot")
    func lossToleranceRoot() throws {
        let problem = try Fixtures.problem(samples: 20, dimension: 4)
        let (network, theta0) = try Fixtures.fullyConnected([4, 3, 1], scale: 0.5)
        let risk = DeepLinearRisk(network: network, problem: problem)
        let tol = 1e-6
        let r = try Self.finalWeights(risk, theta0, tFinal: 1e4, settings: SolverSettings(relativeTolerance: 1e-10, absoluteTolerance: 1e-13),
                                      lossTolerance: tol)
        #expect(r.stopReason == .lossTolerance)
        #expect(r.finalTime < 1e4)
        #expect(abs(r.finalEvaluation.excessRisk - tol) < 1e-3 * tol)
    }

    @Test("GradFlow's vector kernels and SUNDIALS' give the same flow", arguments: IntegrationMethod.allCases)
    func vectorKernelsAgree(method: IntegrationMethod) throws {
        let problem = try Fixtures.problem(samples: 15, dimension: 4)
        let (network, theta0) = try Fixtures.fullyConnected([4, 6, 5, 1], scale: 0.6)
        let risk = DeepLinearRisk(network: network, problem: problem)
        let finals = try VectorKernels.allCases.map {
            try Self.finalWeights(risk, theta0, tFinal: 5, settings: SolverSettings(
                method: method, relativeTolerance: 1e-10, absoluteTolerance: 1e-13, vectorKernels: $0)).finalWeights
        }
        #expect(Reference.relativeError(finals[0], finals[1]) < 1e-8)
    }

    @Test("bad solver settings are refused with the option named")
    func badSettings() throws {
        let problem = try Fixtures.problem()
        let (network, theta0) = try Fixtures.fullyConnected([4, 1])
        let risk = DeepLinearRisk(network: network, problem: problem)
        #expect(throws: GradFlowError.invalidConfiguration(field: .relativeTolerance, value: "-1.0", reason: "must be in (0, 1)")) {
            try Self.finalWeights(risk, theta0, tFinal: 1, settings: SolverSettings(relativeTolerance: -1))
        }
    }
}
