import FoundationEssentials

/// One row of a flow-versus-descent comparison, at t = kη.
public struct ComparisonRow: Sendable {
    public var step: Int
    public var time: Double
    /// ‖W_GD(k) − W_GF(kη)‖ / ‖W_GF(kη)‖ over the stacked weights.
    public var relativeDistance: Double
    public var flowExcessRisk: Double
    public var descentExcessRisk: Double
    /// max_k of the flow's relative Lemma 1 drift (NaN without the conservation monitor or with L = 1).
    public var flowDrift: Double
    /// max_k ‖D_k(t) − D_k(0)‖_F along descent, and of its exact η² prediction (MATH.md §5).
    public var descentDrift: Double
    public var descentPredictedDrift: Double
    /// With the central flow (`compare --central`), else NaN: ‖W_GD(k) − W_CF(kη)‖ / ‖W_CF(kη)‖.
    public var centralDistance: Double = .nan
    /// The distances of descent's two-step average W̄_k = (W_k + W_{k+1})/2 = W_k − (η/2)∇R(W_k) (the mean over
    /// its period-2 oscillation along the top eigenvector) to the flow and to the central flow.
    public var averagedFlowDistance: Double = .nan
    public var averagedCentralDistance: Double = .nan
    /// S = λ_max(H) of descent, of gradient flow and of the central flow at t = kη (Lanczos).
    public var descentSharpness: Double = .nan
    /// S at descent's two-step average θ̄_k, which the oscillation along the top eigenvector straddles.
    public var averagedDescentSharpness: Double = .nan
    public var flowSharpness: Double = .nan
    public var centralSharpness: Double = .nan
    /// The central flow's phase (0 stable, 1 edge).
    public var centralPhase: Double = .nan
    /// Descent's two-step average loss (R(W_k) + R(W_{k+1}))/2, and the central flow's prediction R + σ²/η.
    public var descentAveragedLoss: Double = .nan
    public var centralPredictedLoss: Double = .nan
}

/// The outcome of `gradflow compare`.
public struct ComparisonSummary: Sendable {
    public var flow: GradientFlowRunSummary
    public var descent: GradientDescentRunSummary
    /// The central flow's run, with `compare --central`.
    public var central: RunSummary<CentralFlowResult>?
    public var rows: [ComparisonRow]
    public var outputPath: String
    public var flowPath: String
    public var descentPath: String
    /// `OUT-central.h5`, with `compare --central`.
    public var centralPath: String?
}

/// Gradient flow and gradient descent from the same initial weights (MATH.md §5). The flow is
/// recorded at exactly the descent's output times t = kη (CVODE interpolates there), and run to the
/// descent's horizon Kη without the loss stop, so every descent row has its flow counterpart.
///
/// Files: `OUT-flow.h5` and `OUT-descent.h5` are ordinary trajectory files; `OUT.h5` holds the shared
/// summary (`format = "gradflow-comparison"`): the `/comparison` columns `step`, `time`,
/// `relative_distance`, `flow_excess_risk`, `descent_excess_risk`, `flow_conservation_drift`,
/// `descent_conservation_drift`, `descent_conservation_predicted`, and attributes with the learning
/// rate, 2/η, the final losses and sharpnesses and the names of the two trajectory files.
///
/// With the central flow (MATH.md §11; `central` given): `OUT-central.h5` is its trajectory at the same times,
/// and the summary adds, per row, descent's distance to it, the distances of descent's two-step average to both
/// flows, the three sharpnesses, the central phase, and descent's two-step average loss beside the central
/// flow's prediction R + σ²/η (columns `central_relative_distance`, `averaged_flow_distance`,
/// `averaged_central_distance`, `descent_sharpness`, `flow_sharpness`, `central_sharpness`, `central_phase`,
/// `descent_averaged_loss`, `central_predicted_loss`), and attributes with each one's final sharpness and the
/// central flow's switch times. A central flow whose S(0) > 2/η is refused before any run unless it allows the
/// catapult.
///
/// Memory: the flows' weights at every output time are kept until the descent has passed them
/// (rows × P doubles each).
public enum GradientComparison {
    /// The two trajectory files beside the comparison file `output`.
    public static func trajectoryPaths(for output: String) -> (flow: String, descent: String) {
        (base(of: output) + "-flow.h5", base(of: output) + "-descent.h5")
    }

    /// The central flow's trajectory file beside the comparison file `output`.
    public static func centralPath(for output: String) -> String { base(of: output) + "-central.h5" }

    /// `output` without its `.h5`: the stem of the trajectory files beside it.
    private static func base(of output: String) -> String { output.hasSuffix(".h5") ? String(output.dropLast(3)) : output }

    /// Refuses a comparison whose flow could not be recorded at the descent's times kη: times below
    /// `OutputSchedule.smallestTime`, or equal in floating point (a tiny η), which the integrators cannot step to.
    public static func validateFlowTimes(_ config: RunConfiguration) throws {
        guard let settings = config.descent else { return }
        let flowTimes = settings.outputSteps(count: config.schedule.count, spacing: config.schedule.spacing).dropFirst()
            .map { Double($0) * settings.learningRate }
        do { try OutputSchedule(times: flowTimes).validateTimes() } catch GradFlowError.invalidConfiguration {
            throw GradFlowError.invalidConfiguration(
                field: .learningRate, value: "\(settings.learningRate)",
                reason: "the flow is recorded at the descent's times kη, and t = \(flowTimes.first ?? 0) … \(flowTimes.last ?? 0) are below "
                    + "\(OutputSchedule.smallestTime), where the integrators' step sizes underflow, or equal in floating point; give a larger \(field: .learningRate)")
        }
    }

    /// - Parameter central: the central flow's settings (its learning rate is the descent's), or nil for the
    ///   flow and descent alone.
    public static func execute(_ config: RunConfiguration, central: CentralFlowSettings? = nil, commandLine: String,
                               progress: (RunProgress) -> Void = { _ in },
                               shouldStop: @escaping () -> Bool = { false }) throws -> ComparisonSummary {
        guard let settings = config.descent else {
            throw GradFlowError.invalidConfiguration(field: .learningRate, value: "(none)", reason: "the comparison needs a learning rate")
        }
        try config.validate()
        try validateFlowTimes(config)
        BLASThreads.set(config.threads)
        let central = central.map { CentralFlowSettings(learningRate: settings.learningRate, allowCatapult: $0.allowCatapult,
                                                        gapTolerance: $0.gapTolerance) }
        try central?.validate()
        let (flowPath, descentPath) = trajectoryPaths(for: config.outputPath)
        let centralPath = central.map { _ in Self.centralPath(for: config.outputPath) }
        let paths = [config.outputPath, flowPath, descentPath] + (centralPath.map { [$0] } ?? [])
        for path in paths {
            try OutputFile.checkTarget(path, overwrite: config.overwrite, inputs: config.inputFiles)
        }
        // Held for the whole comparison: no other command writes these paths meanwhile (a finished
        // OUT-flow.h5 included); the first one receives the summary at the end.
        let claims = try paths.map {
            try OutputFile(claiming: $0, overwrite: config.overwrite, inputs: config.inputFiles)
        }
        let eta = settings.learningRate
        let steps = settings.outputSteps(count: config.schedule.count, spacing: config.schedule.spacing)
        let setup = try RunSetup.prepare(config, checkOutput: false, storedWeightRows: steps.count * (central == nil ? 1 : 2))
        let times = steps.dropFirst().map { Double($0) * eta }
        // The central flow's refusal (S(0) > 2/η) comes before any run.
        if let central {
            var check = config
            check.descent = nil
            check.central = central
            do {
                _ = try CentralFlowDynamics(configuration: check, setup: setup)
            } catch let GradFlowError.invalidConfiguration(field, value, reason) where field == .centralLearningRate {
                throw GradFlowError.invalidConfiguration(field: .learningRate, value: value, reason: "(the central flow's η) " + reason)
            }
        }

        var flowConfig = config
        flowConfig.outputPath = flowPath
        flowConfig.descent = nil
        flowConfig.schedule = OutputSchedule(times: times)
        flowConfig.lossTolerance = nil
        var flowRows: [Int: RecordedRow] = [:]
        var index = 0
        let flow = try GradientFlowRun.execute(flowConfig, commandLine: commandLine, progress: progress, shouldStop: shouldStop, onRow: { row in
            if index < steps.count { flowRows[steps[index]] = row }
            index += 1
        })

        var centralRun: RunSummary<CentralFlowResult>?
        var centralRows: [Int: RecordedRow] = [:]
        if let central, let centralPath {
            var centralConfig = flowConfig
            centralConfig.outputPath = centralPath
            centralConfig.central = central
            var index = 0
            centralRun = try CentralFlowRun.execute(centralConfig, commandLine: commandLine, progress: progress, shouldStop: shouldStop,
                                                    onRow: { row in
                if index < steps.count { centralRows[steps[index]] = row }
                index += 1
            })
        }
        let probe = central.map { _ in CentralComparisonProbe(setup: setup, learningRate: eta) }

        var descentConfig = config
        descentConfig.outputPath = descentPath
        var rows: [ComparisonRow] = []
        let descent: GradientDescentRunSummary
        let files = (flow: flowPath, descent: descentPath, central: centralPath)
        do {
            descent = try GradientDescentRun.execute(descentConfig, commandLine: commandLine, progress: progress,
                                                     shouldStop: shouldStop) { row in
                guard let k = row.step, let reference = flowRows.removeValue(forKey: k) else { return }
                var compared = ComparisonRow(
                    step: k, time: row.time, relativeDistance: relativeDistance(row.weights, reference.weights),
                    flowExcessRisk: reference.evaluation.excessRisk, descentExcessRisk: row.evaluation.excessRisk,
                    flowDrift: reference.monitors["conservation_drift"]?.max() ?? .nan,
                    descentDrift: row.monitors["conservation_drift_abs"]?.max() ?? .nan,
                    descentPredictedDrift: row.monitors["conservation_drift_predicted"]?.max() ?? .nan)
                // After a central flow that stopped early (multiple eigenvalues, stationary) the rows have no central
                // counterpart: descent's and the flow's own columns are still measured.
                probe?.compare(descent: row, flow: reference, central: centralRows.removeValue(forKey: k), into: &compared)
                rows.append(compared)
            }
        } catch let error as GradFlowError {
            // An interrupted descent: the rows compared so far are kept, marked as interrupted.
            if case .interrupted = error {
                try write(rows: rows, flow: flow, descent: nil, central: centralRun, config: config, commandLine: commandLine,
                          files: files, claimed: claims[0])
            }
            throw error
        }
        try write(rows: rows, flow: flow, descent: descent, central: centralRun, config: config, commandLine: commandLine,
                  files: files, claimed: claims[0])
        return ComparisonSummary(flow: flow, descent: descent, central: centralRun, rows: rows, outputPath: config.outputPath,
                                 flowPath: flowPath, descentPath: descentPath, centralPath: centralPath)
    }

    /// ‖a − b‖ / ‖b‖ (‖a − b‖ when b = 0).
    static func relativeDistance(_ a: [Double], _ b: [Double]) -> Double {
        let difference = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let scale = b.map { $0 * $0 }.reduce(0, +).squareRoot()
        return scale > 0 ? difference / scale : difference
    }

    /// The summary file; `descent` nil when the descent was interrupted (`status = interrupted`, the rows so far).
    private static func write(rows: [ComparisonRow], flow: GradientFlowRunSummary, descent: GradientDescentRunSummary?,
                              central: RunSummary<CentralFlowResult>?, config: RunConfiguration, commandLine: String,
                              files: (flow: String, descent: String, central: String?), claimed: OutputFile) throws {
        let (flowPath, descentPath) = (files.flow, files.descent)
        try HDF5Output.write(config.outputPath, overwrite: config.overwrite, inputs: config.inputFiles,
                           estimatedBytes: rows.count * 8 * 16 + commandLine.utf8.count * 4 + 65_536, claimed: claimed) { root in
            let eta = config.descent?.learningRate ?? .nan
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let json = (try? encoder.encode(config)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
            let attributes: [(String, AttributeValue)] = [
                ("format", .string("gradflow-comparison")), ("format_version", .integer(GradFlowVersion.formatVersion)),
                ("gradflow_version", .string(GradFlowVersion.string)), ("command_line", .string(commandLine)), ("config", .string(json)),
                ("lr", .double(eta)), ("edge_of_stability", .double(2 / eta)),
                ("flow_file", .string(URL(fileURLWithPath: flowPath).lastPathComponent)),
                ("descent_file", .string(URL(fileURLWithPath: descentPath).lastPathComponent)),
                ("status", .string(descent == nil ? RunStatus.interrupted.rawValue : RunStatus.completed.rawValue)),
                ("descent_stop", .string(descent?.result.stopReason.rawValue ?? "interrupted")),
                ("descent_steps", .integer(descent?.result.steps ?? rows.last?.step ?? 0)),
                ("flow_final_loss", .double(flow.result.finalEvaluation.loss)),
                ("descent_final_loss", .double(descent?.result.finalEvaluation.loss ?? .nan)),
                ("flow_final_excess_risk", .double(flow.result.finalEvaluation.excessRisk)),
                ("descent_final_excess_risk", .double(descent?.result.finalEvaluation.excessRisk ?? .nan)),
                ("flow_final_sharpness", .double(flow.report.finalSharpness ?? .nan)),
                ("descent_final_sharpness", .double(descent?.report.finalSharpness ?? .nan)),
            ]
            for (name, value) in attributes { try root.setAttribute(name, value) }
            if let central, let path = files.central {
                let switches = central.result.switches
                let centralAttributes: [(String, AttributeValue)] = [
                    ("central_file", .string(URL(fileURLWithPath: path).lastPathComponent)),
                    ("central_stop", .string(central.result.stopReason.rawValue)),
                    ("central_final_loss", .double(central.result.finalEvaluation.loss)),
                    ("central_final_sharpness", .double(central.result.finalSharpness)),
                    ("central_final_phase", .integer(central.result.finalPhase.rawValue)),
                    ("central_switch_times", .doubles(switches.isEmpty ? [.nan] : switches.map(\.time))),
                    ("descent_final_sharpness_lanczos", .double(rows.last?.descentSharpness ?? .nan)),
                    ("descent_final_averaged_sharpness", .double(rows.last?.averagedDescentSharpness ?? .nan)),
                    ("flow_final_sharpness_lanczos", .double(rows.last?.flowSharpness ?? .nan)),
                ]
                for (name, value) in centralAttributes { try root.setAttribute(name, value) }
            }
            let group = try root.createGroup("comparison")
            var columns: [(String, (ComparisonRow) -> Double)] = [
                ("step", { Double($0.step) }), ("time", { $0.time }), ("relative_distance", { $0.relativeDistance }),
                ("flow_excess_risk", { $0.flowExcessRisk }), ("descent_excess_risk", { $0.descentExcessRisk }),
                ("flow_conservation_drift", { $0.flowDrift }), ("descent_conservation_drift", { $0.descentDrift }),
                ("descent_conservation_predicted", { $0.descentPredictedDrift }),
            ]
            if central != nil {
                columns += [
                    ("central_relative_distance", { $0.centralDistance }), ("averaged_flow_distance", { $0.averagedFlowDistance }),
                    ("averaged_central_distance", { $0.averagedCentralDistance }), ("descent_sharpness", { $0.descentSharpness }),
                    ("averaged_descent_sharpness", { $0.averagedDescentSharpness }),
                    ("flow_sharpness", { $0.flowSharpness }), ("central_sharpness", { $0.centralSharpness }),
                    ("central_phase", { $0.centralPhase }), ("descent_averaged_loss", { $0.descentAveragedLoss }),
                    ("central_predicted_loss", { $0.centralPredictedLoss }),
                ]
            }
            for (name, value) in columns { try group.writeDataset(name, rows.map(value), shape: [rows.count]) }
            // Named dimension (format version 2): the rows are labelled by the descent step.
            try group.makeDimensionScale("step")
            let longNames = ["step": "gradient-descent step k", "time": "time t = kη of the step (dimensionless, not a date)",
                             "relative_distance": "‖θ_GD(k) − θ_GF(kη)‖ / ‖θ_GF(kη)‖",
                             "flow_excess_risk": "excess risk of the flow at t = kη", "descent_excess_risk": "excess risk of descent at step k",
                             "flow_conservation_drift": "flow's relative conservation drift (max over k)",
                             "descent_conservation_drift": "descent's absolute conservation drift (max over k)",
                             "descent_conservation_predicted": "descent's predicted η² drift (max over k)",
                             "central_relative_distance": "‖θ_GD(k) − θ_CF(kη)‖ / ‖θ_CF(kη)‖ (central flow)",
                             "averaged_flow_distance": "‖θ̄_GD(k) − θ_GF(kη)‖ / ‖θ_GF(kη)‖, θ̄_GD(k) = (θ_k + θ_{k+1})/2",
                             "averaged_central_distance": "‖θ̄_GD(k) − θ_CF(kη)‖ / ‖θ_CF(kη)‖, θ̄_GD(k) = (θ_k + θ_{k+1})/2",
                             "descent_sharpness": "S = λ_max(H) of descent at step k",
                             "averaged_descent_sharpness": "S at descent's two-step average θ̄_GD(k) = (θ_k + θ_{k+1})/2", "flow_sharpness": "S of gradient flow at t = kη",
                             "central_sharpness": "S of the central flow at t = kη", "central_phase": "central-flow phase (0 stable, 1 edge)",
                             "descent_averaged_loss": "descent's two-step average loss (R(θ_k) + R(θ_{k+1}))/2",
                             "central_predicted_loss": "the central flow's predicted time-averaged loss R + σ²/η"]
            for (name, _) in columns {
                if name != "step" { try group.attachDimensions(name, ["/comparison/step"]) }
                try group.describe(name, longNames[name] ?? name)
            }
        }
    }
}
