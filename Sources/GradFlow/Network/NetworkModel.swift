/// What a network computes between its weights (a configuration's `model`).
public enum NetworkModel: String, Sendable, Codable, CaseIterable {
    /// The deep linear network `f(x) = pᵀW_L⋯W_1x` (MATH.md §0), or `W_L⋯W_1x ∈ ℝ^q` without a
    /// projection for multivariate targets (§6.1).
    case linear
    /// The GELU multilayer perceptron of the paper's App. C (MATH.md §6.3): `z_k = W_k h_{k−1}`,
    /// `h_k = σ(z_k)` for k < L with the tanh-form GELU σ, output `z_L`; no biases, no projection.
    case gelu
}
