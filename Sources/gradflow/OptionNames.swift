import GradFlow

/// The executable's spelling of every configuration field, and the one-line messages of the library's errors.
///
/// The library names what it refuses by configuration fields (`solver.relativeTolerance`); this table is the
/// only place that knows the option a user types for each (`--rtol`), so messages read as they did when the
/// library spoke in options. A field missing here would be shown by its name; the tests require every field
/// of `ConfigurationField.allCases` to have an entry.
enum OptionNames {
    static let flags: [ConfigurationField: String] = [
        .dataFile: "--data", .seed: "--seed", .model: "--model", .depth: "--depth", .widths: "--widths",
        .initialization: "--init", .gaussianScale: "--init-scale", .residualScale: "--init-scale", .zeroLayer: "--zero-layer",
        .balancedScale: "--init-scale", .modeStrengths: "--mode-strength", .layerScales: "--layer-scales",
        .initWeightsFile: "--init-weights", .initWeightsSnapshot: "--init-from",
        .scaleExponent: "--scale-exponent", .saveWeights: "--save-weights",
        .samples: "--samples", .inputDimension: "--input-dim", .noise: "--noise", .conditionNumber: "--condition-number",
        .outputs: "--outputs", .testSamples: "--test-samples",
        .solverMethod: "--method", .relativeTolerance: "--rtol", .absoluteTolerance: "--atol", .maxSteps: "--max-steps",
        .krylovDimension: "--krylov-dim", .maxOrder: "--max-order", .vectorKernels: "--vector-kernels",
        .preconditioner: "--preconditioner", .gramSchmidt: "--gram-schmidt", .linearSolverToleranceFactor: "--eps-lin",
        .tFinal: "--t-final", .outputTimes: "--output-times", .spacing: "--spacing", .firstOutputTime: "--t-first",
        .lossTolerance: "--loss-tol", .threads: "--threads", .outputPath: "--output", .overwrite: "--force",
        .flushInterval: "--flush-interval", .monitors: "--monitors",
        .sharpnessMethod: "--sharpness-method", .sharpnessTolerance: "--sharpness-tol", .checkpointEvery: "--checkpoint-every",
        .lanczosMaxIterations: "--lanczos-max",
        .learningRate: "--lr", .descentSteps: "--steps", .divergenceFactor: "--divergence-factor",
        .centralLearningRate: "--central-lr", .centralAllowCatapult: "--allow-catapult", .centralGapTolerance: "--central-gap",
        // critical-lr
        .bisectionSteps: "--bisection-steps", .trialSteps: "--steps", .trialLossTolerance: "--loss-tol",
        // sweep (a spec file names the field by its key instead)
        .sweepMethods: "--methods", .sweepInitializations: "--inits", .sweepInitScales: "--init-scales", .sweepLearningRates: "--lrs",
        .sweepDepths: "--depths", .sweepWidths: "--widths", .sweepSeeds: "--seeds", .sweepScaleExponents: "--scale-exponents", .sweepArguments: "--run-args",
        .sweepFlowArguments: "--flow-args", .sweepDescentArguments: "--descent-args", .sweepModel: "--model", .sweepShard: "--shard",
        .resumePath: "--resume", .allowMissingShards: "--allow-missing",
        // Only ever read from a file (the data's or the weights' dataset p), which the message then names.
        .projection: "p",
    ]

    /// The option of `field` as a user types it.
    static func flag(_ field: ConfigurationField) -> String { flags[field] ?? field.name }

    /// The field a sweep's option sets (`--depths` → `depths`), for the names of its spec file's keys.
    static func sweepField(ofOption option: String) -> ConfigurationField? {
        flags.first { $0.key.scope == .sweep && $0.value == option }?.key
    }

    /// The one-line message of a library error: each field as `head` spells the refused one and `text` the
    /// ones its value and reason mention (the option as the user typed it, by default).
    static func message(_ error: GradFlowError, head: (ConfigurationField) -> String = flag,
                        text: (ConfigurationField) -> String = flag) -> String {
        switch error {
        case let .invalidConfiguration(field, value, reason):
            return "\(head(field)) \(value.rendered(text)): \(reason.rendered(text))"
        case let .invalidRequest(subject, value, reason):
            return "\(subject) \(value.rendered(text)): \(reason.rendered(text))"
        default:
            return error.description
        }
    }
}
