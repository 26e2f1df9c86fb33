import GradFlow
import Testing

/// The central flow of MATH.md §11 against independent computations: gradient flow itself where the edge is
/// never reached, the dense eigensolver for S along the edge phase, a tightly integrated gradient flow for the
/// switch time, a tighter tolerance for the edge phase, and gradient descent at small η.
@Suite("Central flow: gradient descent at the edge of stability as an ODE")
struct CentralFlowTests {
    /// The paper's default data (n = 50, d = 5), L = 5, widths 5, Gaussian s: S(0) = 8.23 at s = 0.35.
    static func problem(scale: Double = 0.35) throws -> (Network, RegressionProblem, [Double]) {
        let problem = try SyntheticData().makeProblem()
        let shape = try NetworkShape(widths: [5, 5, 5, 5, 5, 1])
        let network = try Network(shape: shape, kind: .fullyConnected, projection: [1])
        let theta = try WeightInitialization.gaussian(scale: scale, zeroLayer: nil).draw(shape: shape, seed: 20240521)
        return (network, problem, theta)
    }

    struct Row { var time: Double; var weights: [Double]; var loss: Double; var central: CentralFlowRow? }

    static func central(eta: Double, rtol: Double = 1e-8, tFinal: Double = 20, gap: Double = CentralFlowSettings.defaultGapTolerance,
                        method: IntegrationMethod = .auto) throws -> (CentralFlowResult, [Row]) {
        let (network, problem, theta) = try problem()
        let settings = SolverSettings(method: method, relativeTolerance: rtol, absoluteTolerance: rtol * 1e-4)
        let integrator = try CentralFlowIntegrator(network: network, problem: problem, settings: settings,
                                                   central: CentralFlowSettings(learningRate: eta, gapTolerance: gap))
        var rows: [Row] = []
        let result = try integrator.integrate(from: theta, schedule: OutputSchedule(tFinal: tFinal, count: 40, spacing: .uniform),
                                              lossTolerance: nil) { t, w, e, c in
            rows.append(Row(time: t, weights: Array(w), loss: e.loss, central: c))
        }
        return (result, rows)
    }

    static func flow(rtol: Double = 1e-8, tFinal: Double = 20, times: [Double]? = nil, method: IntegrationMethod = .auto) throws -> [Row] {
        let (network, problem, theta) = try problem()
        let settings = SolverSettings(method: method, relativeTolerance: rtol, absoluteTolerance: rtol * 1e-4)
        let integrator = GradientFlowIntegrator(risk: RiskFactory.makeRisk(network: network, problem: problem), settings: settings)
        var rows: [Row] = []
        let schedule = times.map { OutputSchedule(times: $0) } ?? OutputSchedule(tFinal: tFinal, count: 40, spacing: .uniform)
        _ = try integrator.integrate(from: theta, schedule: schedule, lossTolerance: nil) { t, w, e in
            rows.append(Row(time: t, weights: Array(w), loss: e.loss))
        }
        return rows
    }

    /// Every eigenvalue of the symmetrised dense Hessian, ascending (LAPACK dsyevr).
    static func denseSpectrum(_ weights: [Double]) throws -> [Double] {
        let (network, problem, _) = try problem()
        let p = weights.count
        var h = RiskFactory.makeRisk(network: network, problem: problem).hessian(at: weights)
        for i in 0..<p { for j in 0..<i { let s = (h[i * p + j] + h[j * p + i]) / 2; h[i * p + j] = s; h[j * p + i] = s } }
        return try LAPACK.symmetricEigenvalues(h, order: p)
    }

    static func denseSharpness(_ weights: [Double]) throws -> Double {
        let (network, problem, _) = try problem()
        return try SharpnessEstimator(risk: RiskFactory.makeRisk(network: network, problem: problem)).dense(at: weights).lambdaMax
    }

    @Test("never reaching 2/η, the central flow is gradient flow bit for bit", arguments: [IntegrationMethod.auto, .bdfKrylov])
    func noEdgeIsGradientFlow(method: IntegrationMethod) throws {
        let (result, rows) = try Self.central(eta: 0.01, method: method)  // 2/η = 200, far above S
        let flow = try Self.flow(method: method)
        #expect(result.switches.isEmpty && result.finalPhase == .stable)
        #expect(rows.count == flow.count && rows.count == 41)
        for (a, b) in zip(rows, flow) {
            #expect(a.time == b.time && a.weights == b.weights && a.loss == b.loss)
            #expect(a.central?.phase == .stable && a.central?.sigmaSquared == 0)
        }
    }

    @Test("at the edge S stays at 2/η to the solver tolerance (dense eigensolver), R decreases, σ² > 0")
    func edgePhaseHoldsTheConstraint() throws {
        let eta = 0.16
        let (result, rows) = try Self.central(eta: eta)
        #expect(result.switches.first?.phase == .edge)
        #expect(result.finalPhase == .edge && result.stopReason == .horizon)
        let edge = rows.filter { $0.central?.phase == .edge }
        #expect(edge.count >= 30)
        for row in edge {
            let c = try #require(row.central)
            let spectrum = try Self.denseSpectrum(row.weights), dense = spectrum[spectrum.count - 1]
            #expect(abs(dense - 2 / eta) <= 1e-6 * (2 / eta), "t = \(row.time): S = \(dense)")
            #expect(abs(c.sharpness - dense) <= 1e-9 * dense)
            #expect(abs(c.secondEigenvalue - spectrum[spectrum.count - 2]) <= 1e-6 * dense, "λ_2 = \(c.secondEigenvalue)")
            #expect(c.sigmaSquared > 0)
            #expect(c.averagedLoss == row.loss + c.sigmaSquared / eta)
        }
        for (a, b) in zip(rows, rows.dropFirst()) { #expect(b.loss <= a.loss, "R rose from t = \(a.time) to \(b.time)") }
        // Before the switch S < 2/η (the stable rows).
        for row in rows where row.central?.phase == .stable { #expect(try Self.denseSharpness(row.weights) < 2 / eta) }
    }

    @Test("the switch time is where a tightly integrated gradient flow reaches S = 2/η")
    func switchTimeIsLocated() throws {
        let eta = 0.16
        let (result, _) = try Self.central(eta: eta, rtol: 1e-10, tFinal: 2)
        let switchTime = try #require(result.switches.first?.time)
        let flow = try Self.flow(rtol: 1e-12, times: [switchTime])
        let S = try Self.denseSharpness(try #require(flow.last).weights)
        #expect(abs(S - 2 / eta) <= 1e-7 * (2 / eta), "S(θ_GF(t_switch)) = \(S), 2/η = \(2 / eta)")
    }

    @Test("the edge phase converges: rtol 1e-8 against 1e-11")
    func edgePhaseConverges() throws {
        let (coarse, _) = try Self.central(eta: 0.16, rtol: 1e-8, tFinal: 10)
        let (fine, _) = try Self.central(eta: 0.16, rtol: 1e-11, tFinal: 10)
        #expect(fine.finalPhase == .edge)
        #expect(Reference.relativeError(coarse.finalWeights, fine.finalWeights) < 1e-5)
        #expect(abs(coarse.switches[0].time - fine.switches[0].time) < 1e-5)
    }

    @Test("a gap tolerance the spectrum meets at the edge stops the run with multiple eigenvalues")
    func multipleEigenvaluesStop() throws {
        let (result, _) = try Self.central(eta: 0.16, gap: 0.999)
        #expect(result.stopReason == .multipleEigenvalues)
        #expect(abs(result.finalTime - result.switches[0].time) < 1e-12)
        #expect(result.finalSharpness - result.finalSecondEigenvalue <= 0.999 * result.finalSharpness)
    }

    @Test("without an edge, descent at η is within O(η) of the central flow")
    func descentAgreesToFirstOrder() throws {
        let (network, problem, theta) = try Self.problem()
        let tFinal = 2.0
        let (central, _) = try Self.central(eta: 0.02, rtol: 1e-11, tFinal: tFinal)
        #expect(central.switches.isEmpty)
        var errors: [Double] = []
        for eta in [0.02, 0.01, 0.005] {
            let steps = Int((tFinal / eta).rounded())
            let descent = GradientDescent(risk: RiskFactory.makeRisk(network: network, problem: problem), shape: network.shape,
                                          settings: DescentSettings(learningRate: eta, steps: steps))
            let result = try descent.run(from: theta, outputSteps: [steps], lossTolerance: nil, trackDrift: false) { _, _, _, _, _ in }
            errors.append(Reference.relativeError(result.finalWeights, central.finalWeights))
        }
        #expect(errors[0] < 0.05)
        for (a, b) in zip(errors, errors.dropFirst()) { #expect(a / b > 1.6 && a / b < 2.5, "errors \(errors)") }
    }

    @Test("leaving the edge (GELU network): at the located time ⟨∇S, ∇R⟩ = 0, and S < 2/η after it")
    func leavingTheEdge() throws {
        let problem = try SyntheticData(noise: 0).makeProblem()
        let network = try ModelReference.network([5, 5, 5, 5, 1], model: .gelu)
        let theta = try WeightInitialization.gaussian(scale: 0.5, zeroLayer: nil).draw(shape: network.shape, seed: 20240521)
        let eta = 0.3
        func run(_ tFinal: Double, count: Int) throws -> (CentralFlowResult, [(Double, Double, CentralFlowPhase)]) {
            let integrator = try CentralFlowIntegrator(network: network, problem: problem,
                                                       settings: SolverSettings(relativeTolerance: 1e-10, absoluteTolerance: 1e-14),
                                                       central: CentralFlowSettings(learningRate: eta))
            var rows: [(Double, Double, CentralFlowPhase)] = []
            let result = try integrator.integrate(from: theta, schedule: OutputSchedule(tFinal: tFinal, count: count, spacing: .uniform),
                                                  lossTolerance: nil) { t, _, _, c in rows.append((t, c.sharpness, c.phase)) }
            return (result, rows)
        }
        let (full, rows) = try run(50, count: 25)
        #expect(full.switches.map(\.phase) == [.edge, .stable])
        let leave = full.switches[1].time
        for (t, S, phase) in rows where t > leave {
            #expect(phase == .stable && S < 2 / eta)
        }
        // The flow up to the located time: there ⟨∇S, ∇R⟩ vanishes (to the tolerance of the root finding).
        let (upTo, _) = try run(leave, count: 1)
        let risk = try #require(RiskFactory.makeRisk(network: network, problem: problem) as? any ThirdOrderDifferentiableRisk)
        let u = try SharpnessEstimator(risk: risk, tolerance: 1e-13, maxIterations: network.shape.parameterCount)
            .lanczos(at: upTo.finalWeights).ritzVector
        let gradS = risk.thirdDerivative(at: upTo.finalWeights, along: u), gradR = risk.gradient(at: upTo.finalWeights)
        let alignment = zip(gradS, gradR).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(alignment) <= 1e-6 * Reference.norm(gradS) * Reference.norm(gradR), "⟨∇S, ∇R⟩ = \(alignment) at t = \(leave)")
    }

    @Test("a repeated top eigenvalue: one Lanczos run sees one copy, the run deflated by u sees the other")
    func deflationSeesARepeatedEigenvalue() throws {
        // One layer on orthonormal inputs X = √n·I-like rows: H = 2Σ = 2I, every eigenvalue repeated.
        let d = 3, n = 6
        var inputs = [Double](repeating: 0, count: n * d)
        for i in 0..<n { inputs[i * d + i % d] = 1 }  // Σ = XᵀX/n = (2/6)·I
        let problem = try RegressionProblem(inputs: inputs, targets: (0..<n).map { Double($0) }, sampleCount: n, dimension: d, source: "test")
        let network = try Network(shape: try NetworkShape(widths: [d, 1]), kind: .fullyConnected, projection: [1])
        let risk = RiskFactory.makeRisk(network: network, problem: problem)
        let estimator = SharpnessEstimator(risk: risk, tolerance: 1e-12, maxIterations: d)
        let top = try estimator.lanczos(at: [0.1, 0.2, 0.3], converging: .top)
        #expect(abs(top.lambdaMax - 2.0 / 3) < 1e-12)
        let second = try estimator.lanczos(at: [0.1, 0.2, 0.3], converging: .top, deflating: top.ritzVector)
        #expect(abs(second.lambdaMax - 2.0 / 3) < 1e-12, "λ_2 = \(second.lambdaMax)")
    }

    @Test("where 2/η < S_min the edge phase stops at a stationary point of R on S = 2/η: ‖Π∇R‖² at the loss tolerance")
    func stationaryStop() throws {
        let eta = 0.16  // 2/η = 12.5 < S_min ∈ [12.741, 13.094]
        let (network, problem, theta) = try Self.problem()
        let integrator = try CentralFlowIntegrator(network: network, problem: problem, settings: SolverSettings(),
                                                   central: CentralFlowSettings(learningRate: eta))
        let tolerance = 1e-6
        let result = try integrator.integrate(from: theta, schedule: OutputSchedule(tFinal: 1e4, count: 20), lossTolerance: tolerance) { _, _, _, _ in }
        #expect(result.stopReason == .stationary)
        #expect(result.finalEvaluation.excessRisk > 1e-5)  // no global minimiser is reachable
        let risk = try #require(RiskFactory.makeRisk(network: network, problem: problem) as? any ThirdOrderDifferentiableRisk)
        let u = try SharpnessEstimator(risk: risk, tolerance: 1e-13, maxIterations: theta.count).lanczos(at: result.finalWeights).ritzVector
        let gradS = risk.thirdDerivative(at: result.finalWeights, along: u), gradR = risk.gradient(at: result.finalWeights)
        let a = zip(gradS, gradR).reduce(0) { $0 + $1.0 * $1.1 }
        let projected = gradR.reduce(0) { $0 + $1 * $1 } - a * a / gradS.reduce(0) { $0 + $1 * $1 }
        #expect(abs(projected - tolerance) <= 1e-3 * tolerance, "‖Π∇R‖² = \(projected)")
    }
}
