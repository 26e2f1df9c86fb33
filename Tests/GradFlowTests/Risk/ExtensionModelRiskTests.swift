import Foundation
import GradFlow
import Testing

@Suite("Extension models (MATH.md §6.1, §6.3): GELU, gradients, Hessian-vector products, Lanczos")
struct ExtensionModelRiskTests {
    @Test("the tanh-form GELU: σ(1) as JAX computes it; σ' and σ'' against central differences")
    func activation() {
        #expect(abs(ModelReference.gelu(1) - 0.8411919906082768) < 1e-15)
        // The risk's σ, σ', σ'' are checked through the GELU gradient and HVP below; here the derivative
        // formulas of MATH.md §6.3 themselves, against differences of σ.
        let c = (2 / Double.pi).squareRoot(), kappa = 0.044715
        func derivatives(_ x: Double) -> (Double, Double) {
            let t = tanh(c * (x + kappa * x * x * x)), du = c * (1 + 3 * kappa * x * x), s = 1 - t * t
            return (0.5 * (1 + t) + 0.5 * x * s * du, s * du + 0.5 * x * s * (6 * c * kappa * x - 2 * t * du * du))
        }
        for x in stride(from: -4.0, through: 4.0, by: 0.37) {
            let h = 1e-5
            let d1 = (ModelReference.gelu(x + h) - ModelReference.gelu(x - h)) / (2 * h)
            let d2 = (ModelReference.gelu(x + h) - 2 * ModelReference.gelu(x) + ModelReference.gelu(x - h)) / (h * h)
            #expect(abs(derivatives(x).0 - d1) < 1e-9)
            #expect(abs(derivatives(x).1 - d2) < 1e-5)
        }
    }

    @Test("gradient against central differences of an independent loop loss", arguments: 0..<6)
    func gradient(_ index: Int) throws {
        let (risk, network, problem, theta) = try ExtensionFixtures.fixture(index)
        let fd = Reference.gradient(theta, step: 1e-6) { ModelReference.loss($0, shape: network.shape, model: network.model, problem: problem) }
        let g = risk.gradient(at: theta)
        #expect(Reference.relativeError(g, fd) < 1e-7, "\(ExtensionFixtures.cases[index])")
        let e = risk.evaluate(at: theta)
        let loss = ModelReference.loss(theta, shape: network.shape, model: network.model, problem: problem)
        #expect(abs(e.loss - loss) <= 1e-12 * loss)
        #expect(abs(e.gradientNormSquared - g.map { $0 * $0 }.reduce(0, +)) <= 1e-12 * e.gradientNormSquared)
        if network.model == .linear {  // R − R_min = ‖X(M − M*)ᵀ‖²/n, R_min from the least-squares solution
            #expect(abs(e.excessRisk - (loss - problem.minimumRisk)) <= 1e-10 * max(loss, 1))
        } else {
            #expect(e.excessRisk == e.loss)
        }
    }

    @Test("Hessian-vector product against central differences of the gradient, and symmetric", arguments: 0..<6)
    func hessianVectorProduct(_ index: Int) throws {
        let (risk, _, _, theta) = try ExtensionFixtures.fixture(index)
        var rng = GaussianGenerator(seed: 99)
        let v = rng.gaussians(theta.count), u = rng.gaussians(theta.count)
        let h = 1e-5
        let plus = risk.gradient(at: zip(theta, v).map { $0 + h * $1 }), minus = risk.gradient(at: zip(theta, v).map { $0 - h * $1 })
        let fd = zip(plus, minus).map { ($0 - $1) / (2 * h) }
        let hv = risk.hessianVectorProduct(at: theta, direction: v)
        #expect(Reference.relativeError(hv, fd) < 1e-7, "\(ExtensionFixtures.cases[index])")
        let hu = risk.hessianVectorProduct(at: theta, direction: u)
        let uHv = zip(u, hv).map(*).reduce(0, +), vHu = zip(v, hu).map(*).reduce(0, +)
        #expect(abs(uHv - vHu) <= 1e-12 * max(abs(uHv), 1))
    }

    @Test("q = 1 without projection computes what the scalar risk with p = [1] computes")
    func multivariateReducesToScalar() throws {
        let problem = try ExtensionFixtures.problem(dimension: 4, outputs: 1)
        let shape = try NetworkShape(widths: [4, 3, 2, 1])
        let multi = MultiOutputLinearRisk(network: try Network(shape: shape, kind: .fullyConnected, projection: nil), problem: problem)
        let scalar = DeepLinearRisk(network: try Network(shape: shape, kind: .fullyConnected, projection: [1]), problem: problem)
        let theta = try WeightInitialization.gaussian(scale: 0.8, zeroLayer: nil).draw(shape: shape, seed: 4)
        var rng = GaussianGenerator(seed: 5)
        let v = rng.gaussians(theta.count)
        #expect(Reference.relativeError(multi.gradient(at: theta), scalar.gradient(at: theta)) < 1e-14)
        #expect(Reference.relativeError(multi.hessianVectorProduct(at: theta, direction: v), scalar.hessianVectorProduct(at: theta, direction: v)) < 1e-14)
        #expect(abs(multi.evaluate(at: theta).gradientNormSquared - scalar.evaluate(at: theta).gradientNormSquared)
                <= 1e-13 * scalar.evaluate(at: theta).gradientNormSquared)
    }

    @Test("Lanczos λ_max and λ_min against the dense eigensolver", arguments: [0, 1, 3, 5])
    func lanczosAgainstDense(_ index: Int) throws {
        let (risk, _, _, theta) = try ExtensionFixtures.fixture(index)
        let estimator = SharpnessEstimator(risk: risk, tolerance: 1e-12)
        let lanczos = try estimator.lanczos(at: theta)
        let eigenvalues = try LAPACK.symmetricEigenvalues(risk.hessian(at: theta), order: theta.count)
        let top = eigenvalues.last!, bottom = eigenvalues.first!
        #expect(abs(lanczos.lambdaMax - top) <= 1e-9 * abs(top), "\(ExtensionFixtures.cases[index]): \(lanczos.lambdaMax) vs \(top)")
        #expect(abs(lanczos.lambdaMin - bottom) <= 1e-6 * abs(top), "\(ExtensionFixtures.cases[index]): \(lanczos.lambdaMin) vs \(bottom)")
    }
}
