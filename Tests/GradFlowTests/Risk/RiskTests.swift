import GradFlow
import Testing

/// Gradient and Hessian-vector product of MATH.md §1–2 against finite differences of an independent
/// loop implementation of the loss, on non-square widths, a vector projection and residual networks.
@Suite("Risk: gradient and Hessian-vector product")
struct RiskTests {
    static let shapes: [[Int]] = [[4, 1], [4, 3, 1], [4, 5, 2, 6, 1], [4, 3, 6, 2, 5, 3, 1]]

    @Test("gradient matches central finite differences", arguments: shapes)
    func gradientMatchesFiniteDifferences(widths: [Int]) throws {
        let problem = try Fixtures.problem()
        let (network, theta) = try Fixtures.fullyConnected(widths, scale: 0.6)
        let risk = DeepLinearRisk(network: network, problem: problem)
        let fd = Reference.gradient(theta, step: 1e-6) {
            Reference.loss($0, shape: network.shape, p: network.projection!, problem: problem)
        }
        let g = risk.gradient(at: theta)
        #expect(Reference.relativeError(g, fd) < 1e-8)
        // ‖∇R‖² reported by evaluate is the same quantity, by an independent identity (Σ_k ‖b_k‖²‖c_k‖²).
        let normSq = g.reduce(0) { $0 + $1 * $1 }
        #expect(abs(risk.evaluate(at: theta).gradientNormSquared - normSq) <= 1e-12 * normSq)
    }

    @Test("lastGradientIsFinite: true for finite weights; false when a weight, or a b_k or c_k beyond 1e154 (its square overflows), is not finite")
    func lastGradientFiniteness() throws {
        let problem = try Fixtures.problem()
        let (network, theta) = try Fixtures.fullyConnected([4, 3, 6, 1], scale: 0.6)
        let risk = DeepLinearRisk(network: network, problem: problem)
        _ = risk.gradient(at: theta)
        #expect(risk.lastGradientIsFinite)
        for (index, value) in [(0, Double.nan), (theta.count - 1, .infinity), (5, 1e200)] {
            var bad = theta
            bad[index] = value
            _ = risk.gradient(at: bad)
            #expect(!risk.lastGradientIsFinite, "θ[\(index)] = \(value)")
        }
        _ = risk.gradient(at: theta)
        #expect(risk.lastGradientIsFinite)
    }

    @Test("gradient with a vector projection p and on a residual network")
    func gradientVectorProjectionAndResidual() throws {
        let problem = try Fixtures.problem()
        for (network, theta) in [try Fixtures.fullyConnected([4, 3, 5, 3], scale: 0.6, p: [0.3, -1.2, 0.7]),
                                 try Fixtures.residual(dimension: 4, depth: 3)] {
            let risk = DeepLinearRisk(network: network, problem: problem)
            let fd = Reference.gradient(theta, step: 1e-6) {
                Reference.loss($0, shape: network.shape, p: network.projection!, problem: problem)
            }
            #expect(Reference.relativeError(risk.gradient(at: theta), fd) < 1e-8)
        }
    }

    @Test("Hessian-vector product matches finite differences of the gradient", arguments: shapes)
    func hvpMatchesFiniteDifferences(widths: [Int]) throws {
        let problem = try Fixtures.problem()
        let (network, theta) = try Fixtures.fullyConnected(widths, scale: 0.6)
        let risk = DeepLinearRisk(network: network, problem: problem)
        var rng = GaussianGenerator(seed: 99)
        let v = rng.gaussians(theta.count)
        let hv = risk.hessianVectorProduct(at: theta, direction: v)
        let step = 1e-5
        let plus = risk.gradient(at: zip(theta, v).map { $0 + step * $1 })
        let minus = risk.gradient(at: zip(theta, v).map { $0 - step * $1 })
        let fd = zip(plus, minus).map { ($0 - $1) / (2 * step) }
        #expect(Reference.relativeError(hv, fd) < 1e-7)
    }

    @Test("Hessian-vector product on a residual network and with a vector p")
    func hvpResidualAndVectorProjection() throws {
        let problem = try Fixtures.problem()
        for (network, theta) in [try Fixtures.residual(dimension: 4, depth: 4),
                                 try Fixtures.fullyConnected([4, 3, 5, 3], scale: 0.6, p: [0.3, -1.2, 0.7])] {
            let risk = DeepLinearRisk(network: network, problem: problem)
            var rng = GaussianGenerator(seed: 5)
            let v = rng.gaussians(theta.count)
            let hv = risk.hessianVectorProduct(at: theta, direction: v, scale: -1)
            let step = 1e-5
            let plus = risk.gradient(at: zip(theta, v).map { $0 + step * $1 })
            let minus = risk.gradient(at: zip(theta, v).map { $0 - step * $1 })
            // scale −1 gives the CVODE Jacobian-vector product J v = −H v (MATH.md §2.3).
            let fd = zip(plus, minus).map { -($0 - $1) / (2 * step) }
            #expect(Reference.relativeError(hv, fd) < 1e-7)
        }
    }

    @Test("dense Hessian is symmetric and matches its Hessian-vector products")
    func denseHessianSymmetric() throws {
        let problem = try Fixtures.problem()
        let (network, theta) = try Fixtures.fullyConnected([4, 3, 2, 1], scale: 0.7)
        let risk = DeepLinearRisk(network: network, problem: problem)
        let h = risk.hessian(at: theta)
        let p = theta.count
        var asym = 0.0, scale = 0.0
        for i in 0..<p { for j in 0..<p {
            asym = max(asym, abs(h[i * p + j] - h[j * p + i])); scale = max(scale, abs(h[i * p + j]))
        } }
        #expect(asym <= 1e-13 * scale)
        // An independent dense Hessian: finite differences of the finite-difference gradient is too
        // noisy; use FD of the analytic gradient, column by column.
        let step = 1e-5
        for j in [0, p / 2, p - 1] {
            var tp = theta, tm = theta
            tp[j] += step; tm[j] -= step
            let col = zip(risk.gradient(at: tp), risk.gradient(at: tm)).map { ($0 - $1) / (2 * step) }
            #expect(Reference.relativeError(Array(h[(j * p)..<((j + 1) * p)]), col) < 1e-7)
        }
    }

    @Test("excess risk equals loss − R_min away from the minimum, and is ≥ 0")
    func excessRiskConsistent() throws {
        let problem = try Fixtures.problem()
        let (network, theta) = try Fixtures.fullyConnected([4, 3, 1], scale: 0.5)
        let risk = DeepLinearRisk(network: network, problem: problem)
        let e = risk.evaluate(at: theta)
        let reference = Reference.loss(theta, shape: network.shape, p: network.projection!, problem: problem)
        #expect(abs(e.loss - reference) <= 1e-13 * reference)
        #expect(abs(e.excessRisk - (reference - problem.minimumRisk)) <= 1e-12 * reference)
        #expect(theta.withUnsafeBufferPointer { risk.excessRisk(at: $0) } == e.excessRisk)
    }
}
