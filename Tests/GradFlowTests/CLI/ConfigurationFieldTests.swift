import Foundation
import GradFlow
@testable import gradflow
import Testing

/// The seam between the library, which names configuration fields, and the executable, which owns every
/// option's spelling: every field has an option, the fields are the keys of the configuration's JSON, a sweep
/// point's configuration is its command line's, and a command refuses bad options in validate().
@Suite("Configuration fields and their options")
struct ConfigurationFieldTests {
    @Test("every field the library can name has an option (a new field cannot ship without one)")
    func everyFieldHasAnOption() {
        #expect(Set(ConfigurationField.allCases).count == ConfigurationField.allCases.count, "a field is listed twice")
        for field in ConfigurationField.allCases {
            let flag = OptionNames.flags[field]
            #expect(flag != nil, "\(field.name) has no option in OptionNames.flags")
            if field != .projection { #expect(flag?.hasPrefix("--") == true, "\(field.name): \(flag ?? "nil")") }
        }
        #expect(Set(OptionNames.flags.keys) == Set(ConfigurationField.allCases), "OptionNames.flags names a field that allCases lacks")
    }

    @Test("a run's fields are key paths of RunConfiguration's JSON encoding (the file's config attribute)")
    func runFieldsAreJSONKeys() throws {
        var gaussian = RunConfiguration(dataFile: "d.h5", synthetic: SyntheticData(conditionNumber: 10), widths: [4],
                                        initialization: .gaussian(scale: 0.1, zeroLayer: 2), initWeightsFile: "w.h5",
                                        schedule: OutputSchedule(tFinal: 10, firstTime: 0.1), descent: DescentSettings(learningRate: 0.1))
        gaussian.solver.maxOrder = 3
        gaussian.solver.linearSolverToleranceFactor = 0.05
        gaussian.saveWeights = 5
        gaussian.scaleExponent = 0.5
        var residual = gaussian
        residual.initialization = .residual(scale: 0.25)
        residual.depth = 3
        // Every initialisation with a field of its own.
        let others = [WeightInitialization.balanced(scale: 0.1), .spectral(strengths: [1e-3]), .layerwise(scales: [0.1, 0.2])].map { kind in
            var config = gaussian
            config.initialization = kind
            return config
        }
        func object(_ config: RunConfiguration) throws -> [String: Any] {
            try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any])
        }
        var central = gaussian
        central.descent = nil
        central.central = CentralFlowSettings(learningRate: 0.1)
        let encodings = try ([gaussian, residual, central] + others).map(object)
        func resolves(_ path: String, in json: [String: Any]) -> Bool {
            var node: Any = json
            for key in path.split(separator: ".") {
                guard let next = (node as? [String: Any])?[String(key)] else { return false }
                node = next
            }
            return true
        }
        for field in ConfigurationField.allCases where field.scope == .run {
            #expect(encodings.contains { resolves(field.key, in: $0) }, "\(field.key) is not a key path of the configuration's JSON")
        }
        // The other scopes: the keys of their settings types.
        let critical = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(CriticalLearningRateSettings())) as? [String: Any])
        for field in ConfigurationField.allCases where field.scope == .criticalLearningRate { #expect(critical[field.key] != nil, "\(field.key)") }
        let spec = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(SweepSpec())) as? [String: Any])
        for field in ConfigurationField.allCases where field.scope == .sweep && field != .sweepShard { #expect(spec[field.key] != nil, "\(field.key)") }
    }

    @Test("the library's message names the field; the executable's, the option as before")
    func messages() {
        let error = GradFlowError.invalidConfiguration(field: .relativeTolerance, value: "2.0", reason: "must be in (0, 1)")
        #expect(error.description == "solver.relativeTolerance 2.0: must be in (0, 1)")
        #expect(OptionNames.message(error) == "--rtol 2.0: must be in (0, 1)")
        let horizon = GradFlowError.invalidConfiguration(field: .tFinal, value: "1e+300 \(field: .learningRate) 1e-10",
                                                         reason: "give a smaller \(field: .tFinal), or \(field: .descentSteps)")
        #expect(horizon.fields == [.tFinal, .learningRate, .descentSteps])
        #expect(horizon.description == "schedule.tFinal 1e+300 descent.learningRate 1e-10: give a smaller schedule.tFinal, or descent.steps")
        #expect(OptionNames.message(horizon) == "--t-final 1e+300 --lr 1e-10: give a smaller --t-final, or --steps")
        // The library's own errors, thrown by its checks.
        #expect(throws: GradFlowError.invalidConfiguration(field: .residualScale, value: "-1.0", reason: "must be a finite number ≥ 0")) {
            try WeightInitialization.residual(scale: -1).validate(depth: 3)
        }
        #expect(throws: GradFlowError.invalidConfiguration(field: .sweepDepths, value: "0", reason: "must be at least 1")) {
            try SweepSpec(depths: [0]).validate()
        }
    }

    @Test("a memory refusal names the fields that drive it; the executable shows their options")
    func memoryFields() throws {
        let config = RunConfiguration(depth: 100_000_000_000)
        do {
            try config.validate()
            Issue.record("a depth of 10^11 was not refused")
        } catch let error as GradFlowError {
            guard case let .invalidRequest(subject, _, _) = error else { Issue.record("\(error)"); return }
            #expect(subject == "memory")
            #expect(error.fields.contains(.depth) && error.fields.contains(.inputDimension))
            #expect(error.description.contains("(depth 100000000000, layers d = 5 wide from synthetic.dimension)"))
            #expect(OptionNames.message(error).contains("(--depth 100000000000, layers d = 5 wide from --input-dim)"))
        }
    }

    /// The configuration `gradflow` would run for a command line.
    func parsed(_ arguments: [String]) throws -> RunConfiguration {
        switch try GradFlowCommand.parseAsRoot(arguments) {
        case let run as RunCommand: return try run.configuration()
        case let descent as DescentCommand: return try descent.configuration()
        default: throw UsageError(message: "not a run: \(arguments)")
        }
    }

    @Test("balanced and spectral sweep points: the configuration is that of the command line (spectral: the scale is the mode strength)",
          arguments: ["balanced", "spectral"])
    func newInitializationPoints(kind: String) throws {
        let grid = SweepSpec(methods: ["flow", "descent"], initializations: [kind], initScales: [1e-3, 0.2], learningRates: [0.01],
                             depths: [2, 3], widths: [6], seeds: [1, 2])
        for method in ["flow", "descent"] {
            let ofMethod = try grid.points().filter { $0.method == method }
            let extra = SweepCommand.extraArguments(of: ofMethod[0], grid: grid)
            let base = try parsed(SweepCommand.arguments(of: ofMethod[0], output: "run.h5", extra: extra))
            for point in ofMethod {
                let expected = try parsed(SweepCommand.arguments(of: point, output: "run.h5", extra: extra))
                #expect(point.configuration(from: base) == expected, "point \(point.index)")
                let strength: WeightInitialization = kind == "spectral" ? .spectral(strengths: [point.initScale]) : .balanced(scale: point.initScale)
                #expect(expected.initialization == strength)
            }
        }
    }

    @Test("a sweep point's configuration is the configuration of its command line", arguments: [
        [String](), ["--zero-layer", "2", "--samples", "30"], ["--init-scale", "0.5"], ["--init", "residual"], ["--steps", "300"], ["--seed", "7"],
    ])
    func pointConfiguration(extra: [String]) throws {
        let grid = SweepSpec(methods: ["flow", "descent"], initializations: ["gaussian", "residual"], initScales: [0.1, 0.3],
                             learningRates: [0.01, 0.02], depths: [3, 4], widths: [6], seeds: [1, 2],
                             arguments: extra.contains("--steps") ? [] : extra, descentArguments: extra.contains("--steps") ? extra : [])
        let points = try grid.points()
        for method in ["flow", "descent"] {
            let ofMethod = points.filter { $0.method == method }
            let extra = SweepCommand.extraArguments(of: ofMethod[0], grid: grid)
            let base = try parsed(SweepCommand.arguments(of: ofMethod[0], output: "run.h5", extra: extra))
            let given = Set(SweepPoint.Parameter.allCases.filter { extra.contains(SweepCommand.optionOfParameter[$0] ?? "") })
            for point in ofMethod where point.initialization == ofMethod[0].initialization || given.contains(.initialization) {
                let expected = try parsed(SweepCommand.arguments(of: point, output: "run.h5", extra: extra))
                #expect(point.configuration(from: base, keeping: given) == expected, "point \(point.index), extra \(extra)")
            }
        }
    }

    @Test("validate() refuses bad options while parsing, before run() writes anything", arguments: [
        (["run", "--rtol", "2"], "--rtol 2.0: must be in (0, 1)"),
        (["descent", "--lr", "-1"], "--lr -1.0: must be a finite number > 0"),
        (["compare", "--lr", "0.1", "--monitors", "bogus"], "--monitors bogus: unknown monitor \"bogus\""),
        (["critical-lr", "--bisection-steps", "0"], "--bisection-steps 0: must be in 1…60"),
        (["critical-lr", "--depths", "3,x"], "--depths 3,x: \"x\" is not a positive integer"),
        (["sweep", "--depths", "0"], "--depths 0: must be at least 1"),
        (["sweep", "--descent-args", "--steps=0", "--methods", "descent", "--lrs", "0.1"], "--descent-args --steps 0: must be at least 1, at point 0"),
    ])
    func validateRefuses(arguments: [String], message: String) throws {
        _ = ValidationFailure.take()
        #expect(throws: (any Error).self) { _ = try GradFlowCommand.parseAsRoot(arguments) }
        let refusal = try #require(ValidationFailure.take(), "\(arguments) was not refused by validate()")
        let text = (refusal as? GradFlowError).map { OptionNames.message($0) } ?? "\(refusal)"
        #expect(text.hasPrefix(message), "\(text)")
    }

    @Test("a subcommand parsed as its own root (Main's start-up path) is the command the root parses; refusals, --help and --version fall back to the root",
          arguments: [
            ["run", "--depth", "4", "--seed", "3", "--monitors", "none", "-o", "a.h5", "--force"],
            ["run", "--widths", "3,4", "--input-dim", "3", "--rtol", "1e-9", "--method", "bdf-krylov", "--flush-interval", "2", "-o", "b.h5"],
            ["descent", "--lr", "0.05", "--steps", "100", "--init-scale", "0.2", "-o", "c.h5"],
            ["sweep", "--depths", "2,3", "--seeds", "1,2", "--run-args", "--monitors none", "-o", "s"],
            ["critical-lr", "--depths", "2", "-o", "t.csv"],
            ["inspect", "x.h5"],
          ])
    func subcommandParsedDirectly(arguments: [String]) throws {
        let direct = try #require(Main.parseSubcommandDirectly(arguments), "\(arguments)")
        let root = try GradFlowCommand.parseAsRoot(arguments)
        #expect(type(of: direct) == type(of: root))
        #expect(String(reflecting: direct) == String(reflecting: root), "\(arguments)")
    }

    @Test("the direct parse returns nil (the root then reports) for refusals, --help, --version and unknown words, and leaves no recorded refusal",
          arguments: [["run", "--depth", "0"], ["run", "--help"], ["run", "-h"], ["run", "--version"], ["--version"], ["help", "run"], ["runn"], [],
                      ["plot", "--help"],
                      ["sweep", "--depths", "0"], ["run", "--no-such-option"]])
    func directParseFallsBack(arguments: [String]) {
        _ = ValidationFailure.take()
        #expect(Main.parseSubcommandDirectly(arguments) == nil, "\(arguments)")
        #expect(ValidationFailure.take() == nil)
    }

    @Test("a refused run writes nothing and prints one line", .enabled(if: ProcessResult.gradflow != nil))
    func refusedRunWritesNothing() throws {
        let scratch = try Scratch()
        for command in [["run", "--rtol", "2"], ["descent", "--lr", "0.1", "--steps", "0"], ["compare", "--lr", "0.1", "--threads", "0"]] {
            let out = scratch.path("out.h5")
            let o = try Fault.run(command + ["-o", out])
            Fault.expectRefused(o, [], outputs: [out, out + ".partial", scratch.path("out-flow.h5"), scratch.path("out-descent.h5")], "\(command)")
        }
    }

    @Test("the library speaks no option: no \"--\" literal in Sources/GradFlow")
    func noOptionLiterals() throws {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path), root.path != "/" {
            root = root.deletingLastPathComponent()
        }
        let folder = root.appendingPathComponent("Sources/GradFlow")
        let files = try #require(FileManager.default.enumerator(atPath: folder.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains("\"--"), "\(file) holds a \"--… literal")
        }
    }
}
