import GradFlow

/// Independent, deliberately naive reference computations (plain loops, no BLAS), used to check
/// the library's BLAS code paths.
enum Reference {
    /// w = W_1ᵀ⋯W_Lᵀ p computed by loops.
    static func endToEnd(_ theta: [Double], shape: NetworkShape, p: [Double]) -> [Double] {
        var b = p
        for k in stride(from: shape.depth, through: 1, by: -1) {
            let rows = shape.rows(k), cols = shape.columns(k), off = shape.offset(k)
            var next = [Double](repeating: 0, count: cols)
            for i in 0..<rows { for j in 0..<cols { next[j] += theta[off + i * cols + j] * b[i] } }
            b = next
        }
        return b
    }

    /// R = (1/n)‖y − Xw‖² by loops.
    static func loss(_ theta: [Double], shape: NetworkShape, p: [Double], problem: RegressionProblem) -> Double {
        let w = endToEnd(theta, shape: shape, p: p)
        let n = problem.sampleCount, d = problem.dimension
        var total = 0.0
        for i in 0..<n {
            var f = 0.0
            for j in 0..<d { f += problem.inputs[i * d + j] * w[j] }
            total += (problem.targets[i] - f) * (problem.targets[i] - f)
        }
        return total / Double(n)
    }

    /// Central finite-difference gradient of `loss`.
    static func gradient(_ theta: [Double], step: Double, _ f: ([Double]) -> Double) -> [Double] {
        var t = theta
        return (0..<theta.count).map { i in
            t[i] = theta[i] + step; let plus = f(t)
            t[i] = theta[i] - step; let minus = f(t)
            t[i] = theta[i]
            return (plus - minus) / (2 * step)
        }
    }

    /// D_k = W_kW_kᵀ − W_{k+1}ᵀW_{k+1} (m_k × m_k, row-major) of a stacked vector, by loops. Applied to a
    /// gradient it gives G_kG_kᵀ − G_{k+1}ᵀG_{k+1}, GD's one-step change over η² (MATH.md §5).
    static func imbalance(_ theta: [Double], shape: NetworkShape, k: Int) -> [Double] {
        let m = shape.rows(k), c = shape.columns(k), mn = shape.rows(k + 1)
        return (0..<(m * m)).map { idx in
            let i = idx / m, j = idx % m
            var s = 0.0
            for l in 0..<c { s += theta[shape.offset(k) + i * c + l] * theta[shape.offset(k) + j * c + l] }
            for r in 0..<mn { s -= theta[shape.offset(k + 1) + r * m + i] * theta[shape.offset(k + 1) + r * m + j] }
            return s
        }
    }

    /// M = W_L⋯W_1 by loops (m_L×d row-major), without p.
    static func product(_ theta: [Double], shape: NetworkShape) -> [Double] {
        let d = shape.inputDimension
        var m = (0..<(d * d)).map { $0 / d == $0 % d ? 1.0 : 0.0 }
        for k in 1...shape.depth {
            let r = shape.rows(k), c = shape.columns(k), w = Array(theta[shape.range(k)])
            var next = [Double](repeating: 0, count: r * d)
            for i in 0..<r { for j in 0..<d { for l in 0..<c { next[i * d + j] += w[i * c + l] * m[l * d + j] } } }
            m = next
        }
        return m
    }

    static func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    static func relativeError(_ a: [Double], _ b: [Double]) -> Double {
        norm(zip(a, b).map { $0 - $1 }) / max(norm(b), 1e-300)
    }
}

/// Small test problems.
enum Fixtures {
    static func problem(samples: Int = 12, dimension: Int = 4, seed: UInt64 = 7) throws -> RegressionProblem {
        try SyntheticData(samples: samples, dimension: dimension, noise: 1, seed: seed).makeProblem()
    }

    static func fullyConnected(_ widths: [Int], scale: Double = 0.5, seed: UInt64 = 3, p: [Double]? = nil) throws
        -> (Network, [Double])
    {
        let shape = try NetworkShape(widths: widths)
        let projection = p ?? [Double](repeating: 1, count: shape.outputWidth)
        let network = try Network(shape: shape, kind: .fullyConnected, projection: projection)
        let theta = try WeightInitialization.gaussian(scale: scale, zeroLayer: nil).draw(shape: shape, seed: seed)
        return (network, theta)
    }

    static func residual(dimension d: Int, depth: Int, scale: Double = 1, seed: UInt64 = 3) throws
        -> (Network, [Double])
    {
        let shape = try NetworkShape(widths: Array(repeating: d, count: depth + 1))
        let network = try Network(
            shape: shape, kind: .residual, projection: WeightInitialization.randomUnitProjection(dimension: d, seed: seed))
        let theta = try WeightInitialization.residual(scale: scale).draw(shape: shape, seed: seed)
        return (network, theta)
    }
}
