/// How the sharpness monitor estimates λ_max(H).
public enum SharpnessMethod: String, Sendable, Codable, CaseIterable {
    case lanczos
    case dense
}

/// Settings of the sharpness checkpoints.
public struct SharpnessSettings: Sendable, Codable, Equatable {
    public var method: SharpnessMethod
    /// Relative tolerance of Lanczos' residual test.
    public var tolerance: Double
    /// A checkpoint every this many output times (t = 0 included), and always at the end.
    public var checkpointEvery: Int
    public var maxIterations: Int

    public init(method: SharpnessMethod = .lanczos, tolerance: Double = 1e-8, checkpointEvery: Int = 20, maxIterations: Int = 300) {
        self.method = method
        self.tolerance = tolerance
        self.checkpointEvery = checkpointEvery
        self.maxIterations = maxIterations
    }

    public func validate(parameterCount: Int) throws {
        guard tolerance.isFinite, tolerance > 0, tolerance < 1 else {
            throw GradFlowError.invalidConfiguration(field: .sharpnessTolerance, value: "\(tolerance)", reason: "must be in (0, 1)")
        }
        guard checkpointEvery >= 1 else {
            throw GradFlowError.invalidConfiguration(field: .checkpointEvery, value: "\(checkpointEvery)", reason: "must be at least 1")
        }
        guard maxIterations >= 1 else {
            throw GradFlowError.invalidConfiguration(field: .lanczosMaxIterations, value: "\(maxIterations)", reason: "must be at least 1")
        }
        if method == .dense, parameterCount > 4000 {
            throw GradFlowError.invalidConfiguration(field: .sharpnessMethod, value: "dense",
                                                reason: "P = \(parameterCount) is too large for a dense Hessian (at most 4000); use lanczos")
        }
    }
}
