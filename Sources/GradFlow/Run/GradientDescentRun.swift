import Foundation

/// The outcome of `gradflow descent`, for the summary.
public struct GradientDescentRunSummary: Sendable {
    public var report: RunReport
    public var result: GradientDescentResult
    public var settings: DescentSettings
    /// A one-line account of the divergence, when GD diverged.
    public var divergenceMessage: String?
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
            throw GradFlowError.invalidArgument(option: "--lr", value: "(none)", reason: "gradient descent needs a learning rate")
        }
        BLASThreads.set(config.threads)  // before any BLAS call: the thread count is part of the bits
        let setup = try RunSetup.prepare(config)
        let start = Date()
        let recorder = try RunRecorder(config: config, setup: setup, method: "gradient-descent", commandLine: commandLine,
                                       dynamics: .descent(learningRate: settings.learningRate),
                                       extraColumns: [TrajectoryColumn("step")])
        let risk = RiskFactory.makeRisk(network: setup.network, problem: setup.problem)
        let descent = GradientDescent(risk: risk, shape: setup.network.shape, settings: settings)
        let outputSteps = settings.outputSteps(count: config.schedule.count, spacing: config.schedule.spacing)
        let tFinal = Double(settings.steps) * settings.learningRate
        let result: GradientDescentResult
        do {
            result = try descent.run(from: setup.initialWeights, outputSteps: outputSteps, lossTolerance: config.lossTolerance,
                                     trackDrift: config.monitors.conservation && setup.network.hasConservationLaw, shouldStop: shouldStop) { k, t, theta, evaluation, drift in
            let values = try recorder.record(time: t, weights: theta, evaluation: evaluation, extra: ["step": [Double(k)]],
                                             predictedDrift: drift, step: k)
            onRow(k, RecordedRow(time: t, weights: theta, evaluation: evaluation, monitors: values))
            progress(RunProgress(time: t, tFinal: tFinal, evaluation: evaluation, rows: recorder.rows,
                                 elapsed: Date().timeIntervalSince(start), file: recorder.writer.contentPath))
            }
        } catch let error as GradFlowError {
            let status: RunStatus = { if case .interrupted = error { return .interrupted } else { return .failed } }()
            throw recorder.abandon(after: error, status: status,
                                   solver: [("integrator", .string("gradient descent")), ("lr", .double(settings.learningRate))])
        }
        let verdicts = try recorder.close(time: result.finalTime, weights: result.finalWeights, evaluation: result.finalEvaluation,
                                          atMinimum: result.stop == .lossTolerance)
        var solverAttributes: [(String, HDF5Value)] = [
            ("integrator", .string("gradient descent")), ("lr", .double(settings.learningRate)), ("steps", .integer(result.steps)),
            ("max_steps", .integer(settings.steps)), ("stop_reason", .string(result.stop.rawValue)),
            ("final_time", .double(result.finalTime)), ("seconds_per_step", .double(result.secondsPerStep)),
            ("wall_time", .double(Date().timeIntervalSince(start))),
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
        let report = RunReport(setup: setup, finalWeights: result.finalWeights, start: start, outputPath: config.outputPath,
                               verdicts: verdicts, recorder: recorder)
        return GradientDescentRunSummary(report: report, result: result, settings: settings, divergenceMessage: divergence)
    }
}
