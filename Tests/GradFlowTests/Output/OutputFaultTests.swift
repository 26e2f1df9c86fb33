import Foundation
import GradFlow
import Testing

/// What a user's files look like on disk: every byte, for "untouched" checks.
func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

/// The names in a folder, hidden ones included.
func listing(_ folder: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() }

/// A run long enough to be killed or interrupted in the middle (about 0.6 s in a debug build), recorded at 1,000
/// uniform times with a flush after every row, and short enough to finish its resumed part quickly. A residual
/// start: no saddle plateau, whose escape would amplify a restart's rounding (a small Gaussian start resumed
/// within its plateau ends 1e-6 away, which is the flow's sensitivity, not the resume's error).
let interruptibleRun = ["run", "--init", "residual", "--no-loss-stop", "--t-final", "1000", "--output-times", "1000", "--spacing", "uniform",
                        "--rtol", "1e-12", "--atol", "1e-14", "--flush-interval", "0", "--checkpoint-every", "100", "-q"]

@Suite("Fault injection: outputs (atomic files, one writer, no output over an input, full disks, kill -9)",
       .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct OutputFaultTests {
    let gradflow = ProcessResult.gradflow ?? ""

    func run(_ arguments: [String], in folder: URL? = nil) throws -> ProcessResult {
        try ProcessResult.run(gradflow, arguments, in: folder)
    }

    /// Starts gradflow in the background, its output discarded.
    func launch(_ arguments: [String]) throws -> Process { try ProcessResult.launch(gradflow, arguments) }

    /// Waits (at most 20 s) until `path.partial` exists or the process ended.
    func waitForPartial(_ path: String, of process: Process) {
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: path + ".partial") && process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.002)
        }
    }

    /// A data file and a weights file of the default problem's shapes, written by the tool itself.
    func inputs(_ scratch: Scratch) throws -> (h5: String, csv: String, weights: String) {
        let h5 = scratch.path("data.h5")
        #expect(try run(["run", "--depth", "2", "-o", h5, "-q"]).status == 0)
        let csv = try scratch.write("data.csv", (0..<20).map { i in "\(Double(i) / 7),\(Double(i % 3)),\(Double(i) * 0.1)" }.joined(separator: "\n") + "\n")
        return (h5, csv, h5)
    }

    // MARK: never write over an input

    @Test("the output is an input (same path, relative path, symlink, hard link, partial name): exit 2, the input untouched")
    func outputIsAnInput() throws {
        let scratch = try Scratch()
        let (h5, csv, _) = try inputs(scratch)
        try FileManager.default.createSymbolicLink(atPath: scratch.path("link.h5"), withDestinationPath: h5)
        try FileManager.default.linkItem(atPath: h5, toPath: scratch.path("hard.h5"))
        try FileManager.default.createDirectory(atPath: scratch.path("sub"), withIntermediateDirectories: true)
        let table = try scratch.write("a.csv", "index,method\n")
        let cases: [[String]] = [
            ["run", "--data", h5, "-o", h5, "--force"],
            ["run", "--data", csv, "-o", csv, "--force"],
            ["run", "--data", h5, "-o", scratch.path("link.h5"), "--force"],
            ["run", "--data", h5, "-o", scratch.path("hard.h5"), "--force"],
            ["run", "--data", h5, "-o", scratch.path("sub/../data.h5"), "--force"],
            ["run", "--data", "data.h5", "-o", "./data.h5", "--force"],
            ["run", "--init-weights", h5, "-o", h5, "--force"],
            ["run", "--init-weights", scratch.path("link.h5"), "-o", h5, "--force"],
            ["descent", "--lr", "0.01", "--data", h5, "-o", h5, "--force"],
            ["compare", "--lr", "0.01", "--steps", "10", "--data", h5, "-o", scratch.path("data.h5"), "--force"],
            ["critical-lr", "--depths", "2", "--data", h5, "-o", h5, "--force"],
            ["merge", table, "-o", table],
            ["merge", scratch.path("b.csv"), table, "-o", "./a.csv"],
        ]
        let before = (bytes(h5), bytes(csv), bytes(table))
        for arguments in cases {
            let result = try run(arguments, in: scratch.url)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("writing it would destroy the input"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
        #expect(bytes(h5) == before.0 && bytes(csv) == before.1 && bytes(table) == before.2)
        // compare writes OUT-flow.h5 too: a data file of that name is protected.
        let flowNamed = scratch.path("cmp-flow.h5")
        try FileManager.default.copyItem(atPath: h5, toPath: flowNamed)
        let compare = try run(["compare", "--lr", "0.01", "--steps", "10", "--data", flowNamed, "-o", scratch.path("cmp.h5"), "--force", "-q"])
        #expect(compare.status == 2 && compare.stderr.contains("destroy the input"), "\(compare.stderr)")
        #expect(bytes(flowNamed) == before.0)
        // A sweep spec where the sweep writes (a run, its log, the summary): refused before any run starts.
        try FileManager.default.createDirectory(atPath: scratch.path("sp"), withIntermediateDirectories: true)
        for name in ["run-00000.h5", "run-00001.log", "summary.csv", "summary.h5"] {
            let spec = try scratch.write("sp/" + name, #"{"initScales": [0.05, 0.1], "depths": [2]}"#)
            let before = bytes(spec)
            let sweep = try run(["sweep", "--spec", spec, "-o", scratch.path("sp"), "-q"])
            #expect(sweep.status == 2 && sweep.stderr.contains("destroy the input"), "\(name): \(sweep.stderr)")
            #expect(bytes(spec) == before)
            #expect(listing(scratch.path("sp")) == [name], "\(name): \(listing(scratch.path("sp")))")
            try FileManager.default.removeItem(atPath: spec)
        }
        // A trajectory file named like a figure: plot does not draw over it.
        let figure = scratch.path("fig.png")
        try FileManager.default.copyItem(atPath: h5, toPath: figure)
        let plot = try run(["plot", figure, "-o", scratch.path("fig")])
        #expect(plot.status == 2 && plot.stderr.contains("destroy the input"), "\(plot.stderr)")
        #expect(bytes(figure) == before.0)
    }

    // MARK: --force replaces only at the end

    @Test("--force: a refused or failing run leaves the old file as it was; a run that ends replaces it at once")
    func forceKeepsTheOldFile() throws {
        let scratch = try Scratch()
        let out = scratch.path("r.h5")
        #expect(try run(["run", "--depth", "2", "-o", out, "-q"]).status == 0)
        let old = bytes(out)
        for arguments in [["--widths", "5,3,2"], ["--depth", "3", "--init-weights", out], ["--rtol", "2"],
                          ["--data", scratch.path("missing.h5")], ["--depth", "3", "--widths", "100000"]] {
            let result = try run(["run", "-o", out, "--force", "-q"] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(bytes(out) == old, "\(arguments) changed the old file")
        }
        // A size limit below what the new run needs: exit 1, the old file intact, no temporary left.
        let limited = try ProcessResult.run("/bin/bash", ["-c", "ulimit -f 64; exec \"$0\" \"$@\"", gradflow,
                                                        "run", "--depth", "3", "-o", out, "--force", "-q"])
        #expect(limited.status == 1, "\(limited.stderr)")
        #expect(bytes(out) == old)
        #expect(listing(scratch.url.path).filter { $0.hasPrefix(".") }.isEmpty, "\(listing(scratch.url.path))")
        // A run that ends (here: failed, a valid file with its flag) replaces the old file.
        let failed = try run(["run", "--max-steps", "3", "--method", "erk", "-o", out, "--force", "-q"])
        #expect(failed.status == 1)
        #expect(try TrajectoryFile(path: out).status == .failed)
        #expect(listing(scratch.url.path) == ["r.h5"])
    }

    @Test("special outputs: a device or FIFO is refused even with --force, a symlink is written through, a dangling one needs --force")
    func specialOutputs() throws {
        let scratch = try Scratch()
        for arguments in [["-o", "/dev/null", "--force"], ["-o", "/dev/zero", "--force"], ["-o", scratch.url.path, "--force"]] {
            let result = try run(["run", "--depth", "2", "-q"] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("is not a regular file") || result.stderr.contains("is a folder"), "\(result.stderr)")
        }
        #expect(FileManager.default.fileExists(atPath: "/dev/null"))
        let fifo = scratch.path("pipe")
        #expect(mkfifo(fifo, 0o644) == 0)
        let piped = try run(["run", "--depth", "2", "-o", fifo, "--force", "-q"])
        #expect(piped.status == 2 && piped.stderr.contains("is not a regular file"), "\(piped.stderr)")
        // A link to a result: the result is replaced, the link stays.
        let target = scratch.path("target.h5")
        #expect(try run(["run", "--depth", "2", "-o", target, "-q"]).status == 0)
        try FileManager.default.createSymbolicLink(atPath: scratch.path("latest.h5"), withDestinationPath: target)
        #expect(try run(["run", "--depth", "3", "-o", scratch.path("latest.h5"), "--force", "-q"]).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: scratch.path("latest.h5")) == target)
        #expect(try TrajectoryFile(path: target).value("depth", in: "network") == .integer(3))
        // A dangling link is refused without --force (before the run, not at its end).
        try FileManager.default.createSymbolicLink(atPath: scratch.path("dangling.h5"), withDestinationPath: scratch.path("nowhere.h5"))
        let dangling = try run(["run", "--depth", "2", "-o", scratch.path("dangling.h5"), "-q"])
        #expect(dangling.status == 2 && dangling.stderr.contains("symbolic link"), "\(dangling.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("dangling.h5.partial")))
    }

    // MARK: one writer per path

    @Test("two writers of one path: the second exits 2 and changes nothing; the first ends with a valid file")
    func concurrentWriters() throws {
        let scratch = try Scratch()
        let out = scratch.path("r.h5")
        let old = try scratch.write("keep.h5", "an old result")
        try FileManager.default.copyItem(atPath: old, toPath: out)
        // Minutes long (Adams after convergence is held to steps of about 1/S); interrupted below.
        let first = try launch(["run", "--method", "adams", "--no-loss-stop", "--t-final", "1e7", "--monitors", "none", "-q",
                                "--flush-interval", "0.05", "-o", out, "--force"])
        waitForPartial(out, of: first)
        #expect(FileManager.default.fileExists(atPath: out + ".partial"))
        let seconds: [[String]] = [
            ["run", "--depth", "2", "-o", out, "--force", "-q"],
            ["run", "--depth", "2", "-o", out, "-q"],
            ["descent", "--lr", "0.01", "--steps", "10", "-o", out, "--force", "-q"],
            ["critical-lr", "--depths", "2", "-o", out, "--force"],
            ["run", "--resume", out + ".partial", "-q"],
        ]
        for arguments in seconds {
            let result = try run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            // Without --force the old file's existence is named first; either way nothing is touched.
            #expect(result.stderr.contains("another gradflow process is writing this output") || result.stderr.contains("exists already"),
                    "\(arguments): \(result.stderr)")
        }
        // Resuming the old file itself would need the same partial: refused too.
        #expect(try run(["run", "--resume", out, "-q"]).status == 2)
        #expect(bytes(out) == bytes(old), "a second writer touched the old file")
        kill(first.processIdentifier, SIGINT)
        first.waitUntilExit()
        #expect(first.terminationStatus == 130)
        let file = try TrajectoryFile(path: out)
        #expect(file.status == .interrupted)
        #expect((file.datasetLength("trajectory/time") ?? 0) >= 1)
        #expect(listing(scratch.url.path) == ["keep.h5", "r.h5"])
    }

    // MARK: kill -9 at random moments

    @Test("kill -9 at seeded random moments: never a file at the final path, the partial readable, --resume ends at the uninterrupted weights")
    func killNineAtRandomMoments() throws {
        let scratch = try Scratch()
        let reference = scratch.path("reference.h5")
        #expect(try run(interruptibleRun + ["-o", reference]).status == 0)
        let expected = try TrajectoryFile(path: reference)
        let weights = try expected.dataset("final/weights")
        let rows = expected.datasetLength("trajectory/time") ?? 0
        var generator = SeededGenerator(seed: 20261202)
        var resumed = 0
        for trial in 0..<4 {
            let out = scratch.path("k\(trial).h5")
            let process = try launch(interruptibleRun + ["-o", out])
            // Trial 0: a random instant of the first 60 ms (start-up, the header). The others: a random
            // instant of the run, counted from the moment its partial file appears.
            if trial > 0 { waitForPartial(out, of: process) }
            Thread.sleep(forTimeInterval: trial == 0 ? Double.random(in: 0...0.06, using: &generator) : Double.random(in: 0...0.3, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .exit { continue }  // it finished first: nothing to check
            #expect(!FileManager.default.fileExists(atPath: out), "trial \(trial): a file at the final path after kill -9")
            let partial = out + ".partial"
            guard FileManager.default.fileExists(atPath: partial) else {
                // Killed before its header was complete: nothing was named; a new run of the path starts cleanly.
                #expect(try run(["run", "--depth", "2", "-o", out, "-q"]).status == 0)
                #expect(listing(scratch.url.path).filter { $0.hasPrefix(".k\(trial)") }.isEmpty)
                continue
            }
            do {  // closed before the resume: HDF5 would serve the renamed file from this open copy
                let file = try TrajectoryFile(path: partial)
                #expect(file.status == .running)
                // The resume state points at rows that are all on disk (a kill inside a flush may leave more).
                let state = try file.resumeState()
                #expect(state.row + 1 <= (file.datasetLength("trajectory/time") ?? 0), "trial \(trial)")
                #expect(state.weights.count == weights.count)
            }
            let result = try run(["run", "--resume", partial, "-q"])
            #expect(result.status == 0, "trial \(trial): \(result.stderr)")
            let done = try TrajectoryFile(path: out)
            #expect(done.status == .completed)
            #expect(!FileManager.default.fileExists(atPath: partial))
            let error = Reference.relativeError(try done.dataset("final/weights"), weights)
            #expect(error < 1e-9, "trial \(trial): the resumed run ends \(error) away")
            let times = try done.dataset("trajectory/time")
            #expect(times.count == rows, "trial \(trial): \(times.count) rows, expected \(rows)")
            #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 }, "trial \(trial): a row recorded twice")
            resumed += 1
        }
        #expect(resumed >= 2, "too few trials were killed in the middle of their run (\(resumed))")
    }

    @Test("gradient descent killed with -9 at seeded instants: --resume continues it bit for bit (weights, every column)")
    func descentKillNineAndResume() throws {
        let scratch = try Scratch()
        let arguments = ["descent", "--lr", "0.01", "--steps", "20000", "--output-times", "2000", "--flush-interval", "0", "-q"]
        let reference = scratch.path("reference.h5")
        #expect(try run(arguments + ["-o", reference]).status == 0)
        let expected = try TrajectoryFile(path: reference)
        var generator = SeededGenerator(seed: 7)
        var resumed = 0
        for trial in 0..<3 {
            let out = scratch.path("gd\(trial).h5")
            let process = try launch(arguments + ["-o", out])
            waitForPartial(out, of: process)
            Thread.sleep(forTimeInterval: Double.random(in: 0...0.5, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            guard process.terminationReason == .uncaughtSignal, FileManager.default.fileExists(atPath: out + ".partial") else { continue }
            // A new descent on the same path is refused and says how to resume.
            let again = try run(arguments + ["-o", out])
            #expect(again.status == 2 && again.stderr.contains("gradflow run --resume"), "\(again.stderr)")
            let result = try run(["run", "--resume", out + ".partial", "-q"])
            #expect(result.status == 0, "trial \(trial): \(result.stderr)")
            let done = try TrajectoryFile(path: out)
            #expect(done.status == .completed)
            #expect(try done.dataset("final/weights").map(\.bitPattern) == expected.dataset("final/weights").map(\.bitPattern), "trial \(trial)")
            for (a, b) in zip(try expected.trajectoryColumns(), try done.trajectoryColumns()) {
                #expect(a.name == b.name && a.values.map(\.bitPattern) == b.values.map(\.bitPattern), "trial \(trial): \(a.name)")
            }
            for name in ["trajectory/conservation_drift_abs", "trajectory/conservation_drift_predicted"] {
                #expect(try done.dataset(name).map(\.bitPattern) == expected.dataset(name).map(\.bitPattern), "trial \(trial): \(name)")
            }
            resumed += 1
        }
        #expect(resumed >= 2, "too few trials were killed in the middle of their run (\(resumed))")
    }

    @Test("a partial whose HDF5 object header was torn (a kill inside a flush): resume keeps it aside and runs again from t = 0",
          .enabled(if: ProcessResult.python != nil, "needs python3 with h5py to find the header to tear"))
    func tornPartialRestarts() throws {
        let scratch = try Scratch()
        let reference = scratch.path("reference.h5")
        #expect(try run(interruptibleRun + ["-o", reference]).status == 0)
        let out = scratch.path("torn.h5")
        let process = try launch(interruptibleRun + ["-o", out])
        waitForPartial(out, of: process)
        Thread.sleep(forTimeInterval: 0.1)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        guard FileManager.default.fileExists(atPath: out + ".partial") else { return }
        // Flip one byte inside /trajectory/excess_risk's object header: its checksum no longer holds.
        let tear = """
            import h5py, sys
            f = h5py.File(sys.argv[1], 'r'); addr = h5py.h5o.get_info(f['trajectory/excess_risk'].id).addr; f.close()
            with open(sys.argv[1], 'r+b') as fh:
                fh.seek(addr + 20); b = fh.read(1); fh.seek(addr + 20); fh.write(bytes([b[0] ^ 0xff]))
            """
        #expect(try ProcessResult.run("/usr/bin/env", ["python3", "-c", tear, out + ".partial"]).status == 0)
        let result = try run(["run", "--resume", out + ".partial"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("kept as \(out).partial.damaged"), "\(result.stdout)")
        #expect(FileManager.default.fileExists(atPath: out + ".partial.damaged"))
        let done = try TrajectoryFile(path: out)
        #expect(done.status == .completed)
        let error = Reference.relativeError(try done.dataset("final/weights"), try TrajectoryFile(path: reference).dataset("final/weights"))
        #expect(error < 1e-12, "\(error)")
    }

    // MARK: disk full and size limits

    @Test("ulimit -f (EFBIG): exit 1 and one line naming the file and the time; the partial keeps its last flush and resumes")
    func fileSizeLimit() throws {
        let scratch = try Scratch()
        let out = scratch.path("big.h5")
        let limited = try ProcessResult.run("/bin/bash", ["-c", "ulimit -f 600; exec \"$0\" \"$@\"", gradflow] + interruptibleRun + ["-o", out])
        #expect(limited.status == 1, "\(limited.stderr)")
        let lines = limited.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("file-size limit") && lines[0].contains("at t = ") && lines[0].contains("big.h5.partial"),
                "\(limited.stderr)")
        #expect(!limited.stderr.contains("HDF5"))
        do {
            let file = try TrajectoryFile(path: out + ".partial")
            let state = try file.resumeState()
            #expect(state.row >= 1 && state.row + 1 == file.datasetLength("trajectory/time"), "\(state.row)")
        }
        let resumed = try run(["run", "--resume", out + ".partial", "-q"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try TrajectoryFile(path: out).status == .completed)
        // The descent and the whole-file writers meet the same limit without a trace.
        let descent = try ProcessResult.run("/bin/bash", ["-c", "ulimit -f 600; exec \"$0\" \"$@\"", gradflow,
                                                        "descent", "--lr", "0.01", "--steps", "30000", "--output-times", "3000",
                                                        "--flush-interval", "0", "-o", scratch.path("gd.h5"), "-q"])
        #expect(descent.status == 1 && descent.stderr.contains("file-size limit"), "\(descent.stderr)")
        #expect((try? TrajectoryFile(path: scratch.path("gd.h5.partial")))?.status == .running)
        let descentResumed = try run(["run", "--resume", scratch.path("gd.h5.partial"), "-q"])
        #expect(descentResumed.status == 0, "\(descentResumed.stderr)")
        #expect(try TrajectoryFile(path: scratch.path("gd.h5")).status == .completed)
    }

    @Test("a full disk (ENOSPC on a small tmpfs): exit 1, one line, never a crash; the partial resumes once there is room",
          .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func diskFull() throws {
        let scratch = try Scratch()
        let mountPoint = scratch.path("disk")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try ProcessResult.run("/bin/mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mountPoint])
        guard mount.status == 0 else { return }  // a container that forbids mounts: nothing to test here
        defer { _ = try? ProcessResult.run("/bin/umount", ["-l", mountPoint]) }
        try String(repeating: "x", count: 1000).write(toFile: mountPoint + "/r.h5", atomically: false, encoding: .utf8)
        let before = bytes(mountPoint + "/r.h5")
        let out = mountPoint + "/r.h5"
        let full = try run(interruptibleRun + ["-o", out, "--force"])
        #expect(full.status == 1, "\(full.stderr)")
        let lines = full.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("no space left on the device") && lines[0].contains("at t = "), "\(full.stderr)")
        #expect(bytes(out) == before, "--force replaced the old file although the run did not end")
        #expect(try TrajectoryFile(path: out + ".partial").status == .running)
        // A header that does not fit: nothing is left behind.
        let header = try run(["run", "--samples", "20000", "--input-dim", "20", "-o", mountPoint + "/h.h5", "-q"])
        #expect(header.status == 1 && header.stderr.contains("no space left"), "\(header.stderr)")
        #expect(listing(mountPoint).sorted() == ["r.h5", "r.h5.partial"], "\(listing(mountPoint))")
        // Room again: the partial resumes and replaces the old file.
        #expect(try ProcessResult.run("/bin/mount", ["-o", "remount,size=64m", mountPoint]).status == 0)
        let resumed = try run(["run", "--resume", out + ".partial", "-q"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try TrajectoryFile(path: out).status == .completed)
        #expect(listing(mountPoint) == ["r.h5"])
    }

    // MARK: resume

    @Test("a refused --resume changes no byte of the file (completed, descent, busy, damaged /resume)")
    func refusedResumeChangesNothing() throws {
        let scratch = try Scratch()
        let completed = scratch.path("done.h5")
        #expect(try run(["run", "--depth", "2", "-o", completed, "-q"]).status == 0)
        let descent = scratch.path("gd.h5")
        #expect(try run(["descent", "--lr", "0.01", "--steps", "50", "-o", descent, "-q"]).status == 0)
        let notTrajectory = try scratch.write("x.csv", "1,2\n3,4\n")
        for path in [completed, descent, notTrajectory, scratch.path("missing.h5")] {
            let before = bytes(path)
            let result = try run(["run", "--resume", path, "-q"])
            #expect(result.status == 2, "\(path): \(result.stderr)")
            #expect(bytes(path) == before, "\(path) changed")
            #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
        }
    }

    @Test("an interruption before the first flush, resumed: every row once (no duplicated t = 0)")
    func resumeBeforeFirstFlush() throws {
        let scratch = try Scratch()
        let path = scratch.path("early.h5")
        var config = RunConfiguration(depth: 3, solver: SolverSettings(relativeTolerance: 1e-10, absoluteTolerance: 1e-13),
                                      outputPath: path, flushInterval: 1e6)
        config.schedule = OutputSchedule(tFinal: 1e6, count: 50)
        let rows = Counter()
        #expect(throws: GradFlowError.self) {
            try GradientFlowRun.execute(config, commandLine: "test", progress: { _ in rows.value += 1 }, shouldStop: { rows.value >= 1 })
        }
        #expect(try TrajectoryFile(path: path).status == .interrupted)
        _ = try GradientFlowRun.resume(path, commandLine: "test resume")
        let times = try TrajectoryFile(path: path).dataset("trajectory/time")
        #expect(times.first == 0)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 }, "\(times.prefix(4))")
        let checkpoints = try TrajectoryFile(path: path).dataset("checkpoints/time")
        #expect(zip(checkpoints, checkpoints.dropFirst()).allSatisfy { $0 < $1 }, "\(checkpoints)")
    }

    @Test("an attribute too large for HDF5's compact storage (depth 100000) is written, not left as a stub")
    func hugeAttributes() throws {
        let scratch = try Scratch()
        let out = scratch.path("deep.h5")
        let result = try run(["run", "--depth", "20000", "--widths", "1", "--input-dim", "1", "--monitors", "none",
                              "--output-times", "3", "--t-final", "1", "-o", out, "-q"])
        #expect(result.status == 0, "\(result.stderr)")
        let file = try TrajectoryFile(path: out)
        #expect(file.status == .completed)
        guard case let .integers(widths) = try file.value("widths", in: "network") else { Issue.record("no widths"); return }
        #expect(widths.count == 20001)
    }
}

/// A small deterministic generator (SplitMix64) for seeded fault schedules.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
