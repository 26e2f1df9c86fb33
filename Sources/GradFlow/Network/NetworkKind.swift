/// The two architectures of MATH.md §0.
public enum NetworkKind: String, Sendable, Codable, CaseIterable {
    /// `f(x) = pᵀW_L⋯W_1x` with `m_L = 1` and `p = [1]` (any widths), or a given projection `p`.
    case fullyConnected = "fully-connected"
    /// All layers d×d, trained from `W_k(0) = I + (s/√(Ld)) N_k`, with a fixed unit projection `p`.
    case residual
}
