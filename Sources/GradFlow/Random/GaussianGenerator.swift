import Glibc

/// A seeded source of standard normal numbers, identical on every machine with the same libm.
///
/// Uniform bits come from xoshiro256** (Blackman & Vigna), seeded through SplitMix64; normals come from
/// the Box–Muller transform, both numbers of each pair used in order. Independent streams for the data,
/// the initial weights and the projection are obtained with distinct `stream` values.
public struct GaussianGenerator: Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    private var spare: Double?

    /// - Parameters:
    ///   - seed: the user's seed.
    ///   - stream: a small integer that selects an independent stream for the same seed.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var s = seed ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(&s), splitMix(&s), splitMix(&s), splitMix(&s))
    }

    /// The next 64 uniform bits (xoshiro256**).
    public mutating func nextBits() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// A uniform number in (0, 1], with 53 random bits.
    public mutating func nextUniform() -> Double {
        Double((nextBits() >> 11) + 1) * 0x1p-53
    }

    /// A standard normal number.
    public mutating func nextGaussian() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        let u1 = nextUniform(), u2 = nextUniform()
        let radius = (-2 * Glibc.log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spare = radius * Glibc.sin(angle)
        return radius * Glibc.cos(angle)
    }

    /// `count` standard normal numbers, each multiplied by `scale`.
    public mutating func gaussians(_ count: Int, scale: Double = 1) -> [Double] {
        (0..<count).map { _ in scale * nextGaussian() }
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
