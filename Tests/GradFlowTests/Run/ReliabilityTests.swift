import Foundation
import GradFlow
import Testing

/// A deep linear risk whose gradient turns NaN after a number of calls: a model that breaks down
/// mid-run, to drive CVODE's own failure path (CVODE itself is real).
final class BreakingRisk: DifferentiableRisk {
    let base: DeepLinearRisk
    var remaining: Int
    init(_ base: DeepLinearRisk, healthyCalls: Int) { self.base = base; remaining = healthyCalls }
    var parameterCount: Int { base.parameterCount }
    var lastGradientIsFinite: Bool { remaining > 0 && base.lastGradientIsFinite }
    func gradient(at theta: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double) {
        remaining -= 1
        base.gradient(at: theta, into: out, scale: scale)
        if remaining <= 0 { for i in out.indices { out[i] = .nan } }
    }
    func linearize(at theta: UnsafeBufferPointer<Double>) { base.linearize(at: theta) }
    func hessianVectorProduct(_ v: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, scale: Double) {
        base.hessianVectorProduct(v, into: out, scale: scale)
    }
    func excessRisk(at theta: UnsafeBufferPointer<Double>) -> Double { base.excessRisk(at: theta) }
    func evaluate(at theta: UnsafeBufferPointer<Double>) -> RiskEvaluation { base.evaluate(at: theta) }
    func excessRiskOfLastGradient() -> Double { base.excessRiskOfLastGradient() }
    func predictions(at theta: [Double], inputs: [Double], count: Int) -> [Double] { base.predictions(at: theta, inputs: inputs, count: count) }
}

final class Counter: @unchecked Sendable { var value = 0 }

@Suite("Reliability: interruption, resume, failures, determinism")
struct ReliabilityTests {
    static func config(_ path: String) -> RunConfiguration {
        RunConfiguration(depth: 4, solver: SolverSettings(relativeTolerance: 1e-10, absoluteTolerance: 1e-13),
                         outputPath: path, flushInterval: 0)
    }

    /// On the run's own thread the stop comes right after the 60th row is recorded. On a second thread the 60th row
    /// is handed over when the stop comes: the rows still waiting (at most the thread's depth, 2) may be dropped by
    /// the monitors' own check of the stop, as a row being measured on one thread is.
    @Test("an interrupted run closes its file as interrupted; --resume ends at the uninterrupted run's weights",
          arguments: [RecordingThreadPolicy.never, .always])
    func interruptAndResume(recording: RecordingThreadPolicy) throws {
        let scratch = try Scratch()
        let reference = try GradientFlowRun.execute(Self.config(scratch.path("full.h5")), commandLine: "test")
        let path = scratch.path("cut.h5")
        let rows = Counter()
        #expect(throws: GradFlowError.self) {
            try GradientFlowRun.execute(Self.config(path), commandLine: "test", progress: { _ in rows.value += 1 },
                                        shouldStop: { rows.value >= 60 }, recordingThread: recording)
        }
        do {  // closed again before resuming: HDF5 refuses a writable open of a file held open read-only
            let cut = try TrajectoryFile(path: path)
            #expect(cut.status == .interrupted)
            let recorded = cut.datasetLength("trajectory/time") ?? 0
            #expect(recording == .never ? recorded == 60 : (58...60).contains(recorded), "\(recorded) rows")
            #expect(try cut.resumeState().row + 1 == recorded)
        }
        let resumed = try GradientFlowRun.resume(path, commandLine: "test resume")
        #expect(try TrajectoryFile(path: path).status == .completed)
        #expect(Reference.relativeError(resumed.result.finalWeights, reference.result.finalWeights) < 1e-6)
        #expect(resumed.report.rows == reference.report.rows)
        // The verdicts cover the whole run: the same monitors hold.
        #expect(resumed.verdicts.map(\.outcome) == reference.verdicts.map(\.outcome))
        // A completed run is not resumed again.
        #expect(throws: GradFlowError.self) { try GradientFlowRun.resume(path, commandLine: "again") }
    }

    @Test("the same configuration twice in one process gives bit-identical trajectory data")
    func determinism() throws {
        let scratch = try Scratch()
        var config = Self.config(scratch.path("a.h5"))
        config.initialization = .residual(scale: 0.5)
        _ = try GradientFlowRun.execute(config, commandLine: "test")
        config.outputPath = scratch.path("b.h5")
        _ = try GradientFlowRun.execute(config, commandLine: "test")
        let a = try TrajectoryFile(path: scratch.path("a.h5")), b = try TrajectoryFile(path: scratch.path("b.h5"))
        let columnsA = try a.trajectoryColumns(), columnsB = try b.trajectoryColumns()
        #expect(columnsA.map(\.name) == columnsB.map(\.name))
        let differing = zip(columnsA, columnsB).filter { $0.values.map(\.bitPattern) != $1.values.map(\.bitPattern) }.map(\.0.name)
        #expect(differing.isEmpty, "\(differing)")
        for name in ["final/weights", "trajectory/conservation_drift", "checkpoints/sharpness", "checkpoints/weights"] {
            #expect(try a.dataset(name).map(\.bitPattern) == b.dataset(name).map(\.bitPattern), "\(name)")
        }
    }

    @Test("a right-hand side that turns non-finite ends in a typed SUNDIALS error with its flag name",
          arguments: [(IntegrationMethod.bdfKrylov, "CV_"), (.erk, "ARK_"), (.auto, "ARK_")])
    func nonFiniteRightHandSide(method: IntegrationMethod, prefix: String) throws {
        let problem = try Fixtures.problem()
        let (network, theta) = try Fixtures.fullyConnected([4, 3, 1])
        let risk = BreakingRisk(DeepLinearRisk(network: network, problem: problem), healthyCalls: 40)
        do {
            _ = try GradientFlowIntegrator(risk: risk, settings: SolverSettings(method: method))
                .integrate(from: theta, schedule: OutputSchedule(tFinal: 100, count: 10), lossTolerance: nil) { _, _, _ in }
            Issue.record("the run did not fail")
        } catch let GradFlowError.solver(flagName, flag, time, _) {
            #expect(flagName.hasPrefix(prefix) && flag < 0, "\(flagName)")
            #expect(time > 0)
        }
    }
}

@Suite("Reliability from the command line", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct ProcessReliabilityTests {
    let gradflow = ProcessResult.gradflow ?? ""
    /// A run that takes minutes: Adams after convergence is held to steps of about 1/S.
    let longRun = ["run", "--method", "adams", "--no-loss-stop", "--t-final", "1e7", "--monitors", "none", "-q"]

    /// Waits for the process, killing it (and failing) if it outlives `seconds`.
    func wait(_ process: Process, seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("the process did not stop within \(seconds) s")
        }
        process.waitUntilExit()
    }

    func start(_ arguments: [String]) throws -> Process { try ProcessResult.launch(gradflow, arguments) }

    @Test("SIGINT: exit 130, status interrupted, the file readable; SIGTERM too")
    func interrupt() throws {
        let scratch = try Scratch()
        for (name, signal) in [("int.h5", SIGINT), ("term.h5", SIGTERM)] {
            let path = scratch.path(name)
            let process = try start(longRun + ["-o", path, "--flush-interval", "0.05"])
            Thread.sleep(forTimeInterval: 2)
            kill(process.processIdentifier, signal)
            wait(process, seconds: 30)
            let file = try TrajectoryFile(path: path)
            #expect(process.terminationStatus == 130, "\(file.attribute("message"))")
            #expect(file.status == .interrupted)
            #expect((file.datasetLength("trajectory/time") ?? 0) >= 1)
        }
    }

    @Test("kill -9: the partial file still opens, up to its last flush, and the final path was never written")
    func killNine() throws {
        let scratch = try Scratch()
        let path = scratch.path("k9.h5")
        let process = try start(longRun + ["-o", path, "--flush-interval", "0.05"])
        // Killed once a row is on disk (at most 30 s: a loaded machine can take seconds to get there).
        let deadline = Date().addingTimeInterval(30)
        repeat {
            Thread.sleep(forTimeInterval: 0.1)
        } while process.isRunning && Date() < deadline
            && ((try? TrajectoryFile(path: path + ".partial"))?.datasetLength("trajectory/time") ?? 0) < 2
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: path))
        let file = try TrajectoryFile(path: path + ".partial")
        #expect(file.status == .running)
        let rows = file.datasetLength("trajectory/time") ?? 0
        #expect(rows >= 1)
        guard case .integer(let row) = try file.value("row", in: "resume") else { Issue.record("no resume row"); return }
        #expect(row == rows - 1)
    }

    @Test("too much work (--max-steps): exit 1, status failed, the flag in /solver",
          arguments: [("bdf-krylov", "CV_TOO_MUCH_WORK"), ("erk", "ARK_TOO_MUCH_WORK"), ("auto", "ARK_TOO_MUCH_WORK")])
    func tooMuchWork(method: String, flag: String) throws {
        let scratch = try Scratch()
        let path = scratch.path("fail.h5")
        let result = try ProcessResult.run(gradflow, ["run", "--method", method, "--max-steps", "3", "-o", path, "-q"])
        #expect(result.status == 1)
        #expect(result.stderr.contains(flag))
        let file = try TrajectoryFile(path: path)
        #expect(file.status == .failed)
        #expect(try file.value("flag", in: "solver") == .string(flag))
    }

    @Test("two processes with the same configuration write bit-identical data")
    func determinismAcrossProcesses() throws {
        let scratch = try Scratch()
        let arguments = ["run", "--depth", "4", "--init", "residual", "--init-scale", "0.5", "--rtol", "1e-10", "-q"]
        for name in ["a.h5", "bb.h5"] {
            #expect(try ProcessResult.run(gradflow, arguments + ["-o", scratch.path(name)]).status == 0)
        }
        let a = try TrajectoryFile(path: scratch.path("a.h5")), b = try TrajectoryFile(path: scratch.path("bb.h5"))
        for (x, y) in zip(try a.trajectoryColumns(), try b.trajectoryColumns()) {
            #expect(x.values.map(\.bitPattern) == y.values.map(\.bitPattern), "\(x.name)")
        }
        for name in ["final/weights", "checkpoints/sharpness", "checkpoints/weights", "trajectory/theta_norm"] {
            #expect(try a.dataset(name).map(\.bitPattern) == b.dataset(name).map(\.bitPattern), "\(name)")
        }
    }

    @Test("--resume of a file that completed is refused with exit 2")
    func resumeCompleted() throws {
        let scratch = try Scratch()
        let path = scratch.path("done.h5")
        #expect(try ProcessResult.run(gradflow, ["run", "--depth", "2", "-o", path, "-q"]).status == 0)
        let result = try ProcessResult.run(gradflow, ["run", "--resume", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("the run completed; there is nothing to resume"))
    }
}

/// Partials edited by hand or corrupted, and signals during a long monitor row, through the executable: a resume
/// refuses with one line (exit 2, the file unchanged) or sets the partial aside and says so; a signal ends a
/// deep run within about a second, its file resumable.
@Suite("Reliability: edited partials, signals inside the monitors", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct EditedPartialTests {
    /// A small interrupted run's file, made a partial (`NAME.h5.partial`, status interrupted) and edited by h5py.
    static func partial(_ edit: String, in scratch: Scratch, python: String, suffix: String = ".h5.partial") throws -> String {
        let base = scratch.path("base.h5")
        if !FileManager.default.fileExists(atPath: base) {
            #expect(try Fault.run(["run"] + Fault.small + ["-o", base]).status == 0)
        }
        return try HostileInputTests.edited(edit, base: base, python: python, status: "interrupted", suffix: suffix)
    }

    @Test("a resume of an edited partial is refused with one line naming the file and the dataset, and changes no byte", arguments: [
        ("state-shape", "/resume/state: has shape [3], expected [2, 10…] records [sequence, time, row, checksum, θ…]; the run cannot be resumed"),
        ("state-rows", "/resume/state: has shape [3, 40], expected [2, 10…]"),
        ("state-text", "/resume/state: is not a numeric dataset (expected [2, 10…] records"),
        ("newer", "format_version: is 99, newer than the format 3 that gradflow"),
        ("no-time", "/trajectory/time: missing: every trajectory holds time, loss, excess_risk, grad_norm_sq"),
        ("no-grad", "/trajectory/grad_norm_sq: missing"),
        ("text-loss", "/trajectory/loss: holds text or another non-numeric type, not numbers"),
        ("group-loss", "/trajectory/loss: is a group, not a column of numbers"),
        ("matrix-time", "/trajectory/time: has shape [2, 3], expected one value per row"),
        ("short-loss", "/trajectory/loss: has 2 rows, fewer than the"),
    ])
    func refusedResume(edit: String, message: String) throws {
        guard let python = ProcessResult.python else { return }
        let scratch = try Scratch()
        let path = try Self.partial(edit, in: scratch, python: python)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        Fault.expectRefused(try Fault.run(["run", "--resume", path]), [path + ": " + message],
                            outputs: [String(path.dropLast(".partial".count))], "resume \(edit)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "\(edit): the refused resume changed the file")
    }

    @Test("a state that fails its checksum, or /resume attributes that do not match, set the partial aside: the rerun says so", arguments: [
        ("bad-checksums", "(/resume/state: no record passes its checksum: the file was edited or corrupted)"),
        ("bad-attributes", "(/resume: its weights, time and row attributes are missing or do not match the"),
    ])
    func fallbackIsReported(edit: String, note: String) throws {
        guard let python = ProcessResult.python else { return }
        let scratch = try Scratch()
        let path = try Self.partial(edit, in: scratch, python: python)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let o = try Fault.run(["run", "--resume", path], timeout: 60)
        #expect(o.status == 0 && !o.signaled, "\(edit): \(o.stderr)")
        #expect(o.stdout.contains("note      \(path) could not be continued \(note)"), "\(edit): \(o.stdout)")
        #expect(o.stdout.contains("it is kept as \(path).damaged, and the run started again from t = 0"), "\(edit): \(o.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + ".damaged")) == before, "\(edit): the edited partial was not kept as it was")
        let final = String(path.dropLast(".partial".count))
        #expect(try TrajectoryFile(path: final).status == .completed)
        #expect(try TrajectoryFile(path: final).datasetLength("trajectory/time") == TrajectoryFile(path: scratch.path("base.h5")).datasetLength("trajectory/time"))
    }

    @Test("an edited state in a file that is not a partial is refused, not restarted over its rows")
    func fallbackOnAFinalFile() throws {
        guard let python = ProcessResult.python else { return }
        let scratch = try Scratch()
        let path = try Self.partial("bad-checksums", in: scratch, python: python, suffix: "-final.h5")
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        Fault.expectRefused(try Fault.run(["run", "--resume", path]),
                            [path + ": /resume/state: no record passes its checksum: the file was edited or corrupted; the run cannot be resumed"],
                            "resume of an interrupted final file")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
    }

    @Test("SIGTERM and SIGINT during a deep network's monitor rows end the run within about a second; it resumes", arguments: [SIGTERM, SIGINT])
    func signalInsideTheMonitors(signal: Int32) throws {
        let scratch = try Scratch()
        let out = scratch.path("deep.h5")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Fault.gradflow)
        process.arguments = ["run", "--depth", "30000", "--widths", "1", "--input-dim", "1", "--t-final", "1e-3", "--output-times", "2", "-q", "-o", out]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(1_500_000)  // inside the monitors' first rows (set-up and the t = 0 row take seconds at this depth)
        let sent = Date()
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let latency = Date().timeIntervalSince(sent)
        #expect(process.terminationStatus == 130 && process.terminationReason == .exit, "exit \(process.terminationStatus)")
        #expect(latency < 2.5, "the signal took \(latency) s to end the run")
        #expect(try TrajectoryFile(path: out).status == .interrupted)
        let resumed = try Fault.run(["run", "--resume", out, "-q"], timeout: 120)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try TrajectoryFile(path: out).status == .completed)
    }
}

