import GradFlow
import Testing

/// The exact third derivative ∇³R[u, u, ·] of MATH.md §11 (forward mode on the Hessian-vector product) for
/// the three risks, against three independent computations: central differences of the Hessian-vector
/// product along u, the symmetry ⟨z, ∇³R[u, u]⟩ = ⟨u, D(Hu)[z]⟩ with D(Hu)[z] by differences along z, and
/// central differences of S = λ_max(H) from LAPACK's dense eigensolver.
@Suite("Risk: third derivative and the sharpness gradient")
struct ThirdDerivativeTests {
    /// (risk, θ): the scalar deep linear network (fully connected with a vector p, residual) and the
    /// extension fixtures (q outputs, residual, GELU).
    static func cases() throws -> [(any ThirdOrderDifferentiableRisk, [Double], String)] {
        let problem = try Fixtures.problem()
        var list: [(any ThirdOrderDifferentiableRisk, [Double], String)] = []
        for (name, (network, theta)) in [("DLN [4,3,5,1]", try Fixtures.fullyConnected([4, 3, 5, 1], scale: 0.6)),
                                         ("DLN p vector", try Fixtures.fullyConnected([4, 3, 5, 3], scale: 0.6, p: [0.3, -1.2, 0.7])),
                                         ("DLN residual", try Fixtures.residual(dimension: 4, depth: 3))] {
            list.append((DeepLinearRisk(network: network, problem: problem), theta, name))
        }
        for index in ExtensionFixtures.cases.indices {
            let (risk, _, _, theta) = try ExtensionFixtures.fixture(index)
            list.append((try #require(risk as? any ThirdOrderDifferentiableRisk), theta, "\(ExtensionFixtures.cases[index])"))
        }
        return list
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    static func axpy(_ theta: [Double], _ h: Double, _ v: [Double]) -> [Double] { zip(theta, v).map { $0 + h * $1 } }

    @Test("∇³R[u,u] matches central differences of H(θ)u along u (O(h²))")
    func matchesDifferencesOfTheProduct() throws {
        for (risk, theta, name) in try Self.cases() {
            var rng = GaussianGenerator(seed: 21)
            let u = rng.gaussians(theta.count)
            let exact = risk.thirdDerivative(at: theta, along: u)
            let h = 1e-4
            let plus = risk.hessianVectorProduct(at: Self.axpy(theta, h, u), direction: u)
            let minus = risk.hessianVectorProduct(at: Self.axpy(theta, -h, u), direction: u)
            let fd = zip(plus, minus).map { ($0 - $1) / (2 * h) }
            if Reference.norm(fd) < 1e-8 {  // one layer: the risk is quadratic, its third derivative is 0
                #expect(Reference.norm(exact) < 1e-12, "\(name): ‖∇³R[u,u]‖ = \(Reference.norm(exact)) for a quadratic risk")
                continue
            }
            let error = Reference.relativeError(exact, fd)
            #expect(error < 1e-6, "\(name): relative error \(error)")
        }
    }

    @Test("⟨z, ∇³R[u,u]⟩ = ⟨u, D(Hu)[z]⟩ for directions z other than u")
    func symmetry() throws {
        for (risk, theta, name) in try Self.cases() {
            var rng = GaussianGenerator(seed: 8)
            let u = rng.gaussians(theta.count)
            let exact = risk.thirdDerivative(at: theta, along: u)
            for _ in 0..<2 {
                let z = rng.gaussians(theta.count)
                let h = 1e-4
                let plus = risk.hessianVectorProduct(at: Self.axpy(theta, h, z), direction: u)
                let minus = risk.hessianVectorProduct(at: Self.axpy(theta, -h, z), direction: u)
                let lhs = Self.dot(z, exact)
                let rhs = Self.dot(u, zip(plus, minus).map { ($0 - $1) / (2 * h) })
                #expect(abs(lhs - rhs) <= 1e-6 * max(abs(lhs), Reference.norm(exact) * Reference.norm(z)), "\(name): \(lhs) vs \(rhs)")
            }
        }
    }

    @Test("∇S = ∇³R[u,u] at the top eigenvector matches central differences of the dense λ_max")
    func sharpnessGradientMatchesDenseDifferences() throws {
        for (risk, theta, name) in try Self.cases() {
            let estimator = SharpnessEstimator(risk: risk, tolerance: 1e-13, maxIterations: theta.count)
            let top = try estimator.lanczos(at: theta)
            let u = top.ritzVector
            #expect(abs(Reference.norm(u) - 1) < 1e-10)
            let gradient = risk.thirdDerivative(at: theta, along: u)
            var rng = GaussianGenerator(seed: 4)
            let z = rng.gaussians(theta.count)
            let h = 1e-5
            let sPlus = try estimator.dense(at: Self.axpy(theta, h, z)).lambdaMax
            let sMinus = try estimator.dense(at: Self.axpy(theta, -h, z)).lambdaMax
            let fd = (sPlus - sMinus) / (2 * h)
            let exact = Self.dot(gradient, z)
            #expect(abs(exact - fd) <= 1e-5 * max(abs(fd), 1), "\(name): ⟨∇S, z⟩ = \(exact), differences of S give \(fd)")
        }
    }
}
