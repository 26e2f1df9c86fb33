import Foundation
import GradFlow
import Testing

/// An independent, loop-by-loop forward pass of the networks of MATH.md §6.1 and §6.3 (no BLAS, no
/// shared code with the risks): `z_k = W_k h_{k−1}`, `h_k = σ(z_k)` for k < L (σ the identity for a linear
/// network), output `z_L`, and the loss `(1/n)Σ_i ‖z_L(x_i) − y_i‖²`.
enum ModelReference {
    /// The tanh-form GELU, as MATH.md §6.3 writes it.
    static func gelu(_ x: Double) -> Double {
        0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    static func outputs(_ theta: [Double], shape: NetworkShape, model: NetworkModel, input: ArraySlice<Double>) -> [Double] {
        var h = Array(input)
        for k in 1...shape.depth {
            let rows = shape.rows(k), cols = shape.columns(k), offset = shape.offset(k)
            var z = [Double](repeating: 0, count: rows)
            for a in 0..<rows { for b in 0..<cols { z[a] += theta[offset + a * cols + b] * h[b] } }
            h = (k < shape.depth && model == .gelu) ? z.map(gelu) : z
        }
        return h
    }

    static func loss(_ theta: [Double], shape: NetworkShape, model: NetworkModel, problem: RegressionProblem) -> Double {
        let n = problem.sampleCount, d = problem.dimension, q = problem.outputCount
        var sum = 0.0
        for i in 0..<n {
            let f = outputs(theta, shape: shape, model: model, input: problem.inputs[(i * d)..<((i + 1) * d)])
            for j in 0..<q { sum += (f[j] - problem.targets[i * q + j]) * (f[j] - problem.targets[i * q + j]) }
        }
        return sum / Double(n)
    }

    static func network(_ widths: [Int], model: NetworkModel, kind: NetworkKind = .fullyConnected) throws -> Network {
        try Network(shape: try NetworkShape(widths: widths), kind: kind, model: model, projection: nil)
    }
}
