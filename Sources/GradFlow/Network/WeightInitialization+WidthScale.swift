import Glibc

extension WeightInitialization {
    /// Whether the initialisation has a scale that a width-dependent factor can multiply (`gaussian`,
    /// `residual`, `balanced`, `layerwise`; not `spectral`, whose mode strengths are given, nor weights from a file).
    public var takesScaleFactor: Bool {
        switch self {
        case .gaussian, .residual, .balanced, .layerwise: return true
        case .spectral, .file: return false
        }
    }

    /// The same initialisation with its scale (every layer scale for `layerwise`) multiplied by `factor`;
    /// itself for `spectral` and weights from a file (`takesScaleFactor` is false).
    public func scaled(by factor: Double) -> WeightInitialization {
        switch self {
        case let .gaussian(s, zeroLayer): return .gaussian(scale: s * factor, zeroLayer: zeroLayer)
        case let .residual(s): return .residual(scale: s * factor)
        case let .balanced(s): return .balanced(scale: s * factor)
        case let .layerwise(scales): return .layerwise(scales: scales.map { $0 * factor })
        case .spectral, .file: return self
        }
    }

    /// The factor h^{−α} of a width-dependent initial scale s = c·h^{−α} (MATH.md §10.4–10.5: Min et al.'s
    /// width sweep), with h the first hidden width and c the configured scale.
    public static func widthFactor(hiddenWidth h: Int, exponent alpha: Double) -> Double {
        pow(Double(h), -alpha)
    }

    /// The initialisation with the width-dependent scale s = c·h^{−α} (`scaled(by: h^{−α})`).
    /// - Throws: `GradFlowError.invalidConfiguration` (`scaleExponent`) when the initialisation has no scale
    ///   to multiply, or when c·h^{−α} is not a usable scale (an overflow to ∞, or 0 from a positive c).
    public func widthScaled(hiddenWidth h: Int, exponent alpha: Double) throws -> WeightInitialization {
        guard takesScaleFactor else {
            throw GradFlowError.invalidConfiguration(field: .scaleExponent, value: "\(alpha)",
                                                     reason: "multiplies the scale of a gaussian, residual, balanced or layer-wise initialisation, not of a \(name) one")
        }
        let factor = Self.widthFactor(hiddenWidth: h, exponent: alpha)
        let scaled = self.scaled(by: factor)
        let before: [Double], after: [Double]
        if case let .layerwise(a) = self, case let .layerwise(b) = scaled { (before, after) = (a, b) } else { (before, after) = ([scale], [scaled.scale]) }
        if let (c, s) = zip(before, after).first(where: { !$0.1.isFinite || ($0.0 > 0 && $0.1 == 0) }) {
            throw GradFlowError.invalidConfiguration(field: .scaleExponent, value: "\(alpha)",
                                                     reason: "gives the scale c·h^(−α) = \(c)·\(h)^(−(\(alpha))) = \(s), not a usable one")
        }
        return scaled
    }
}
