import Foundation
import GradFlow
import Testing

/// `--save-weights`: the `/weights` group holds θ(t) at every k-th row, t = 0 and the last row, and these are
/// the weights the run recorded there (its checkpoints, its initial and final weights), also across kill -9
/// and `--resume`.
@Suite("Saved weights (--save-weights) and inspect --rows", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct SavedWeightsTests {
    let gradflow = ProcessResult.gradflow ?? ""
    let small = ["--depth", "3", "--widths", "4", "--samples", "20", "--input-dim", "3", "-q"]

    func run(_ arguments: [String]) throws -> ProcessResult { try ProcessResult.run(gradflow, arguments) }

    /// The saved rows of a file: their times and their weights, one array per row.
    func saved(_ file: TrajectoryFile) throws -> (times: [Double], rows: [[Double]]) {
        let times = try file.dataset("weights/time")
        let (values, shape) = file.datasetWithShape("weights/weights")
        #expect(shape.count == 2 && shape[0] == times.count, "shape \(shape), \(times.count) times")
        let p = shape.count == 2 ? shape[1] : 1
        return (times, (0..<times.count).map { Array(values[($0 * p)..<(($0 + 1) * p)]) })
    }

    /// The checkpoint weights of a file, by time.
    func checkpoints(_ file: TrajectoryFile) throws -> [Double: [Double]] {
        let times = try file.dataset("checkpoints/time")
        let (values, shape) = file.datasetWithShape("checkpoints/weights")
        let p = shape[1]
        return Dictionary(uniqueKeysWithValues: times.enumerated().map { ($1, Array(values[($0 * p)..<(($0 + 1) * p)])) })
    }

    /// Checks the saved rows of `path` against its own record: the rows 0, k, 2k, … of `/trajectory` and its last
    /// row, the checkpoint weights at shared times, `/initial/weights` and `/final/weights`, all bit for bit.
    func checkSaved(_ path: String, every k: Int) throws {
        let file = try TrajectoryFile(path: path)
        let times = try file.dataset("trajectory/time")
        let expectedRows = Array(stride(from: 0, to: times.count, by: k)) + ((times.count - 1) % k == 0 ? [] : [times.count - 1])
        let (savedTimes, rows) = try saved(file)
        #expect(savedTimes.map(\.bitPattern) == expectedRows.map { times[$0].bitPattern }, "\(path): saved at \(savedTimes)")
        let p = try file.dataset("initial/weights").count
        #expect(rows.allSatisfy { $0.count == p })
        #expect(rows.first?.map(\.bitPattern) == (try file.dataset("initial/weights")).map(\.bitPattern), "\(path): row 0 is not θ(0)")
        #expect(rows.last?.map(\.bitPattern) == (try file.dataset("final/weights")).map(\.bitPattern), "\(path): the last row is not /final/weights")
        var shared = 0
        for (time, weights) in try checkpoints(file) {
            guard let i = savedTimes.firstIndex(of: time) else { continue }
            #expect(rows[i].map(\.bitPattern) == weights.map(\.bitPattern), "\(path): t = \(time)")
            shared += 1
        }
        #expect(shared >= 2, "\(path): only \(shared) checkpoint times are saved rows")
    }

    @Test("run: every k-th row, t = 0 and the last; the rows equal the checkpoints', θ(0) and the final weights bit for bit")
    func flowRows() throws {
        let scratch = try Scratch()
        for (option, k) in [(["--save-weights", "3"], 3), (["--save-weights"], 1), (["--save-weights", "7"], 7)] {
            let out = scratch.path("flow-\(k).h5")
            let result = try run(["run"] + small + ["--no-loss-stop", "--t-final", "50", "--output-times", "25", "--checkpoint-every", "3",
                                                    "-o", out] + option)
            #expect(result.status == 0, "\(result.stderr)")
            try checkSaved(out, every: k)
            let config = try TrajectoryFile(path: out).attribute("config")
            #expect(config.contains("\"saveWeights\":\(k)"), "\(config)")
        }
        // Without the option there is no group.
        let plain = scratch.path("plain.h5")
        #expect(try run(["run"] + small + ["--t-final", "5", "-o", plain]).status == 0)
        #expect(try TrajectoryFile(path: plain).datasetLength("weights/weights") == nil)
    }

    @Test("descent and compare: the same rows, in both of compare's trajectory files")
    func descentAndCompare() throws {
        let scratch = try Scratch()
        let descent = scratch.path("gd.h5")
        let result = try run(["descent"] + small + ["--lr", "0.05", "--steps", "400", "--output-times", "30", "--loss-tol", "0",
                                                    "--checkpoint-every", "4", "--save-weights", "4", "-o", descent])
        #expect(result.status == 0, "\(result.stderr)")
        try checkSaved(descent, every: 4)
        let comparison = scratch.path("cmp.h5")
        let compared = try run(["compare"] + small + ["--lr", "0.05", "--steps", "200", "--output-times", "20", "--checkpoint-every", "2",
                                                      "--save-weights", "2", "-o", comparison])
        #expect(compared.status == 0, "\(compared.stderr)")
        for path in [scratch.path("cmp-flow.h5"), scratch.path("cmp-descent.h5")] { try checkSaved(path, every: 2) }
    }

    @Test("a flow killed with -9 and resumed has the /weights of the uninterrupted run at every time")
    func flowKillAndResume() throws {
        let scratch = try Scratch()
        let arguments = interruptibleRun + ["--save-weights", "7"]
        let reference = scratch.path("reference.h5")
        #expect(try run(arguments + ["-o", reference]).status == 0)
        let expected = try saved(TrajectoryFile(path: reference))
        let resumed = try killedAndResumed(arguments, name: "k", seed: 4242, delays: 0.05...0.3) { out, trial in
            let got = try saved(TrajectoryFile(path: out))
            #expect(got.times.map(\.bitPattern) == expected.times.map(\.bitPattern), "trial \(trial): saved at other times")
            for (a, b) in zip(got.rows, expected.rows) {
                #expect(Reference.relativeError(a, b) < 1e-9, "trial \(trial)")
            }
            try checkSaved(out, every: 7)
        }
        #expect(resumed >= 1, "no trial was killed in the middle of its run")
    }

    @Test("a descent killed with -9 and resumed has the /weights of the uninterrupted run, bit for bit")
    func descentKillAndResume() throws {
        let scratch = try Scratch()
        let arguments = ["descent", "--lr", "0.01", "--steps", "20000", "--output-times", "2000", "--flush-interval", "0",
                         "--save-weights", "9", "-q"]
        let reference = scratch.path("reference.h5")
        #expect(try run(arguments + ["-o", reference]).status == 0)
        let expected = try saved(TrajectoryFile(path: reference))
        let resumed = try killedAndResumed(arguments, name: "gd", seed: 99, delays: 0.05...0.5) { out, trial in
            let got = try saved(TrajectoryFile(path: out))
            #expect(got.times.map(\.bitPattern) == expected.times.map(\.bitPattern), "trial \(trial)")
            #expect(got.rows.map { $0.map(\.bitPattern) } == expected.rows.map { $0.map(\.bitPattern) }, "trial \(trial)")
        }
        #expect(resumed >= 1, "no trial was killed in the middle of its run")
    }

    /// Up to 4 trials, until 2 are resumed: `arguments` started on `NAMEi.h5`, killed with -9 a seeded delay after
    /// its partial appears, resumed (`run --resume`), then handed to `check`. Returns how many were resumed.
    func killedAndResumed(_ arguments: [String], name: String, seed: UInt64, delays: ClosedRange<Double>,
                          check: (_ path: String, _ trial: Int) throws -> Void) throws -> Int {
        let scratch = try Scratch()
        var generator = SeededGenerator(seed: seed)
        var resumed = 0
        for trial in 0..<4 where resumed < 2 {
            let out = scratch.path("\(name)\(trial).h5")
            let process = try ProcessResult.launch(gradflow, arguments + ["-o", out])
            let deadline = Date().addingTimeInterval(20)
            while !FileManager.default.fileExists(atPath: out + ".partial") && process.isRunning && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.002)
            }
            Thread.sleep(forTimeInterval: Double.random(in: delays, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            guard process.terminationReason == .uncaughtSignal, FileManager.default.fileExists(atPath: out + ".partial") else { continue }
            let result = try run(["run", "--resume", out + ".partial", "-q"])
            #expect(result.status == 0, "trial \(trial): \(result.stderr)")
            try check(out, trial)
            resumed += 1
        }
        return resumed
    }

    @Test("inspect --rows 2 prints at most 2 checkpoint rows (and 2 trajectory rows) and the size of /weights")
    func inspectRows() throws {
        let scratch = try Scratch()
        let out = scratch.path("many.h5")
        #expect(try run(["run"] + small + ["--no-loss-stop", "--t-final", "20", "--output-times", "20", "--checkpoint-every", "1",
                                           "--save-weights", "5", "-o", out]).status == 0)
        let file = try TrajectoryFile(path: out)
        let checkpointCount = file.datasetLength("checkpoints/time") ?? 0
        #expect(checkpointCount == 21)
        let result = try run(["inspect", out, "--rows", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        func rows(after prefix: String) -> [String] {
            guard let start = lines.firstIndex(where: { $0.hasPrefix(prefix) }) else { return [] }
            // The header line of column names, then the rows: indented lines that start with a number.
            return lines[(start + 1)...].prefix { $0.hasPrefix("  ") }.filter { Double($0.split(separator: " ").first ?? "") != nil }
        }
        let checkpointRows = rows(after: "/checkpoints:")
        #expect(!checkpointRows.isEmpty && checkpointRows.count <= 2, "\(checkpointRows)")
        let trajectoryRows = rows(after: "/trajectory:")
        #expect(!trajectoryRows.isEmpty && trajectoryRows.count <= 2, "\(trajectoryRows)")
        let p = try file.dataset("initial/weights").count
        // 21 rows (t = 0 and 20 output times): rows 0, 5, 10, 15 and 20, the last.
        #expect(lines.contains { $0.hasPrefix("/weights: 5 saved rows × \(p) parameters") }, "\(result.stdout)")
        let refused = try run(["inspect", out, "--rows", "0"])
        #expect(refused.status == 2 && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
    }

    @Test("bad --save-weights and --scale-exponent: exit 2, one line, no file")
    func badOptions() throws {
        let scratch = try Scratch()
        let cases: [([String], String)] = [
            (["run", "--save-weights", "0"], "--save-weights 0: must be at least 1"),
            (["run", "--save-weights", "-3"], "--save-weights -3: must be at least 1"),
            (["descent", "--lr", "0.1", "--save-weights", "0"], "--save-weights 0: must be at least 1"),
            (["compare", "--lr", "0.1", "--save-weights", "-3"], "--save-weights -3: must be at least 1"),
            (["run", "--scale-exponent", "nan"], "--scale-exponent nan: must be a finite number"),
            (["run", "--scale-exponent", "0.5", "--init", "spectral"], "--scale-exponent 0.5: multiplies the scale"),
            (["run", "--scale-exponent", "0.5", "--depth", "1"], "--scale-exponent 0.5: needs a hidden width h: --depth 1 has no hidden layer"),
        ]
        for (arguments, message) in cases {
            let out = scratch.path("out.h5")
            let result = try run(arguments + ["-o", out, "-q"])
            #expect(result.status == 2, "\(arguments): exit \(result.status)")
            #expect(result.stderr.hasPrefix("gradflow: error: " + message) && result.stderr.split(separator: "\n").count == 1,
                    "\(arguments): \(result.stderr)")
            for name in listing(scratch.url.path) { Issue.record("\(arguments) left \(name)") }
        }
    }
}
