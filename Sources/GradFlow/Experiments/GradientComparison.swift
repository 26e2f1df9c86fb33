import Foundation

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
}

/// The outcome of `gradflow compare`.
public struct ComparisonSummary: Sendable {
    public var flow: GradientFlowRunSummary
    public var descent: GradientDescentRunSummary
    public var rows: [ComparisonRow]
    public var outputPath: String
    public var flowPath: String
    public var descentPath: String
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
/// Memory: the flow's weights at every output time are kept until the descent has passed them
/// (rows × P doubles).
public enum GradientComparison {
    /// The two trajectory files beside the comparison file `output`.
    public static func trajectoryPaths(for output: String) -> (flow: String, descent: String) {
        let base = output.hasSuffix(".h5") ? String(output.dropLast(3)) : output
        return (base + "-flow.h5", base + "-descent.h5")
    }

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

    public static func execute(_ config: RunConfiguration, commandLine: String,
                               progress: (RunProgress) -> Void = { _ in },
                               shouldStop: @escaping () -> Bool = { false }) throws -> ComparisonSummary {
        guard let settings = config.descent else {
            throw GradFlowError.invalidConfiguration(field: .learningRate, value: "(none)", reason: "the comparison needs a learning rate")
        }
        try config.validate()
        try validateFlowTimes(config)
        BLASThreads.set(config.threads)
        let (flowPath, descentPath) = trajectoryPaths(for: config.outputPath)
        for path in [config.outputPath, flowPath, descentPath] {
            try OutputFile.checkTarget(path, overwrite: config.overwrite, inputs: config.inputFiles)
        }
        // Held for the whole comparison: no other command writes these three paths meanwhile (a finished
        // OUT-flow.h5 included); the first one receives the summary at the end.
        let claims = try [config.outputPath, flowPath, descentPath].map {
            try OutputFile(claiming: $0, overwrite: config.overwrite, inputs: config.inputFiles)
        }
        let eta = settings.learningRate
        let steps = settings.outputSteps(count: config.schedule.count, spacing: config.schedule.spacing)
        _ = try RunSetup.prepare(config, checkOutput: false, storedWeightRows: steps.count)
        let times = steps.dropFirst().map { Double($0) * eta }

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

        var descentConfig = config
        descentConfig.outputPath = descentPath
        var rows: [ComparisonRow] = []
        let descent: GradientDescentRunSummary
        do {
            descent = try GradientDescentRun.execute(descentConfig, commandLine: commandLine, progress: progress,
                                                     shouldStop: shouldStop) { row in
                guard let k = row.step, let reference = flowRows.removeValue(forKey: k) else { return }
                let difference = zip(row.weights, reference.weights).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                let scale = reference.weights.map { $0 * $0 }.reduce(0, +).squareRoot()
                rows.append(ComparisonRow(
                    step: k, time: row.time, relativeDistance: scale > 0 ? difference / scale : difference,
                    flowExcessRisk: reference.evaluation.excessRisk, descentExcessRisk: row.evaluation.excessRisk,
                    flowDrift: reference.monitors["conservation_drift"]?.max() ?? .nan,
                    descentDrift: row.monitors["conservation_drift_abs"]?.max() ?? .nan,
                    descentPredictedDrift: row.monitors["conservation_drift_predicted"]?.max() ?? .nan))
            }
        } catch let error as GradFlowError {
            // An interrupted descent: the rows compared so far are kept, marked as interrupted.
            if case .interrupted = error {
                try write(rows: rows, flow: flow, descent: nil, config: config, commandLine: commandLine,
                          flowPath: flowPath, descentPath: descentPath, claimed: claims[0])
            }
            throw error
        }
        try write(rows: rows, flow: flow, descent: descent, config: config, commandLine: commandLine,
                  flowPath: flowPath, descentPath: descentPath, claimed: claims[0])
        return ComparisonSummary(flow: flow, descent: descent, rows: rows, outputPath: config.outputPath,
                                 flowPath: flowPath, descentPath: descentPath)
    }

    /// The summary file; `descent` nil when the descent was interrupted (`status = interrupted`, the rows so far).
    private static func write(rows: [ComparisonRow], flow: GradientFlowRunSummary, descent: GradientDescentRunSummary?,
                              config: RunConfiguration, commandLine: String, flowPath: String, descentPath: String,
                              claimed: OutputFile) throws {
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
            let group = try root.createGroup("comparison")
            let columns: [(String, (ComparisonRow) -> Double)] = [
                ("step", { Double($0.step) }), ("time", { $0.time }), ("relative_distance", { $0.relativeDistance }),
                ("flow_excess_risk", { $0.flowExcessRisk }), ("descent_excess_risk", { $0.descentExcessRisk }),
                ("flow_conservation_drift", { $0.flowDrift }), ("descent_conservation_drift", { $0.descentDrift }),
                ("descent_conservation_predicted", { $0.descentPredictedDrift }),
            ]
            for (name, value) in columns { try group.writeDataset(name, rows.map(value), shape: [rows.count]) }
            // Named dimension (format version 2): the rows are labelled by the descent step.
            try group.makeDimensionScale("step")
            let longNames = ["step": "gradient-descent step k", "time": "time t = kη of the step (dimensionless, not a date)",
                             "relative_distance": "‖θ_GD(k) − θ_GF(kη)‖ / ‖θ_GF(kη)‖",
                             "flow_excess_risk": "excess risk of the flow at t = kη", "descent_excess_risk": "excess risk of descent at step k",
                             "flow_conservation_drift": "flow's relative conservation drift (max over k)",
                             "descent_conservation_drift": "descent's absolute conservation drift (max over k)",
                             "descent_conservation_predicted": "descent's predicted η² drift (max over k)"]
            for (name, _) in columns {
                if name != "step" { try group.attachDimensions(name, ["/comparison/step"]) }
                try group.describe(name, longNames[name] ?? name)
            }
        }
    }
}
