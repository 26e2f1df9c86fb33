import Glibc

/// MATH.md §10.2's predicted half-time of one mode: the time at which a balanced mode of a depth-L network,
/// obeying `da/dt = 2L a^{2−2/L}(σ − a)` from `a(0) = a_0 ∈ (0, σ/2)`, reaches σ/2:
///
///     t = ∫_{a_0}^{σ/2} da / (2L a^{2−2/L}(σ − a))      (L = 2: ln((σ − a_0)/a_0) / (4σ)).
///
/// Exact with whitened data and the spectral initialisation; a prediction otherwise. For gradient descent at
/// step η with L = 2, the linearised estimate `η·ln(σ/(2a_0)) / (2 ln(1 + 2ησ))`.
public enum ModeHalfTime {
    /// The flow's half-time; NaN when there is none (a_0 ≤ 0, a_0 ≥ σ/2, σ ≤ 0). Cost: the closed form for
    /// L = 2; else a composite 8-point Gauss–Legendre rule in u = ln a (the integrand `a^{2/L−1}/(2L(σ − a))`
    /// is smooth there), refined until two successive sums agree to 1e-14 relative.
    public static func flow(initial a0: Double, target sigma: Double, depth L: Int) -> Double {
        guard sigma > 0, a0 > 0, a0 < sigma / 2, L >= 1 else { return .nan }
        if L == 2 { return log((sigma - a0) / a0) / (4 * sigma) }
        let exponent = 2 / Double(L) - 1
        func integrand(_ u: Double) -> Double {
            let a = exp(u)
            return pow(a, exponent) / (2 * Double(L) * (sigma - a))
        }
        let (lower, upper) = (log(a0), log(sigma / 2))
        var panels = 8, previous = Double.nan
        while panels <= 1 << 16 {
            let width = (upper - lower) / Double(panels)
            var sum = 0.0
            for p in 0..<panels {
                let center = lower + (Double(p) + 0.5) * width, half = width / 2
                for (x, w) in zip(gaussNodes, gaussWeights) { sum += w * half * (integrand(center + half * x) + integrand(center - half * x)) }
            }
            if abs(sum - previous) <= 1e-14 * abs(sum) { return sum }
            previous = sum
            panels *= 2
        }
        return previous
    }

    /// Gradient descent's linearised half-time for L = 2 (MATH.md §10.2); the flow's for other depths.
    public static func descent(initial a0: Double, target sigma: Double, depth L: Int, learningRate eta: Double) -> Double {
        guard L == 2 else { return flow(initial: a0, target: sigma, depth: L) }
        guard sigma > 0, a0 > 0, a0 < sigma / 2 else { return .nan }
        return eta * log(sigma / (2 * a0)) / (2 * log(1 + 2 * eta * sigma))
    }

    /// The positive nodes and weights of the 8-point Gauss–Legendre rule on [−1, 1].
    static let gaussNodes = [0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363]
    static let gaussWeights = [0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763]
}
