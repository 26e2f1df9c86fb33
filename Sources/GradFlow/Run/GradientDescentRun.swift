import Foundation

/// The outcome of `gradflow descent`, for the summary.
public struct GradientDescentRunSummary: Sendable {
    public var report: RunReport
    public var result: GradientDescentResult
    public var settings: DescentSettings
    /// A one-line account of the divergence, when GD diverged.
    public var divergenceMessage: String?
    /// The configuration the run used (for a resumed run, the one recorded in its file).
    public var configuration: RunConfiguration
}

/// One gradient-descent run end to end, on the same problem, initialisation, monitors and file layout
/// as `GradientFlowRun` (time t = kη, plus a `/trajectory/step` column). Divergence is an outcome:
/// the file is closed with `status = diverged` and the step, and the summary carries the message.
public enum GradientDescentRun {
    public static func execute(_ config: RunConfiguration, commandLine: String,
                               progress: (RunProgress) -> Void = { _ in },
                               shouldStop: () -> Bool = { false },
                               onRow: (_ step: Int, RecordedRow) -> Void = { _, _ in }) throws -> GradientDescentRunSummary {
        guard let settings = config.descent else {
            throw GradFlowError.invalidConfiguration(field: .learningRate, value: "(none)", reason: "gradient descent needs a learning rate")
        }
        BLASThreads.set(config.threads)  // before any BLAS call: the thread count is part of the bits
        let setup = try RunSetup.prepare(config)
        let risk = RiskFactory.makeRisk(network: setup.network, problem: setup.problem)
        let descent = GradientDescent(risk: risk, shape: setup.network.shape, settings: settings)
        let trackDrift = config.monitors.conservation && setup.network.hasConservationLaw
        let recorder = try RunRecorder(config: config, setup: setup, method: "gradient-descent", commandLine: commandLine,
                                       dynamics: .descent(learningRate: settings.learningRate),
                                       extraColumns: [TrajectoryColumn("step")],
                                       resumeExtras: [0] + [Double](repeating: 0, count: trackDrift ? descent.driftCount : 0))
        return try perform(config, settings: settings, setup: setup, recorder: recorder, descent: descent, trackDrift: trackDrift,
                           from: setup.initialWeights, start: nil, progress: progress, shouldStop: shouldStop, onRow: onRow)
    }

    /// Continues an interrupted or killed gradient-descent run in its own file (as `GradientFlowRun.resume`
    /// does for the flow), from the step, weights and accumulated drift of its last flush: the result is
    /// bit-identical to the uninterrupted run's.
    public static func resume(_ path: String, commandLine: String, progress: (RunProgress) -> Void = { _ in },
                              shouldStop: () -> Bool = { false }) throws -> GradientDescentRunSummary {
        if OutputFile.isLocked(path) { throw GradFlowError.outputInUse(path: path) }
        let (config, state): (RunConfiguration, ResumeState) = try {
            let file = try TrajectoryFile(path: path)
            guard file.attribute("method") == "gradient-descent" else {
                throw GradFlowError.invalidConfiguration(field: .resumePath, value: "\(path)",
                                                    reason: "is not a gradient-descent run (method = \(file.attribute("method")))")
            }
            guard let status = file.status, status != .completed, status != .diverged else {
                throw GradFlowError.invalidConfiguration(field: .resumePath, value: "\(path)",
                                                    reason: "the run ended (\(file.attribute("status"))); there is nothing to resume")
            }
            let config: RunConfiguration
            do {
                config = try JSONDecoder().decode(RunConfiguration.self, from: Data(file.attribute("config").utf8))
            } catch {
                throw GradFlowError.invalidData(file: path, field: "config", reason: "is not a configuration this version reads")
            }
            return (config, try file.resumeState())
        }()
        try config.validate()
        guard let settings = config.descent else {
            throw GradFlowError.invalidData(file: path, field: "config", reason: "has no learning rate")
        }
        BLASThreads.set(config.threads)
        let setup = try RunSetup.fromTrajectory(path, configuration: config)
        let risk = RiskFactory.makeRisk(network: setup.network, problem: setup.problem)
        let descent = GradientDescent(risk: risk, shape: setup.network.shape, settings: settings)
        let trackDrift = config.monitors.conservation && setup.network.hasConservationLaw
        if let (config, setup, recorder, note) = try GradientFlowRun.restartIfDamaged(
            path, config: config, commandLine: commandLine, dynamics: .descent(learningRate: settings.learningRate),
            extraColumns: [TrajectoryColumn("step")], resumeExtras: [0] + [Double](repeating: 0, count: trackDrift ? descent.driftCount : 0)) {
            var summary = try perform(config, settings: settings, setup: setup, recorder: recorder, descent: descent, trackDrift: trackDrift,
                                      from: setup.initialWeights, start: nil, progress: progress, shouldStop: shouldStop, onRow: { _, _ in })
            summary.report.notes.append(note)
            return summary
        }
        var start: GradientDescent.Start?
        if state.row >= 0 {
            let driftCount = trackDrift ? descent.driftCount : 0
            guard state.weights.count == setup.network.shape.parameterCount, state.weights.allSatisfy(\.isFinite),
                  state.extras.count == 1 + driftCount, let step = Int(exactly: state.extras[0]), (0...settings.steps).contains(step) else {
                throw GradFlowError.invalidData(file: path, field: "/resume/state",
                                                reason: "does not hold a descent state for this network (P = \(setup.network.shape.parameterCount))")
            }
            start = GradientDescent.Start(step: step, drift: Array(state.extras.dropFirst()),
                                          initialLoss: risk.evaluate(at: setup.initialWeights).loss)
        }
        let output = try OutputFile(resuming: path, overwrite: config.overwrite)
        let recorder = try RunRecorder(resuming: output, config: config, setup: setup, dynamics: .descent(learningRate: settings.learningRate))
        try recorder.writer.setRootAttribute("resumed_by", .string(commandLine))
        return try perform(config, settings: settings, setup: setup, recorder: recorder, descent: descent, trackDrift: trackDrift,
                           from: start == nil ? setup.initialWeights : state.weights, start: start,
                           progress: progress, shouldStop: shouldStop, onRow: { _, _ in })
    }

    private static func perform(_ config: RunConfiguration, settings: DescentSettings, setup: RunSetup, recorder: RunRecorder,
                                descent: GradientDescent, trackDrift: Bool, from weights: [Double], start: GradientDescent.Start?,
                                progress: (RunProgress) -> Void, shouldStop: () -> Bool,
                                onRow: (_ step: Int, RecordedRow) -> Void) throws -> GradientDescentRunSummary {
        let start0 = Date()
        let outputSteps = settings.outputSteps(count: config.schedule.count, spacing: config.schedule.spacing)
        let tFinal = Double(settings.steps) * settings.learningRate
        let result: GradientDescentResult
        do {
            result = try descent.run(from: weights, start: start, outputSteps: outputSteps, lossTolerance: config.lossTolerance,
                                     trackDrift: trackDrift, shouldStop: shouldStop) { k, t, theta, evaluation, drift in
            let values = try recorder.record(time: t, weights: theta, evaluation: evaluation, extra: ["step": [Double(k)]],
                                             predictedDrift: drift, step: k)
            onRow(k, RecordedRow(time: t, weights: theta, evaluation: evaluation, monitors: values))
            progress(RunProgress(time: t, tFinal: tFinal, evaluation: evaluation, rows: recorder.rows,
                                 elapsed: Date().timeIntervalSince(start0), file: recorder.writer.contentPath))
            }
        } catch let error as GradFlowError {
            let status: RunStatus = { if case .interrupted = error { return .interrupted } else { return .failed } }()
            throw recorder.abandon(after: error, status: status,
                                   solver: [("integrator", .string("gradient descent")), ("lr", .double(settings.learningRate))])
        }
        let verdicts = try recorder.close(time: result.finalTime, weights: result.finalWeights, evaluation: result.finalEvaluation,
                                          atMinimum: result.stop == .lossTolerance)
        var solverAttributes: [(String, AttributeValue)] = [
            ("integrator", .string("gradient descent")), ("lr", .double(settings.learningRate)), ("steps", .integer(result.steps)),
            ("max_steps", .integer(settings.steps)), ("stop_reason", .string(result.stop.rawValue)),
            ("final_time", .double(result.finalTime)), ("seconds_per_step", .double(result.secondsPerStep)),
            ("wall_time", .double(Date().timeIntervalSince(start0))),
        ]
        let message: String
        var divergence: String?
        let status: RunStatus
        switch result.stop {
        case .lossTolerance:
            status = .completed
            message = "R − R_min reached \(config.lossTolerance ?? 0) at step \(result.steps) (t = \(result.finalTime))"
        case .horizon:
            status = .completed
            message = "took all \(result.steps) steps (t = \(result.finalTime))"
        case .diverged:
            status = .diverged
            solverAttributes.append(("divergence_step", .integer(result.steps)))
            message = "gradient descent diverged at step \(result.steps) (t = \(result.finalTime)) with η = \(settings.learningRate): "
                + "R − R_min exceeded \(settings.divergenceFactor)·max(R(0), 1) or became non-finite"
            divergence = message
        }
        try recorder.finish(status: status, message: message, finalWeights: result.finalWeights,
                            solver: solverAttributes, verdicts: verdicts)
        let report = RunReport(setup: setup, finalWeights: result.finalWeights, start: start0, outputPath: recorder.writer.path,
                               verdicts: verdicts, recorder: recorder)
        return GradientDescentRunSummary(report: report, result: result, settings: settings, divergenceMessage: divergence,
                                         configuration: config)
    }
}
