/// Which monitors a run records (the `monitors` field), and how sharpness is estimated.
public struct MonitorSelection: Sendable, Codable, Equatable {
    public var conservation: Bool
    public var lemma2: Bool
    public var plRatio: Bool
    public var sharpness: Bool

    public init(conservation: Bool = true, lemma2: Bool = true, plRatio: Bool = true, sharpness: Bool = true) {
        self.conservation = conservation
        self.lemma2 = lemma2
        self.plRatio = plRatio
        self.sharpness = sharpness
    }

    public static let all = MonitorSelection()
    public static let none = MonitorSelection(conservation: false, lemma2: false, plRatio: false, sharpness: false)

    /// The monitor names a selection accepts.
    public static let names = ["conservation", "lemma2", "pl", "sharpness"]

    /// Parses `all`, `none`, or a comma-separated list of `conservation`, `lemma2`, `pl`, `sharpness`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if parts == ["all"] { self = .all; return }
        if parts == ["none"] { self = .none; return }
        self = .none
        for part in parts {
            switch part {
            case "conservation": conservation = true
            case "lemma2": lemma2 = true
            case "pl": plRatio = true
            case "sharpness": sharpness = true
            default:
                throw GradFlowError.invalidConfiguration(field: .monitors, value: "\(text)",
                                                    reason: "unknown monitor \"\(part)\" (use all, none, or a list of \(Self.names.joined(separator: ", ")))")
            }
        }
    }

    public var isEmpty: Bool { !(conservation || lemma2 || plRatio || sharpness) }
}

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
