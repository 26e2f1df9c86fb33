import Foundation
import Synchronization
import Testing
@testable import GradFlow

/// `gradflow sweep --isolate threads` (the default) against `--isolate processes`: the same files bit for bit,
/// the same messages and exit codes, and the same resume and interrupt behaviour.
@Suite("In-process sweeps", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct InProcessSweepTests {
    let gradflow = ProcessResult.gradflow ?? ""

    /// `gradflow ARGUMENTS` started in `folder` with its output discarded (to be stopped by a signal).
    func launchSweep(_ arguments: [String], in folder: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gradflow)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Every numeric dataset (as the bit patterns of its values) and every attribute GradFlow reads, by path
    /// (`/solver@steps`), without the attributes that time the run.
    static func contents(_ path: String) throws -> [String: String] {
        let root = try HDF5File.open(path)
        var found: [String: String] = [:]
        func visit(_ node: HDF5Node, _ name: String) throws {
            for attribute in node.attributeNames() where !["wall_time", "seconds_per_step"].contains(attribute) {
                if let value = try? node.attribute(attribute) { found[name + "@" + attribute] = "\(value)" }
            }
            guard !node.isDataset else { return }
            for child in node.children() {
                let path = name == "/" ? "/" + child : name + "/" + child
                let childNode = try node.open(child)
                if childNode.isDataset, try node.isNumericDataset(child) {
                    let (values, shape) = try node.readDataset(child)
                    found[path] = "\(shape): " + values.map { String($0.bitPattern, radix: 16) }.joined(separator: " ")
                }
                try visit(childNode, path)
            }
        }
        try visit(root, "/")
        return found
    }

    /// A log without the lines that time the run.
    static func untimed(_ log: String) -> [Substring] {
        log.split(separator: "\n").filter { !$0.hasPrefix("  time ") && !$0.hasPrefix("  descent ") }
    }

    /// `gradflow sweep ARGUMENTS -o sweep` run in `folder` (created), so that both modes record the same paths.
    func sweep(_ arguments: [String], in folder: String) throws -> ProcessResult {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try ProcessResult.run(gradflow, ["sweep"] + arguments + ["-o", "sweep", "-q"], in: URL(fileURLWithPath: folder))
    }

    @Test("threads and processes write the same trajectory files bit for bit, the same logs and the same table")
    func sameBits() throws {
        let scratch = try Scratch()
        let grid = ["--methods", "flow,descent", "--init-scales", "0.2,0.4", "--lrs", "0.05", "--depths", "2,3", "--seeds", "7",
                    "--flow-args", "--t-final 300", "--descent-args", "--steps 3000", "--jobs", "2"]
        let threads = try sweep(grid + ["--isolate", "threads"], in: scratch.path("threads"))
        let processes = try sweep(grid + ["--isolate", "processes"], in: scratch.path("processes"))
        #expect(threads.status == 0 && processes.status == 0, "\(threads.stderr) \(processes.stderr)")
        #expect(threads.stdout == processes.stdout)
        for index in 0..<8 {
            let name = "sweep/run-0000\(index)"
            let a = try Self.contents(scratch.path("threads/\(name).h5")), b = try Self.contents(scratch.path("processes/\(name).h5"))
            #expect(a.count > 40 && a["/final/weights"] != nil && a["/trajectory/loss"] != nil, "\(name): \(a.keys.sorted())")
            #expect(a.keys.sorted() == b.keys.sorted(), "\(name)")
            for key in a.keys.sorted() where a[key] != b[key] { Issue.record("\(name) \(key) differs: \(a[key] ?? "") vs \(b[key] ?? "")") }
            let logs = try ["threads", "processes"].map { try String(contentsOfFile: scratch.path("\($0)/\(name).log"), encoding: .utf8) }
            #expect(logs[0].contains("GradFlow ") && logs[0].contains("  monitor "), "\(name): \(logs[0])")
            #expect(Self.untimed(logs[0]) == Self.untimed(logs[1]), "\(name)")
        }
        let tables = try ["threads", "processes"].map { try SweepTable.parse(String(contentsOfFile: scratch.path("\($0)/sweep/summary.csv"),
                                                                                         encoding: .utf8), source: $0) }
        #expect(tables[0].map(\.outcome) == Array(repeating: "converged", count: 8))
        #expect(tables[0].map { [$0.finalLoss, $0.finalSharpness, $0.finalTime] } == tables[1].map { [$0.finalLoss, $0.finalSharpness, $0.finalTime] })
    }

    @Test("a failing point on threads: the sweep goes on, and its line, log and exit code are those of processes")
    func failingPoint() throws {
        let scratch = try Scratch()
        let weights = scratch.path("w2.h5")
        #expect(try ProcessResult.run(gradflow, ["run", "--depth", "2", "--monitors", "none", "-q", "-o", weights]).status == 0)
        let bad = try scratch.write("bad.csv", "1,2,3\n4,abc,6\n")
        let cases: [([String], Int32, String)] = [
            (["--depths", "2,3", "--run-args", "--init-weights \(weights) --monitors none"], 0,
             "1 of 2 runs failed (exit code ≠ 0); the first, sweep/run-00001.log: --depth 3: \(weights) holds a network of depth 2"),
            (["--depths", "2,3", "--run-args", "--data \(bad)"], 2, "sweep: all 2 runs failed on bad input; the first, sweep/run-00000.log: "),
            (["--depths", "2", "--seeds", "1,2", "--run-args", "--samples 10 --input-dim 2 --monitors none", "--flow-args", "--max-steps 1"], 1,
             "sweep: all 2 runs failed; the first, sweep/run-00000.log: ARKODE failed"),
        ]
        for (i, (arguments, status, message)) in cases.enumerated() {
            let threads = try sweep(arguments, in: scratch.path("threads-\(i)"))
            let processes = try sweep(arguments + ["--isolate", "processes"], in: scratch.path("processes-\(i)"))
            #expect(threads.status == status, "\(arguments): \(threads.stdout) \(threads.stderr)")
            #expect((threads.stdout + threads.stderr).contains(message), "\(arguments): \(threads.stdout) \(threads.stderr)")
            #expect(threads.stdout == processes.stdout && threads.stderr == processes.stderr && threads.status == processes.status,
                    "\(arguments): \(threads.stdout) \(threads.stderr) vs \(processes.stdout) \(processes.stderr)")
            if status != 0 { #expect(threads.stderr.split(separator: "\n").count == 1, "\(threads.stderr)") }
            for index in 0..<2 {
                let logs = try ["threads", "processes"].map { try String(contentsOfFile: scratch.path("\($0)-\(i)/sweep/run-0000\(index).log"), encoding: .utf8) }
                #expect(Self.untimed(logs[0]) == Self.untimed(logs[1]), "\(arguments) point \(index): \(logs[0]) vs \(logs[1])")
            }
        }
        // The point that did not fail ran to its end (the table's outcome column).
        let lines = try String(contentsOfFile: scratch.path("threads-0/sweep/summary.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false)[8] } == ["converged", "missing"])
    }

    @Test("a sweep on threads stopped by SIGINT closes its runs as interrupted (exit 130); one killed with -9 resumes its partial runs")
    func interruptAndResume() throws {
        let scratch = try Scratch()
        let folder = scratch.path("run")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Runs of about a second (a flush per output row), three of them on two threads.
        let arguments = ["sweep", "--depths", "3", "--seeds", "1,2,3", "--flow-args", "--t-final 3e4 --output-times 3000 --flush-interval 0 --monitors pl",
                         "--jobs", "2", "-q", "-o", "sweep"]
        let sweepFolder = folder + "/sweep"
        func partials() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: sweepFolder)) ?? []).filter { $0.hasSuffix(".h5.partial") }.sorted()
        }
        /// Starts the sweep, waits for a run's partial file (and `delay` more seconds), sends `signal`, and returns the
        /// exit status.
        func stopped(by signal: Int32, delay: Double = 0) throws -> Int32 {
            let process = try launchSweep(arguments, in: folder)
            let deadline = Date().addingTimeInterval(60)
            while partials().isEmpty && process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        }

        // SIGINT: the running runs close their files as interrupted; the summary is written; exit 130.
        #expect(try stopped(by: SIGINT) == 130)
        let interrupted = try SweepTable.parse(String(contentsOfFile: sweepFolder + "/summary.csv", encoding: .utf8), source: "summary")
        #expect(interrupted.contains { $0.outcome == "interrupted" }, "\(interrupted.map(\.outcome))")
        #expect(interrupted.allSatisfy { ["interrupted", "missing", "converged"].contains($0.outcome) })
        #expect(partials().isEmpty)
        let log = try String(contentsOfFile: sweepFolder + "/run-00000.log", encoding: .utf8)
        #expect(log.hasPrefix("gradflow: error: interrupted"), "\(log)")

        // kill -9: the running runs leave their partial files.
        var killed: [String] = []
        for _ in 0..<3 where killed.isEmpty {
            #expect(try stopped(by: SIGKILL, delay: 0.1) == 128 + SIGKILL)  // in the middle of a run, as SavedWeightsTests
            killed = partials()
        }
        #expect(!killed.isEmpty, "no run was killed in the middle")
        let done = try FileManager.default.contentsOfDirectory(atPath: sweepFolder).filter { name in
            name.hasSuffix(".h5") && name.hasPrefix("run-") && (try? TrajectoryFile(path: sweepFolder + "/" + name))?.status == .completed
        }

        // Run again: finished points are skipped, partial ones continued, the others run.
        let again = try ProcessResult.run(gradflow, arguments, in: URL(fileURLWithPath: folder))
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: sweepFolder)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
            .map { "\($0): " + ((try? String(contentsOfFile: sweepFolder + "/" + $0, encoding: .utf8)) ?? "").prefix(300) }
        #expect(again.status == 0 && !again.stdout.contains("failed"), "\(again.stdout) \(again.stderr) \(logs)")
        #expect(again.stdout.contains("(\(done.count) already done)"), "\(again.stdout)")
        #expect(partials().isEmpty)
        let rows = try SweepTable.parse(String(contentsOfFile: sweepFolder + "/summary.csv", encoding: .utf8), source: "summary")
        #expect(rows.map(\.outcome) == ["converged", "converged", "converged"])
        for name in killed {
            let file = try TrajectoryFile(path: sweepFolder + "/" + String(name.dropLast(".partial".count)))
            #expect(file.attribute(TrajectoryLayout.Root.resumedBy).contains("run --resume sweep/\(name) --quiet"), "\(name)")
        }
        // The continued runs end where uninterrupted ones do.
        let reference = try ProcessResult.run(gradflow, arguments.dropLast(2) + ["-o", "reference"], in: URL(fileURLWithPath: folder))
        #expect(reference.status == 0)
        let referenceRows = try SweepTable.parse(String(contentsOfFile: folder + "/reference/summary.csv", encoding: .utf8), source: "reference")
        for (row, expected) in zip(rows, referenceRows) {
            #expect(abs(row.finalLoss - expected.finalLoss) <= 1e-9 * expected.finalLoss, "\(row.file)")
        }
    }

    @Test("a descent sweep killed with -9 resumes its partial descents when started again (both isolation modes), to the uninterrupted bits",
          arguments: ["threads", "processes"])
    func killedDescentsResume(isolate: String) throws {
        let scratch = try Scratch()
        let folder = scratch.path("run")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Descents of a second or two (every step to the end, a flush per output row), two of them at once.
        let arguments = ["sweep", "--methods", "descent", "--lrs", "0.05", "--depths", "3", "--seeds", "1,2", "--isolate", isolate,
                         "--descent-args", "--steps 200000 --loss-tol 0 --output-times 2000 --flush-interval 0 --monitors none",
                         "--jobs", "2", "-q", "-o", "sweep"]
        let sweepFolder = folder + "/sweep"
        func partials() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: sweepFolder)) ?? []).filter { $0.hasSuffix(".h5.partial") }.sorted()
        }
        let process = try launchSweep(arguments, in: folder)
        let deadline = Date().addingTimeInterval(60)
        while partials().count < 2 && process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        Thread.sleep(forTimeInterval: 0.2)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        if isolate == "processes" {  // the point processes end with their sweep, as interrupted files
            Thread.sleep(forTimeInterval: 0.5)
        }
        let killed = partials()
        if isolate == "threads" { #expect(!killed.isEmpty, "no descent was killed in the middle") }
        let again = try ProcessResult.run(gradflow, arguments, in: URL(fileURLWithPath: folder))
        #expect(again.status == 0 && !again.stdout.contains("cannot resume"), "\(again.stdout) \(again.stderr)")
        #expect(partials().isEmpty)
        let rows = try SweepTable.parse(String(contentsOfFile: sweepFolder + "/summary.csv", encoding: .utf8), source: "summary")
        #expect(rows.map(\.outcome) == ["horizon", "horizon"], "\(rows.map(\.outcome))")
        for name in killed {
            let file = try TrajectoryFile(path: sweepFolder + "/" + String(name.dropLast(".partial".count)))
            #expect(file.attribute(TrajectoryLayout.Root.resumedBy).contains("run --resume sweep/\(name) --quiet"), "\(name)")
        }
        let reference = try ProcessResult.run(gradflow, arguments.dropLast(2) + ["-o", "reference"], in: URL(fileURLWithPath: folder))
        #expect(reference.status == 0)
        for name in ["run-00000.h5", "run-00001.h5"] {
            let resumed = try TrajectoryFile(path: sweepFolder + "/" + name).dataset("final/weights")
            let uninterrupted = try TrajectoryFile(path: folder + "/reference/" + name).dataset("final/weights")
            #expect(resumed.map(\.bitPattern) == uninterrupted.map(\.bitPattern), "\(name)")
        }
    }
}

/// `InProcessSweep` itself, in this process.
@Suite("InProcessSweep")
struct InProcessSweepLibraryTests {
    func config(_ path: String, seed: UInt64) -> RunConfiguration {
        var config = RunConfiguration(seed: seed, depth: 2, outputPath: path, monitors: .none)
        config.schedule.tFinal = 100
        return config
    }

    @Test("every job runs once on the workers; a failing one is reported and the others go on; progress ends with the counts")
    func jobsAndFailure() throws {
        let scratch = try Scratch()
        var bad = config(scratch.path("bad.h5"), seed: 2)
        bad.initWeightsFile = scratch.path("missing.h5")
        let jobs = [SweepJob(point: SweepPoint(index: 0, method: "flow", initialization: "gaussian", initScale: 0.1, learningRate: nil, depth: 2, width: nil, seed: 1),
                             work: .flow(config(scratch.path("a.h5"), seed: 1)), commandLine: "a"),
                    SweepJob(point: SweepPoint(index: 1, method: "flow", initialization: "gaussian", initScale: 0.1, learningRate: nil, depth: 2, width: nil, seed: 2),
                             work: .flow(bad), commandLine: "bad"),
                    SweepJob(point: SweepPoint(index: 2, method: "descent", initialization: "gaussian", initScale: 0.1, learningRate: 0.05, depth: 2, width: nil, seed: 3),
                             work: .descent({ var c = config(scratch.path("c.h5"), seed: 3); c.descent = DescentSettings(learningRate: 0.05, steps: 200); c.schedule.tFinal = 10; return c }()),
                             commandLine: "c")]
        let completed = Mutex<[Int]>([])
        var last: SweepProgress?
        let summaries = Mutex<[Int: SweepJobResult]>([:])
        let outcomes = InProcessSweep.run(jobs, workers: 2, progress: { last = $0 }, completed: { job, result in
            completed.withLock { $0.append(job.point.index) }
            summaries.withLock { $0[job.point.index] = result }
        })
        #expect(completed.withLock { $0.sorted() } == [0, 1, 2])
        #expect(last == SweepProgress(total: 3, done: 3, notClean: 1, running: 0, elapsed: last?.elapsed ?? 0))
        #expect(BLASThreads.current == 1 && InProcessSweep.activeThreadCount == nil)
        guard outcomes.count == 3, case .completed? = outcomes[0], case .failed? = outcomes[1], case .completed? = outcomes[2] else {
            Issue.record("outcomes: \(outcomes)")
            return
        }
        let results = summaries.withLock { $0 }
        guard case .flow(let a)? = results[0], case .failed(let error)? = results[1], case .descent(let c)? = results[2] else {
            Issue.record("results: \(results)")
            return
        }
        #expect(a.stopReason == .lossTolerance || a.stopReason == .horizon)
        #expect(c.result.steps > 0 && c.divergenceMessage == nil)
        #expect((error as? GradFlowError)?.isInputError == true, "\(error)")
        #expect(try TrajectoryFile(path: scratch.path("a.h5")).status == .completed)
        #expect(try TrajectoryFile(path: scratch.path("a.h5")).attribute(TrajectoryLayout.Root.commandLine) == "a")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("bad.h5")))
    }

    @Test("a sweep told to stop starts nothing")
    func stopBeforeStart() throws {
        let scratch = try Scratch()
        let jobs = (0..<3).map { i in
            SweepJob(point: SweepPoint(index: i, method: "flow", initialization: "gaussian", initScale: 0.1, learningRate: nil, depth: 2, width: nil, seed: UInt64(i)),
                     work: .flow(config(scratch.path("\(i).h5"), seed: UInt64(i))), commandLine: "x")
        }
        let outcomes = InProcessSweep.run(jobs, workers: 2, shouldStop: { true })
        #expect(outcomes.count == 3 && outcomes.allSatisfy { $0 == nil })
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).isEmpty)
    }
}
