import Foundation
@testable import GradFlow
import Testing

/// The cheaper monitor paths of issue 17, item 3, each against an independent computation: the Lanczos
/// tridiagonal step against LAPACK `dstev`, and the warm-started two-ended Lanczos against the dense
/// eigensolver `dsyevr` along a descent path that ends near a minimiser (where λ_min sits in the cluster of
/// near-zero eigenvalues: the hard case).
@Suite("Monitor cost: cheaper paths, same accuracy")
struct MonitorCostTests {
    /// dsterf + dstein (O(n²)) give the same extreme pairs as dstev with all vectors (O(n³)): eigenvalues to
    /// 1e-13 of the spectrum's scale, the vectors up to sign to 1e-9, on random tridiagonals with spread and
    /// tiny off-diagonal entries (as the Lanczos tridiagonals near a minimiser have).
    @Test("the extreme Ritz pairs by dsterf + dstein equal dstev's", arguments: [1, 2, 3, 7, 20, 45, 80])
    func extremeRitzPairs(n: Int) throws {
        var rng = GaussianGenerator(seed: UInt64(n), stream: 1)
        let scales = rng.gaussians(n)
        let diagonal = rng.gaussians(n).enumerated().map { i, x in i % 7 == 0 ? 30 * x : 1e-4 * x * scales[i] }
        let offDiagonal = rng.gaussians(max(n - 1, 0)).enumerated().map { i, x in abs(x) * (i % 5 == 0 ? 1e-6 : 1) + 1e-12 }
        let pairs = try SharpnessEstimator.extremeRitzPairs(diagonal: diagonal, offDiagonal: offDiagonal, vectors: .both)
        let reference = try LAPACK.tridiagonalEigen(diagonal: diagonal, offDiagonal: offDiagonal)
        let scale = max(abs(reference.values[0]), abs(reference.values[n - 1]))
        #expect(abs(pairs.bottom - reference.values[0]) <= 1e-13 * scale)
        #expect(abs(pairs.top - reference.values[n - 1]) <= 1e-13 * scale)
        for (vector, column) in [(pairs.bottomVector, 0), (pairs.topVector, n - 1)] {
            let exact = Array(reference.vectors[(column * n)..<((column + 1) * n)])
            let sign: Double = zip(vector, exact).map { $0 * $1 }.reduce(0, +) < 0 ? -1 : 1
            let error = zip(vector, exact).map { abs(sign * $0 - $1) }.max() ?? 0
            #expect(error <= 1e-9, "column \(column): \(error)")
        }
        let topOnly = try SharpnessEstimator.extremeRitzPairs(diagonal: diagonal, offDiagonal: offDiagonal, vectors: .top)
        #expect(topOnly.top == pairs.top && topOnly.bottom == pairs.bottom && topOnly.bottomVector.isEmpty)
    }

    /// Along a descent path (40 steps of η ≤ 0.5/S, one estimate every 8 steps, each warm-started from the
    /// previous top and bottom Ritz vectors), both ends agree with `dsyevr` on the dense Hessian within their
    /// certificates: |θ − λ| ≤ r + 1e-13·scale (Kato: some eigenvalue lies within the residual r, and the
    /// extreme Ritz values converge to the extreme eigenvalues), and within the tolerance 1e-8·scale. The
    /// warm starts use fewer products in all than cold starts at the same points.
    @Test("warm-started two-ended Lanczos along a path: both ends within their residuals of dsyevr")
    func warmStartedAlongPath() throws {
        let problem = try Fixtures.problem(samples: 30, dimension: 6)
        let (network, theta0) = try Fixtures.fullyConnected([6, 12, 12, 12, 1], scale: 0.6)
        let risk = DeepLinearRisk(network: network, problem: problem)
        let warm = SharpnessEstimator(risk: risk, tolerance: 1e-8), cold = SharpnessEstimator(risk: risk, tolerance: 1e-8)
        var theta = theta0
        var top: [Double]?, bottom: [Double]?
        var warmProducts = 0, coldProducts = 0
        var eta = 0.5 / (try warm.dense(at: theta).lambdaMax)
        let startLoss = risk.evaluate(at: theta).excessRisk
        for step in 0...40 {
            if step % 8 == 0 {
                let estimate = try warm.lanczos(at: theta, start: top, startBottom: bottom)
                let dense = try warm.dense(at: theta)
                let scale = max(abs(dense.lambdaMax), abs(dense.lambdaMin))
                #expect(estimate.converged)
                #expect(abs(estimate.lambdaMax - dense.lambdaMax) <= estimate.residualMax + 1e-13 * scale)
                #expect(abs(estimate.lambdaMin - dense.lambdaMin) <= estimate.residualMin + 1e-13 * scale)
                #expect(estimate.residualMax <= 1e-8 * scale && estimate.residualMin <= 1e-8 * scale)
                #expect(estimate.ritzVector.count == theta.count && estimate.bottomRitzVector.count == theta.count)
                eta = min(eta, 0.5 / dense.lambdaMax)  // descent stays stable (S < 2/η)
                top = estimate.ritzVector
                bottom = estimate.bottomRitzVector
                warmProducts += estimate.products
                coldProducts += try cold.lanczos(at: theta).products
            }
            let g = risk.gradient(at: theta)
            for i in theta.indices { theta[i] -= eta * g[i] }
        }
        #expect(risk.evaluate(at: theta).excessRisk < 1e-2 * startLoss)  // the path ends near a minimiser
        #expect(warmProducts < coldProducts, "warm \(warmProducts), cold \(coldProducts)")
    }
}
