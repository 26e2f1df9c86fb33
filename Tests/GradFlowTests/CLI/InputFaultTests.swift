import Foundation
import GradFlow
import Testing

/// How a faulty run of the real executable ended: its exit status, whether a signal (a trap, an abort, a
/// segfault) ended it, whether it had to be killed at the deadline (a hang), and what it printed.
struct FaultOutcome: Sendable {
    var status: Int32
    var signaled: Bool
    var timedOut: Bool
    var stdout: String
    var stderr: String
    var seconds: Double

    var errorLines: [Substring] { stderr.split(separator: "\n") }
}

/// Runs `gradflow` with a deadline (a hang fails the test instead of blocking the suite), standard input an
/// open pipe that is never written (so `/dev/stdin` is a FIFO that would block a reader), and its output
/// read while it runs.
enum Fault {
    static let gradflow = ProcessResult.gradflow ?? ""

    final class Buffer: @unchecked Sendable { var data = Data() }

    static func run(_ arguments: [String], in folder: URL? = nil, environment: [String: String] = [:],
                    timeout: Double = 30) throws -> FaultOutcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gradflow)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        let start = Date()
        try process.run()
        let outBuffer = Buffer(), errBuffer = Buffer(), group = DispatchGroup()
        for (pipe, buffer) in [(out, outBuffer), (err, errBuffer)] {
            group.enter()
            DispatchQueue.global().async {
                buffer.data = pipe.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
        }
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        group.wait()
        try? input.fileHandleForWriting.close()
        return FaultOutcome(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal, timedOut: timedOut,
                            stdout: String(decoding: outBuffer.data, as: UTF8.self), stderr: String(decoding: errBuffer.data, as: UTF8.self),
                            seconds: Date().timeIntervalSince(start))
    }

    /// Exit 2, one line `gradflow: error: …` containing every one of `messages`, no hang, no signal, and none
    /// of `outputs` written.
    static func expectRefused(_ o: FaultOutcome, _ messages: [String], outputs: [String] = [], _ context: String) {
        #expect(!o.timedOut, "\(context): hung (killed after \(Int(o.seconds)) s)")
        #expect(!o.signaled, "\(context): ended by a signal (status \(o.status)): \(o.stderr)")
        #expect(o.status == 2, "\(context): exit \(o.status): \(o.stderr)")
        #expect(o.errorLines.count == 1, "\(context): \(o.errorLines.count) lines on stderr: \(o.stderr)")
        #expect(o.stderr.hasPrefix("gradflow: error: "), "\(context): \(o.stderr)")
        for message in messages { #expect(o.stderr.contains(message), "\(context): expected \"\(message)\" in: \(o.stderr)") }
        for path in outputs { #expect(!FileManager.default.fileExists(atPath: path), "\(context): wrote \(path)") }
    }

    /// Neither a hang nor a signal, and exit 0 or exit 2 with one error line: what an incomplete file may give.
    static func expectNoCrash(_ o: FaultOutcome, _ context: String) {
        #expect(!o.timedOut, "\(context): hung")
        #expect(!o.signaled, "\(context): ended by a signal (status \(o.status)): \(o.stderr.suffix(300))")
        #expect(o.status == 0 || o.status == 2, "\(context): exit \(o.status): \(o.stderr.suffix(300))")
        if o.status == 2 {
            #expect(o.errorLines.count == 1 && o.stderr.hasPrefix("gradflow: error: "), "\(context): \(o.stderr)")
        }
    }

    /// A small, fast problem for the runs that are meant to succeed.
    static let small = ["--depth", "2", "--samples", "10", "--input-dim", "2", "-q"]
}

@Suite("Fault injection: inputs", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct InputFaultTests {
    // MARK: 1. Sizes: overflow-checked, and refused by the estimate before anything is allocated

    @Test("sizes that overflow or cannot fit are refused before any allocation, naming what drives them", arguments: [
        (["run", "--depth", "3", "--widths", "5,4294967296,4294967296,1"], ["memory ≈", "--widths 5,4294967296,4294967296,1", "more than 90% of this machine's"]),
        (["run", "--depth", "2", "--widths", "5,9223372036854775807,1"], ["memory ≈", "--widths 5,9223372036854775807,1"]),
        (["run", "--samples", "100000000000"], ["memory ≈", "the data, n = 100000000000", "--samples"]),
        (["run", "--samples", "9223372036854775807", "--input-dim", "9223372036854775807"], ["memory ≈", "more than 90% of this machine's"]),
        (["run", "--input-dim", "100000000000"], ["memory ≈", "--input-dim"]),
        (["run", "--outputs", "100000000000"], ["memory ≈", "--outputs"]),
        (["run", "--test-samples", "100000000000"], ["memory ≈", "n_test = 100000000000", "--test-samples"]),
        (["run", "--output-times", "1000000000000"], ["memory ≈", "--output-times 1000000000000", "lower --output-times"]),
        (["run", "--depth", "100000000000"], ["memory ≈", "--depth 100000000000"]),
        (["run", "--depth", "100000000", "--widths", "1"], ["memory ≈", "--depth 100000000"]),
        (["run", "--samples", "1000000000", "--condition-number", "10"], ["memory ≈", "the data, n = 1000000000"]),
        (["run", "--krylov-dim", "1000000000000"], ["--krylov-dim 1000000000000: must be in 1…500"]),
        (["descent", "--lr", "0.01", "--output-times", "1000000000000"], ["memory ≈", "--output-times 1000000000000"]),
        (["descent", "--lr", "0.01", "--samples", "100000000000"], ["memory ≈", "n = 100000000000"]),
        (["compare", "--lr", "0.01", "--steps", "1000000000", "--output-times", "100000000"], ["memory ≈", "--output-times 100000000"]),
        (["compare", "--lr", "0.01", "--depth", "3", "--widths", "5,4294967296,4294967296,1"], ["memory ≈", "--widths"]),
        (["critical-lr", "--depths", "100000000000"], ["memory ≈", "--depths 100000000000"]),
        (["sweep", "--depths", "100000000000"], ["memory ≈", "--depths 100000000000", "at point 0"]),
    ])
    func sizes(arguments: [String], messages: [String]) throws {
        let scratch = try Scratch()
        let out = scratch.path(arguments[0] == "sweep" ? "sweep-out" : "out.h5")
        let o = try Fault.run(arguments + ["-o", out], timeout: 20)
        Fault.expectRefused(o, messages, outputs: [out], arguments.joined(separator: " "))
        #expect(o.seconds < 10, "\(arguments): took \(o.seconds) s (the estimate must come before the work)")
    }

    @Test("large limits that allocate nothing by themselves still run")
    func harmlessLargeLimits() throws {
        let scratch = try Scratch()
        for extra in [["--lanczos-max", "1000000000000"], ["--checkpoint-every", "1000000000000"], ["--max-steps", "1000000000000"]] {
            let out = scratch.path("ok.h5")
            let o = try Fault.run(["run"] + Fault.small + extra + ["-o", out, "--force"])
            #expect(o.status == 0 && !o.signaled && !o.timedOut, "\(extra): \(o.stderr)")
        }
    }

    // MARK: 2. Thread counts

    @Test("refused thread counts: exit 2 before OpenBLAS starts anything", arguments: [
        ["run", "--threads", "0"], ["run", "--threads=-1"], ["run", "--threads", "257"], ["run", "--threads", "100000"],
        ["run", "--threads", "9223372036854775807"], ["descent", "--lr", "0.01", "--threads", "0"], ["descent", "--lr", "0.01", "--threads", "257"],
        ["compare", "--lr", "0.01", "--threads=-5"], ["compare", "--lr", "0.01", "--threads", "1000"],
    ])
    func refusedThreads(arguments: [String]) throws {
        let scratch = try Scratch()
        let out = scratch.path("out.h5")
        let o = try Fault.run(arguments + ["-o", out])
        let value = arguments.last!.replacingOccurrences(of: "--threads=", with: "")
        Fault.expectRefused(o, ["--threads \(value): must be in 1…256"], outputs: [out], arguments.joined(separator: " "))
    }

    @Test("an accepted large thread count and garbage OPENBLAS_NUM_THREADS neither hang nor crash", arguments: [
        (["run", "--threads", "256"], [String: String]()), (["descent", "--lr", "0.05", "--threads", "200"], [:]),
        (["compare", "--lr", "0.05", "--steps", "50", "--threads", "256"], [:]),
        (["run"], ["OPENBLAS_NUM_THREADS": "100000"]), (["run"], ["OPENBLAS_NUM_THREADS": "abc"]),
        (["run"], ["OPENBLAS_NUM_THREADS": "-3"]), (["run"], ["OPENBLAS_NUM_THREADS": "99999999999999999999999"]),
        (["run", "--threads", "256"], ["OPENBLAS_NUM_THREADS": "100000", "GOTO_NUM_THREADS": "100000", "OMP_NUM_THREADS": "100000"]),
    ])
    func acceptedThreads(arguments: [String], environment: [String: String]) throws {
        let scratch = try Scratch()
        let out = scratch.path("out.h5")
        let o = try Fault.run(arguments + Fault.small + ["-o", out], environment: environment, timeout: 60)
        #expect(!o.timedOut && !o.signaled, "\(arguments) \(environment): \(o.stderr)")
        #expect(o.status == 0, "\(arguments) \(environment): exit \(o.status): \(o.stderr)")
        #expect(FileManager.default.fileExists(atPath: out))
    }

    @Test("the thread cap is OpenBLAS' compiled maximum, and the help says so")
    func threadCap() throws {
        #expect(BLASThreads.maximum >= 1 && BLASThreads.maximum <= 256)
        #expect(throws: GradFlowError.invalidConfiguration(field: .threads, value: "0", reason: "must be in 1…256")) { try BLASThreads.validate(0) }
        let help = try Fault.run(["run", "--help"])
        #expect(help.stdout.contains("MAX_THREADS"))
    }

    // MARK: 3. Non-regular input files

    /// Paths of every kind that is not a regular file, made in `scratch` (a socket only when python3 can bind one).
    static func nonRegular(_ scratch: Scratch) throws -> [(String, String)] {
        let fifo = scratch.path("fifo")
        #expect(mkfifo(fifo, 0o644) == 0)
        let folder = scratch.path("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let link = scratch.path("link-to-fifo")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: fifo)
        var kinds = [(fifo, "a FIFO"), (folder, "a folder"), ("/dev/zero", "a character device"), ("/dev/stdin", "a FIFO"), (link, "a FIFO")]
        let socket = scratch.path("socket")
        if let r = try? ProcessResult.run("/usr/bin/env", ["python3", "-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", socket]),
           r.status == 0 {
            kinds.append((socket, "a socket"))
        }
        return kinds
    }

    @Test("a FIFO, folder, device, /dev/stdin or socket is refused before it is opened, by every reader", arguments: [
        ["run", "--data", "@"], ["run", "--init-weights", "@"], ["descent", "--lr", "0.01", "--data", "@"],
        ["compare", "--lr", "0.01", "--init-weights", "@"], ["critical-lr", "--data", "@"], ["sweep", "--spec", "@"],
        ["merge", "@"], ["plot", "@"], ["inspect", "@"], ["run", "--resume", "@"],
    ])
    func nonRegularFiles(arguments: [String]) throws {
        let scratch = try Scratch()
        for (path, kind) in try Self.nonRegular(scratch) {
            let out = scratch.path("out")
            let args = arguments.map { $0 == "@" ? path : $0 } + (["inspect", "merge"].contains(arguments[0]) ? [] : ["-o", out])
            let o = try Fault.run(args, timeout: 10)
            Fault.expectRefused(o, ["\(path): cannot be read: is not a regular file (\(kind))"], outputs: [out], args.joined(separator: " "))
        }
    }

    @Test("a symbolic link to a regular file reads; a dangling one is 'no such file'")
    func symbolicLinks() throws {
        let scratch = try Scratch()
        let csv = try scratch.write("d.csv", (0..<8).map { i in "\(Double(i)),\(Double(i * i % 5)),\(Double(i) * 0.5 + 1)" }.joined(separator: "\n") + "\n")
        let good = scratch.path("good.csv"), dangling = scratch.path("dangling.csv")
        try FileManager.default.createSymbolicLink(atPath: good, withDestinationPath: csv)
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: scratch.path("nothing.csv"))
        let ok = try Fault.run(["run", "--data", good, "--depth", "2", "-q", "-o", scratch.path("ok.h5")])
        #expect(ok.status == 0, "\(ok.stderr)")
        for arguments in [["run", "--data", dangling], ["run", "--init-weights", dangling], ["inspect", dangling], ["plot", dangling],
                          ["sweep", "--spec", dangling], ["merge", dangling], ["run", "--resume", dangling]] {
            let out = scratch.path("out")
            let args = arguments + (["inspect", "merge"].contains(arguments[0]) ? [] : ["-o", out])
            Fault.expectRefused(try Fault.run(args, timeout: 10), ["\(dangling): no such file"], outputs: [out], args.joined(separator: " "))
        }
    }

    // MARK: 4. Gradient-descent step counts that cannot finish

    @Test("a step count that cannot finish is refused, naming the count", arguments: [
        (["descent", "--lr", "1e-10", "--t-final", "1e300"], ["--t-final 1e+300 --lr 1e-10: needs K = ⌈t-final/η⌉ ≈ 1e+310 steps, more than the 10000000000"]),
        (["descent", "--lr", "1e-3", "--t-final", "1e12"], ["needs K = ⌈t-final/η⌉ ≈ 1e+15 steps"]),
        (["descent", "--lr", "1", "--t-final", "20000000000"], ["needs K = ⌈t-final/η⌉ ≈ 2e+10 steps"]),
        (["descent", "--lr", "5e-324", "--t-final", "1"], ["needs K = ⌈t-final/η⌉ ≈", "e+323 steps"]),
        (["descent", "--lr", "0.01", "--steps", "10000000001"], ["--steps 10000000001: more than the 10000000000 steps gradient descent takes at most"]),
        (["descent", "--lr", "0.01", "--steps", "9223372036854775807"], ["--steps 9223372036854775807: more than the 10000000000"]),
        (["compare", "--lr", "1e-10", "--t-final", "1e5"], ["--t-final 100000.0 --lr 1e-10: needs K = ⌈t-final/η⌉ ≈ 1e+15 steps"]),
        (["compare", "--lr", "0.01", "--steps", "99999999999"], ["--steps 99999999999: more than the 10000000000"]),
        (["critical-lr", "--steps", "100000000000"], ["--steps 100000000000: more than the 10000000000"]),
        (["sweep", "--methods", "descent", "--lrs", "0.01", "--depths", "2", "--descent-args", "--steps 100000000000"],
         ["--descent-args --steps 100000000000: more than the 10000000000", "at point 0"]),
        (["sweep", "--methods", "flow,descent", "--lrs", "1e-10", "--depths", "2", "--descent-args", "--t-final 1e300"],
         ["--descent-args --t-final 1e+300 --lr 1e-10: needs K", "at point 1"]),
        (["descent", "--lr", "1e305"], ["--lr 1e+305: the horizon K·η = 100000·η is not a finite time"]),
    ])
    func stepCounts(arguments: [String], messages: [String]) throws {
        let scratch = try Scratch()
        let out = scratch.path("out")
        let o = try Fault.run(arguments + ["-o", out], timeout: 20)
        Fault.expectRefused(o, messages, outputs: [out], arguments.joined(separator: " "))
    }

    @Test("a smaller --steps beside an impossible --t-final is the count, and runs")
    func smallerStepsWins() throws {
        let scratch = try Scratch()
        let out = scratch.path("gd.h5")
        let o = try Fault.run(["descent", "--lr", "1e-10", "--t-final", "1e300", "--steps", "20"] + Fault.small + ["-o", out])
        #expect(o.status == 0, "\(o.stderr)")
        #expect(o.stdout.contains("20 steps"), "\(o.stdout)")
    }

    // MARK: 5. plot and inspect on incomplete files

    /// The parts removed by h5py from a trajectory of the real binary (python3 + h5py; skipped without them).
    static let damages = ["no-loss", "no-sharpness", "no-checkpoint-time", "no-checkpoints", "no-problem", "no-network-attributes",
                          "no-bounds-attributes", "no-trajectory", "root-only", "zero-rows", "short-loss", "short-time",
                          "short-checkpoints", "empty-drift", "scalar-loss", "group-loss", "text-loss", "text-bound", "no-final",
                          "no-resume"]

    /// `name`, a copy of `base` damaged by h5py.
    static func damaged(_ name: String, base: String, python: String) throws -> String {
        let script = """
            import h5py, shutil, sys, numpy as np
            base, name = sys.argv[1], sys.argv[2]
            def delete(*names):
                def edit(h):
                    for n in names: del h[n]
                return edit
            def no_attributes(group):
                def edit(h):
                    for a in list(h[group].attrs): del h[group].attrs[a]
                return edit
            def root_only(h):
                for k in list(h.keys()): del h[k]
            def zero_rows(h):
                for k in h['trajectory']: h['trajectory'][k].resize(0, axis=0)
            def shorten(name, rows):
                def edit(h): h[name].resize(rows, axis=0)
                return edit
            def replace(name, value):
                def edit(h):
                    del h[name]; h[name] = value
                return edit
            def group_for(name):
                def edit(h):
                    del h[name]; h.create_group(name)
                return edit
            edits = {
                'no-loss': delete('trajectory/loss'), 'no-sharpness': delete('checkpoints/sharpness'),
                'no-checkpoint-time': delete('checkpoints/time'), 'no-checkpoints': delete('checkpoints'),
                'no-problem': delete('problem'), 'no-network-attributes': no_attributes('network'),
                'no-bounds-attributes': no_attributes('bounds'), 'no-trajectory': delete('trajectory'), 'root-only': root_only,
                'zero-rows': zero_rows, 'short-loss': shorten('trajectory/loss', 2), 'short-time': shorten('trajectory/time', 1),
                'short-checkpoints': shorten('checkpoints/sharpness', 1),
                'empty-drift': replace('trajectory/conservation_drift_abs', np.zeros((4, 0))),
                'scalar-loss': replace('trajectory/loss', 3.0), 'group-loss': group_for('trajectory/loss'),
                'text-loss': replace('trajectory/loss', np.array([b'a', b'b'])),
                'text-bound': lambda h: h['bounds'].attrs.__setitem__('sharpness_lower_bound', 'x'),
                'no-final': delete('final'), 'no-resume': delete('resume'),
            }
            path = base[:-3] + '-' + name + '.h5'
            shutil.copy(base, path)
            with h5py.File(path, 'r+') as h: edits[name](h)
            print(path)
            """
        let r = try ProcessResult.run(python, ["python3", "-c", script, base, name])
        #expect(r.status == 0, "\(name): \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// An incomplete file made with the library's HDF5 layer (no h5py needed).
    static func crafted(_ name: String, in scratch: Scratch) throws -> String {
        let path = scratch.path(name + ".h5")
        let root = try HDF5File.create(path, overwrite: true)
        try root.setAttribute("format", .string("gradflow-trajectory"))
        switch name {
        case "ragged-columns":
            let t = try root.createGroup("trajectory")
            try t.writeDataset("time", [0, 1, 2, 3, 4], shape: [5])
            try t.writeDataset("loss", [1, 0.5], shape: [2])
            try t.writeDataset("excess_risk", [], shape: [0])
            let c = try root.createGroup("checkpoints")
            try c.writeDataset("time", [0, 4], shape: [2])
            try c.writeDataset("sharpness", [3], shape: [1])
        case "empty-trajectory":
            _ = try root.createGroup("trajectory")
        case "matrix-rows-only":
            let t = try root.createGroup("trajectory")
            try t.writeDataset("time", [0, 1, 2], shape: [3])
            try t.writeDataset("conservation_drift_abs", [1, 2], shape: [1, 2])  // fewer rows than time
            try t.writeDataset("rank1_residual", [], shape: [3, 0])
        case "odd-attributes":
            try root.createGroup("trajectory").writeDataset("time", [0, 1], shape: [2])
            try root.setAttribute("status", .integer(7))
            try root.setAttribute("format_version", .string("one"))
        default:  // attributes-only
            break
        }
        try root.flush()
        return path
    }

    static let craftedNames = ["attributes-only", "ragged-columns", "empty-trajectory", "matrix-rows-only", "odd-attributes"]

    @Test("inspect and plot on incomplete files: a table or a one-line error, never a trap",
          arguments: craftedNames + damages)
    func incompleteFile(name: String) throws {
        let scratch = try Scratch()
        let path: String
        if Self.craftedNames.contains(name) {
            path = try Self.crafted(name, in: scratch)
        } else {
            guard let python = ProcessResult.python else { return }  // h5py is not installed: the crafted cases remain
            let base = scratch.path("base.h5")
            let run = try Fault.run(["run"] + Fault.small + ["-o", base])
            #expect(run.status == 0, "\(run.stderr)")
            path = try Self.damaged(name, base: base, python: python)
        }
        Fault.expectNoCrash(try Fault.run(["inspect", path]), "inspect \(name)")
        Fault.expectNoCrash(try Fault.run(["plot", path, "-o", scratch.path("figure")], timeout: 60), "plot \(name)")
    }

    @Test("inspect shows what an incomplete file holds; plot names a file with nothing to plot")
    func incompleteFileMessages() throws {
        let scratch = try Scratch()
        let ragged = try Fault.run(["inspect", try Self.crafted("ragged-columns", in: scratch)])
        #expect(ragged.status == 0 && ragged.stdout.contains("incomplete: loss has 2 rows, excess_risk has 0 rows"), "\(ragged.stdout)")
        #expect(ragged.stdout.contains("/checkpoints: 2 sharpness checkpoints") && ragged.stdout.contains("–"), "\(ragged.stdout)")
        for name in ["attributes-only", "empty-trajectory"] {
            let path = try Self.crafted(name, in: scratch)
            let plot = try Fault.run(["plot", path, "-o", scratch.path("p-" + name)])
            Fault.expectRefused(plot, ["\(name).h5: trajectory: holds no rows to plot"], outputs: [scratch.path("p-\(name).png")], "plot \(name)")
        }
    }

    @Test("plot on incomplete comparison and critical-lr files, and a sweep table without its CSV")
    func incompleteOtherFiles() throws {
        let scratch = try Scratch()
        func file(_ name: String, format: String, _ build: (HDF5Node) throws -> Void) throws -> String {
            let path = scratch.path(name + ".h5")
            let root = try HDF5File.create(path, overwrite: true)
            try root.setAttribute("format", .string(format))
            try build(root)
            try root.flush()
            return path
        }
        let cases: [(String, String)] = [
            (try file("cmp-empty", format: "gradflow-comparison") { _ in }, "cmp-empty.h5: comparison: holds no rows to plot"),
            (try file("cmp-no-time", format: "gradflow-comparison") { root in
                try root.createGroup("comparison").writeDataset("relative_distance", [1, 2], shape: [2])
            }, "cmp-no-time.h5: comparison: holds no rows to plot"),
            (try file("clr-empty", format: "gradflow-critical-lr") { root in try root.writeDataset("critical_lr", [0.1], shape: [1]) },
             "clr-empty.h5: critical-lr table: holds no rows to plot"),
            (try file("summary", format: "gradflow-sweep") { _ in }, "summary.csv: the sweep's CSV table (beside the HDF5 copy) is needed to plot it"),
        ]
        for (path, message) in cases {
            let prefix = scratch.path("figure")
            Fault.expectRefused(try Fault.run(["plot", path, "-o", prefix]), [message], outputs: [prefix + ".png"], "plot \(path)")
        }
        let short = try file("cmp-short", format: "gradflow-comparison") { root in
            let g = try root.createGroup("comparison")
            try g.writeDataset("time", [1, 2, 3], shape: [3])
            try g.writeDataset("relative_distance", [0.1], shape: [1])
            try g.writeDataset("flow_excess_risk", [], shape: [0])
        }
        Fault.expectNoCrash(try Fault.run(["plot", short, "-o", scratch.path("short")]), "plot \(short)")
    }

    @Test("inspect --rows below 1 is refused, not a trap", arguments: ["0", "-1", "-9223372036854775808"])
    func inspectRows(rows: String) throws {
        let scratch = try Scratch()
        let out = scratch.path("r.h5")
        #expect(try Fault.run(["run"] + Fault.small + ["-o", out]).status == 0)
        Fault.expectRefused(try Fault.run(["inspect", out, "--rows=\(rows)"]), ["--rows \(rows): must be at least 1"], "inspect --rows \(rows)")
        let huge = try Fault.run(["inspect", out, "--rows", "9223372036854775807"])
        #expect(huge.status == 0 && !huge.signaled, "\(huge.stderr)")
    }

    @Test("resume of an incomplete or hand-edited file: exit 2 and one line, never a trap")
    func resumeIncomplete() throws {
        let scratch = try Scratch()
        let notTrajectory = try file(scratch, "plain.h5") { _ in }
        let completed = scratch.path("done.h5")
        #expect(try Fault.run(["run"] + Fault.small + ["-o", completed]).status == 0)
        let badConfig = try file(scratch, "bad-config.h5") { root in
            try root.setAttribute("format", .string("gradflow-trajectory"))
            try root.setAttribute("method", .string("gradient-flow"))
            try root.setAttribute("status", .string("interrupted"))
            try root.setAttribute("config", .string("{\"threads\": 0}"))
        }
        // A resumable file whose recorded configuration asks for 0 threads: refused from the file, before OpenBLAS.
        let zeroThreads = scratch.path("zero-threads.h5")
        try FileManager.default.copyItem(atPath: completed, toPath: zeroThreads)
        do {
            let root = try HDF5File.open(zeroThreads, writable: true)
            let config = try root.attribute("config").description
            #expect(config.contains("\"threads\":1"))
            try root.setAttribute("config", .string(config.replacingOccurrences(of: "\"threads\":1", with: "\"threads\":0")))
            try root.setAttribute("status", .string("interrupted"))
            try root.flush()
        }
        for (path, message) in [(zeroThreads, "zero-threads.h5: config: threads 0: must be in 1…256"),
                                (notTrajectory, "plain.h5: format: not a GradFlow trajectory file"),
                                (completed, "--resume \(completed): the run completed; there is nothing to resume"),
                                (badConfig, "bad-config.h5: config: is not a configuration this version reads")] {
            Fault.expectRefused(try Fault.run(["run", "--resume", path]), [message], "resume \(path)")
        }
    }

    func file(_ scratch: Scratch, _ name: String, _ build: (HDF5Node) throws -> Void) throws -> String {
        let path = scratch.path(name)
        let root = try HDF5File.create(path, overwrite: true)
        try build(root)
        try root.flush()
        return path
    }

    // MARK: 6. Messages name the option the user typed

    @Test("errors inside sweep, critical-lr, descent and from files name what the user gave", arguments: [
        (["sweep", "--init-scales", "0,0.1", "--depths", "2"], ["--init-scales 0.0: must be > 0 for a Gaussian initialisation", "at point 0"]),
        (["sweep", "--init-scales", "0.1,nan", "--depths", "2"], ["--init-scales nan: must be finite and ≥ 0"]),
        (["sweep", "--init-scales", "0.1,0.2,0", "--seeds", "1,2", "--depths", "2"], ["--init-scales 0.0: must be > 0", "at point 4 (run-00004.h5)"]),
        (["sweep", "--depths", "2,100000000000"], ["memory ≈", "--depths 100000000000", "at point 1 (run-00001.h5)"]),
        (["sweep", "--methods", "flow,descent", "--lrs", "0.01,1e305", "--depths", "2"], ["--lrs 1e+305: the horizon K·η", "at point 2 (run-00002.h5)"]),
        (["sweep", "--inits", "gaussian,residual", "--init-scales", "0", "--depths", "2"], ["--init-scales 0.0: must be > 0", "at point 0"]),
        (["sweep", "--methods", "descent", "--lrs", "0.01,0.02", "--descent-args", "--divergence-factor 0.5"],
         ["--descent-args --divergence-factor 0.5: must be > 1", "at point 0"]),
        (["sweep", "--flow-args", "--rtol 2", "--depths", "2"], ["--flow-args --rtol 2.0: must be in (0, 1)", "at point 0"]),
        (["sweep", "--run-args", "--bogus", "--depths", "2"], ["--run-args \"--bogus\": Unknown option '--bogus'"]),
        (["sweep", "--run-args", "--samples 0", "--depths", "2"], ["--run-args --samples 0: must be at least 1", "at point 0"]),
        (["sweep", "--run-args", "--condition-number 0.5", "--depths", "2"], ["--run-args --condition-number 0.5: must be a finite number ≥ 1"]),
        (["sweep", "--depths", "2", "--widths", "4294967296"], ["memory ≈", "--depths 2, --widths 4294967296"]),
        (["sweep", "--depths", "0"], ["--depths 0: must be at least 1"]),
        (["critical-lr", "--depths", "3", "--init-weights", "@/w2.h5"], ["--depths 3: ", "w2.h5 holds a network of depth 2"]),
        (["critical-lr", "--depths", "0"], ["--depths"]),
        (["run", "--init-weights", "@/w-zero.h5"], ["w-zero.h5: W1: has shape [0, 5]: every width must be at least 1"]),
        (["run", "--init-weights", "@/w-depth0.h5"], ["w-depth0.h5: /network/widths: [5]: the depth must be at least 1"]),
        (["run", "--init-weights", "@/w-huge.h5"], ["w-huge.h5: /network/widths: [5,4294967296,4294967296,1]: the number of parameters P"]),
        (["run", "--data", "@/p3.h5", "--depth", "2", "--widths", "3,3,1"], ["p3.h5: p: has length 3: the projection must have m_L = 1 entries"]),
        (["run", "--data", "@/pnan.h5", "--depth", "2"], ["pnan.h5: p: has [nan]: must be finite"]),
        (["descent", "--lr", "inf"], ["--lr inf: must be a finite number > 0"]),
        (["run", "--noise", "1e308"], ["--noise 1e+308: makes the targets y = X w_true + ξ·noise overflow"]),
        (["compare", "--lr", "1e308"], ["--lr 1e+308"]),
    ])
    func optionNames(arguments: [String], messages: [String]) throws {
        let scratch = try Scratch()
        let folder = try Self.namingFixtures(scratch)
        let out = scratch.path("out")
        // The output first: an option that takes any value (`--depth`) must not swallow it.
        let args = [arguments[0], "-o", out] + arguments.dropFirst().map { $0.replacingOccurrences(of: "@", with: folder) }
        Fault.expectRefused(try Fault.run(args, timeout: 20), messages, outputs: [out], arguments.joined(separator: " "))
    }

    static func namingFixtures(_ scratch: Scratch) throws -> String {
        func h5(_ name: String, _ build: (HDF5Node) throws -> Void) throws {
            let root = try HDF5File.create(scratch.path(name), overwrite: true)
            try build(root)
            try root.flush()
        }
        try h5("w2.h5") { root in
            try root.writeDataset("W1", Array(repeating: 0.1, count: 25), shape: [5, 5])
            try root.writeDataset("W2", Array(repeating: 0.1, count: 5), shape: [1, 5])
        }
        try h5("w-zero.h5") { root in
            try root.writeDataset("W1", [], shape: [0, 5])
            try root.writeDataset("W2", [], shape: [1, 0])
        }
        for (name, widths) in [("w-depth0.h5", [5]), ("w-huge.h5", [5, 4_294_967_296, 4_294_967_296, 1])] {
            try h5(name) { root in
                try root.createGroup("network").setAttribute("widths", .integers(widths))
                try root.createGroup("initial").writeDataset("weights", [1, 2, 3], shape: [3])
            }
        }
        let x = (0..<30).map { Double($0 % 7) - 3 + Double($0) * 0.01 }
        try h5("p3.h5") { root in
            try root.writeDataset("X", x, shape: [10, 3])
            try root.writeDataset("y", (0..<10).map { Double($0) }, shape: [10])
            try root.writeDataset("p", [1, 1, 1], shape: [3])
        }
        try h5("pnan.h5") { root in
            try root.writeDataset("X", x, shape: [10, 3])
            try root.writeDataset("y", (0..<10).map { Double($0) }, shape: [10])
            try root.writeDataset("p", [.nan], shape: [1])
        }
        return scratch.url.path
    }

    // MARK: 7. CSV line ends (through the binary: the problem it records is the one written)

    @Test("a CRLF, CR, mixed or BOM CSV gives the run the same X and y as the LF file", arguments: ["\r\n", "\r", "mixed", "bom"])
    func csvLineEndsThroughTheBinary(style: String) throws {
        let scratch = try Scratch()
        let rows: [[Double]] = (0..<8).map { (i: Int) -> [Double] in
            let t = Double(i)
            let x1: Double = t * 0.5 - 1, x2: Double = Double((i * 3) % 5) + 0.25, y: Double = t * 1.5 + 0.125
            return [x1, x2, y]
        }
        let lines = rows.map { $0.map { "\($0)" }.joined(separator: ",") }
        let text: String
        switch style {
        case "mixed":
            let ends = ["\n", "\r\n", "\r"]
            text = "x1,x2,y\r\n" + lines.enumerated().map { (i: Int, line: String) -> String in line + ends[i % 3] }.joined()
        case "bom": text = "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
        default: text = lines.joined(separator: style) + style
        }
        let csv = scratch.path("d.csv")
        try Data(text.utf8).write(to: URL(fileURLWithPath: csv))
        let out = scratch.path("r.h5")
        let o = try Fault.run(["run", "--data", csv, "--depth", "2", "-q", "-o", out])
        #expect(o.status == 0, "\(style): \(o.stderr)")
        let root = try HDF5File.open(out)
        let (x, xShape) = try root.readDataset("problem/X")
        let (y, _) = try root.readDataset("problem/y")
        #expect(xShape == [8, 2], "\(style)")
        #expect(x == rows.flatMap { $0.prefix(2) }, "\(style)")
        #expect(y == rows.map { $0[2] }, "\(style)")
    }

    // MARK: 8. Sweep specs, sweep exit codes, merge

    @Test("a spec with an unknown key or a value of the wrong type is refused, naming the key", arguments: [
        ("{\"depht\": [2]}", "spec: unknown key \"depht\" (known: methods, initializations, initScales, learningRates, depths"),
        ("{\"Depths\": [2]}", "spec: unknown key \"Depths\""),
        ("{\"depths\": [2], \"seed\": [1]}", "spec: unknown key \"seed\""),
        ("{\"init_scales\": [0.1]}", "spec: unknown key \"init_scales\""),
        ("{\"depths\": \"5\"}", "spec: key \"depths\" must be a list of integers"),
        ("{\"depths\": [5, \"x\"]}", "spec: key \"depths\" must be a list of integers (entry 2 is not)"),
        ("{\"depths\": [2.5]}", "spec: key \"depths\" must be a list of integers"),
        ("{\"initScales\": \"0.1\"}", "spec: key \"initScales\" must be a list of numbers"),
        ("{\"seeds\": [-1]}", "spec: key \"seeds\" must be a list of integers ≥ 0"),
        ("{\"model\": \"relu\"}", "spec: key \"model\" must be \"linear\" or \"gelu\""),
        ("{\"methods\": \"flow\"}", "spec: key \"methods\" must be a list of strings"),
        ("{\"arguments\": \"--t-final 1\"}", "spec: key \"arguments\" must be a list of strings"),
        ("{\"depths\": null}", "spec: key \"depths\" must be a list of integers, not null"),
        ("[1, 2]", "spec: is not a JSON object"),
        ("", "spec: is not a JSON object"),
        ("{\"depths\": [2]", "spec: is not a JSON object"),
        ("{\"depths\": [0]}", "spec: depths: 0 must be at least 1"),
        ("{\"methods\": [\"descend\"]}", "spec: methods: descend must be flow, descent or central"),
        ("{\"depths\": [2], \"initScales\": [0]}", "spec: initScales 0.0: must be > 0 for a Gaussian initialisation"),
        ("{\"depths\": [2], \"arguments\": [\"--steps\", \"5\"]}", "spec: arguments \"--steps 5\": Unknown option '--steps'"),
        ("{\"initScales\": [1e400], \"depths\": [2]}", "spec: key \"initScales\": 1e400 is not a finite 64-bit floating-point number"),
        ("{\"depths\": [2, 1e400]}", "spec: key \"depths\": 1e400 is not a finite 64-bit floating-point number"),
        ("{\"learningRates\": [-1E+999], \"methods\": [\"descent\"]}", "spec: key \"learningRates\": -1E+999 is not a finite"),
        ("{\"depths\": [2], \"depths\": [3]}", "spec: key \"depths\" is given twice (give each key once)"),
        ("{\"depths\": [2], \"seeds\": [1], \"seeds\": [1]}", "spec: key \"seeds\" is given twice"),
        ("{\"dep\\u0074hs\": [2], \"depths\": [3]}", "spec: key \"depths\" is given twice"),
    ])
    func specKeys(text: String, message: String) throws {
        let scratch = try Scratch()
        let spec = try scratch.write("spec.json", text)
        let out = scratch.path("sweep")
        Fault.expectRefused(try Fault.run(["sweep", "--spec", spec, "-o", out, "-q"]), ["spec.json: " + message], outputs: [out], text)
    }

    @Test("--shard out of range, malformed or at the integer limits is refused, not a trap", arguments: [
        "0/3", "4/3", "1/0", "-9223372036854775808/2", "-1/-1", "a/b", "1/2/3", "2",
    ])
    func shards(shard: String) throws {
        let scratch = try Scratch()
        let out = scratch.path("sweep")
        Fault.expectRefused(try Fault.run(["sweep", "--depths", "2", "--shard=\(shard)", "-o", out, "-q"]), ["--shard \(shard): must be i/N"],
                            outputs: [out], "--shard \(shard)")
    }

    @Test("a spec with a BOM and CRLF line ends reads")
    func specBOM() throws {
        let scratch = try Scratch()
        let spec = scratch.path("spec.json")
        try Data("\u{FEFF}{\r\n  \"depths\": [2],\r\n  \"arguments\": [\"--samples\", \"10\", \"--input-dim\", \"2\"]\r\n}\r\n".utf8)
            .write(to: URL(fileURLWithPath: spec))
        let o = try Fault.run(["sweep", "--spec", spec, "-o", scratch.path("sweep"), "-q"], timeout: 60)
        #expect(o.status == 0, "\(o.stderr)")
        #expect(o.stdout.contains("outcomes  converged 1"), "\(o.stdout)")
    }

    @Test("a sweep whose runs all fail exits non-zero (2 on bad input, 1 otherwise); partial failures are counted")
    func sweepExitCodes() throws {
        let scratch = try Scratch()
        let bad = try scratch.write("bad.csv", "1,2,3\n4,abc,6\n")
        let weights = scratch.path("w2.h5")
        #expect(try Fault.run(["run", "--depth", "2", "-q", "-o", weights]).status == 0)
        let tiny = "--samples 10 --input-dim 2"
        let cases: [([String], Int32, String)] = [
            (["--depths", "2,3", "--run-args", "--data \(bad)"], 2, "sweep: all 2 runs failed on bad input; the first"),
            (["--depths", "2", "--seeds", "1,2,3", "--run-args", "--data \(bad)"], 2, "bad.csv: line 2, column 2: \"abc\" is not a number"),
            (["--depths", "2", "--seeds", "1,2", "--run-args", tiny, "--flow-args", "--max-steps 1 --method bdf-krylov"], 1,
             "sweep: all 2 runs failed; the first"),
            (["--depths", "2,3", "--run-args", "--init-weights \(weights)"], 0, "1 of 2 runs failed (exit code ≠ 0)"),
            (["--depths", "2", "--methods", "descent", "--lrs", "5,10", "--run-args", tiny], 0, "outcomes  diverged 2"),
        ]
        for (i, (arguments, status, message)) in cases.enumerated() {
            let o = try Fault.run(["sweep"] + arguments + ["-o", scratch.path("sweep-\(i)"), "-q"], timeout: 120)
            #expect(o.status == status && !o.signaled, "\(arguments): exit \(o.status): \(o.stderr)")
            #expect((o.stdout + o.stderr).contains(message), "\(arguments): \(o.stdout) \(o.stderr)")
            if status != 0 { #expect(o.errorLines.count == 1, "\(arguments): \(o.stderr)") }
        }
    }

    /// Shard tables of a 7-point grid split in `count`, written as summary-shard-i-of-N.csv in `folder`.
    static func shardTables(_ scratch: Scratch, count: Int, folder: String = "shards") throws -> [String] {
        let points = try SweepSpec(depths: [2, 3, 4, 5, 6, 7, 8]).points()
        let directory = scratch.path(folder)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try (1...count).map { i in
            let rows = try SweepPoint.shard(points, i - 1, of: count).map {
                SweepRow(point: $0, outcome: "converged", finalTime: 1, finalLoss: 0.5, finalExcessRisk: 1e-10, finalSharpness: 2,
                         sharpnessLowerBound: 1, sharpnessUpperBound: 3, corollary2Bound: .nan, wallTime: 0.1, file: $0.fileName)
            }
            let path = (directory as NSString).appendingPathComponent("summary-shard-\(i)-of-\(count).csv")
            try SweepTable.csv(rows).write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    @Test("merge refuses tables of different sweeps, repeated shards or points, and missing shards")
    func mergeChecks() throws {
        let scratch = try Scratch()
        let three = try Self.shardTables(scratch, count: 3)
        let two = try Self.shardTables(scratch, count: 2, folder: "two")
        let copy = try Self.shardTables(scratch, count: 3, folder: "copy")
        let renamed = scratch.path("shards/summary-shard-1-of-3-copy.csv")
        try FileManager.default.copyItem(atPath: three[1], toPath: renamed)
        let misplaced = scratch.path("misplaced/summary-shard-2-of-3.csv")
        try FileManager.default.createDirectory(atPath: scratch.path("misplaced"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: three[0], toPath: misplaced)  // shard 1's points under shard 2's name
        let outOfRange = scratch.path("misplaced/summary-shard-4-of-3.csv")
        try FileManager.default.copyItem(atPath: three[0], toPath: outOfRange)
        let plainA = scratch.path("plain-a.csv"), plainB = scratch.path("plain-b.csv")
        try FileManager.default.copyItem(atPath: three[0], toPath: plainA)
        try FileManager.default.copyItem(atPath: three[0], toPath: plainB)
        let cases: [([String], [String])] = [
            ([three[0], two[1]], ["summary-shard-2-of-2.csv: shard 2 of 2: is from a sweep of 2 shards"]),
            ([three[0], three[1], three[2], three[1]], ["summary-shard-2-of-3.csv: tables: is given twice"]),
            ([three[0], three[1], three[2], copy[2]], ["copy/summary-shard-3-of-3.csv: shard 3 of 3: is given twice (also as \(three[2]))"]),
            ([three[0], misplaced, three[2]], ["misplaced/summary-shard-2-of-3.csv: line 2: point 0 does not belong to shard 2 of 3"]),
            ([three[0], three[1], outOfRange], ["summary-shard-4-of-3.csv: shard 4 of 3: the shard number must be in 1…3"]),
            ([three[0], three[2]], ["merge shard 2 of 3: missing (summary-shard-2-of-3.csv); give every shard's table, or pass --allow-missing"]),
            ([three[1]], ["merge shards 1, 3 of 3: missing"]),
            ([three[0], three[1], three[2], renamed], ["summary-shard-1-of-3-copy.csv: name: is not named summary-shard-i-of-N.csv"]),
            ([plainA, plainB], ["plain-b.csv: line 2: point 0 is also in \(plainA) (line 2)"]),
        ]
        for (tables, messages) in cases {
            let out = scratch.path("merged.csv")
            Fault.expectRefused(try Fault.run(["merge"] + tables + ["-o", out]), messages, outputs: [out, scratch.path("merged.h5")],
                                "merge \(tables.map { URL(fileURLWithPath: $0).lastPathComponent })")
        }
        let all = try Fault.run(["merge"] + three.reversed() + ["-o", scratch.path("all.csv")])
        #expect(all.status == 0 && all.stdout.contains("7 rows"), "\(all.stderr)")
        let partial = try Fault.run(["merge", three[0], three[2], "--allow-missing", "-o", scratch.path("partial.csv")])
        #expect(partial.status == 0, "\(partial.stderr)")
        #expect(partial.stderr.contains("gradflow: warning: merging without shard 2 of 3"), "\(partial.stderr)")
        #expect(try SweepTable.parse(String(contentsOfFile: scratch.path("partial.csv"), encoding: .utf8), source: "p").count == 5)
    }

    @Test("merge reads shard tables with CRLF line ends and a BOM")
    func mergeCRLF() throws {
        let scratch = try Scratch()
        let tables = try Self.shardTables(scratch, count: 2)
        for path in tables {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try Data(("\u{FEFF}" + text.replacingOccurrences(of: "\n", with: "\r\n")).utf8).write(to: URL(fileURLWithPath: path))
        }
        let o = try Fault.run(["merge"] + tables + ["-o", scratch.path("m.csv")])
        #expect(o.status == 0 && o.stdout.contains("7 rows"), "\(o.stderr)")
    }
}

@Suite("Fault injection: inputs (library)")
struct InputFaultLibraryTests {
    /// The known numbers every CSV variant below is written from.
    static let rows: [[Double]] = [[1.5, -2.25, 3], [4, 5.5, -6.75], [0.125, 8, 9], [-1, 0, 2.5]]

    @Test("CSV line ends: LF, CRLF, lone CR, mixed, trailing CRLF, BOM, header and comments give the same X and y", arguments: [
        "lf", "crlf", "cr", "mixed", "trailing-crlf", "bom-lf", "bom-crlf", "header-crlf", "comments-crlf", "blank-lines-crlf", "no-final-newline",
    ])
    func csvLineEnds(style: String) throws {
        let scratch = try Scratch()
        let lines = Self.rows.map { $0.map { "\($0)" }.joined(separator: ",") }
        let text: String
        switch style {
        case "lf": text = lines.joined(separator: "\n") + "\n"
        case "crlf": text = lines.joined(separator: "\r\n")
        case "cr": text = lines.joined(separator: "\r") + "\r"
        case "mixed": text = lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r" + lines[3] + "\r\n"
        case "trailing-crlf": text = lines.joined(separator: "\r\n") + "\r\n\r\n\r\n"
        case "bom-lf": text = "\u{FEFF}" + lines.joined(separator: "\n") + "\n"
        case "bom-crlf": text = "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
        case "header-crlf": text = "a,b,y\r\n" + lines.joined(separator: "\r\n") + "\r\n"
        case "comments-crlf": text = "# made by hand\r\n" + lines.map { $0 + "\r\n# between\r\n" }.joined()
        case "blank-lines-crlf": text = "\r\n" + lines.joined(separator: "\r\n\r\n") + "\r\n"
        default: text = lines.joined(separator: "\n")
        }
        let path = scratch.path("d.csv")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let data = try DataFile.load(path)
        #expect(data.sampleCount == 4 && data.dimension == 2, "\(style): n = \(data.sampleCount), d = \(data.dimension)")
        #expect(data.inputs == Self.rows.flatMap { $0.prefix(2) }, "\(style)")
        #expect(data.targets == Self.rows.map { $0[2] }, "\(style)")
    }

    @Test("a CRLF CSV error names the right line")
    func crlfLineNumbers() throws {
        let scratch = try Scratch()
        let path = scratch.path("bad.csv")
        try Data("1,2,3\r\n4,5,6\r\n7,x,9\r\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: GradFlowError.invalidData(file: path, field: "line 3, column 2", reason: "\"x\" is not a number")) {
            try DataFile.load(path)
        }
    }

    @Test("NetworkShape refuses a parameter count that overflows, naming the option or the file", arguments: [
        [5, 4_294_967_296, 4_294_967_296, 1], [3, Int.max, 2], [Int.max, Int.max], [2, 3_037_000_500, 3_037_000_500, 1],
    ])
    func shapeOverflow(widths: [Int]) throws {
        let text = widths.map(String.init).joined(separator: ",")
        #expect(throws: GradFlowError.invalidConfiguration(field: .widths, value: "\(text)",
                                                           reason: "the number of parameters P = Σ m_k·m_{k−1} overflows a 64-bit integer")) {
            try NetworkShape(widths: widths)
        }
        #expect(throws: GradFlowError.invalidData(file: "w.h5", field: "W1 … WL",
                                                  reason: "[\(text)]: the number of parameters P = Σ m_k·m_{k−1} overflows a 64-bit integer")) {
            try NetworkShape(widths: widths, file: "w.h5", field: "W1 … WL")
        }
    }

    @Test("the synthetic data refuse sizes whose products overflow, before drawing", arguments: [
        (Int.max, 2, 1, 0), (3, Int.max / 2, 3, 0), (4, 3, Int.max, 0), (4, 3, 1, Int.max),
    ])
    func syntheticOverflow(n: Int, d: Int, q: Int, nTest: Int) throws {
        #expect(throws: GradFlowError.self) {
            try SyntheticData(samples: n, dimension: d, outputs: q, testSamples: nTest).makeProblem()
        }
    }

    @Test("the estimate from the options alone refuses what would not fit, and accepts the defaults")
    func plan() throws {
        try MemoryEstimate.checkPlan(RunConfiguration())
        for config in [RunConfiguration(synthetic: SyntheticData(samples: 100_000_000_000)),
                       RunConfiguration(depth: 100_000_000_000),
                       RunConfiguration(schedule: OutputSchedule(tFinal: 1, count: 1_000_000_000_000)),
                       RunConfiguration(depth: 3, widths: [5, 4_294_967_296, 4_294_967_296, 1])] {
            #expect(throws: GradFlowError.self) { try config.validate() }
        }
        #expect(MemoryEstimate.bytes(RunConfiguration(), parameters: Int.max, samples: Int.max, dimension: Int.max).isFinite)
    }
}

/// The failures a hostile tester found in the second round: each case exit 2 (one line naming the option or
/// file and the value, nothing written), or exit 130 for a signal.
@Suite("Fault injection: hostile inputs, round 2", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct HostileInputTests {
    /// Runs `arguments` (with `@` the fixture folder) and expects the refusal: one line with every message, no output file.
    func refused(_ arguments: [String], _ messages: [String], folder: String = "", in scratch: Scratch, timeout: Double = 30) throws {
        let out = scratch.path(arguments[0] == "sweep" ? "sweep-out" : "out.h5")
        // The output first: an option that takes any value (`--depth`) must not swallow it.
        let args = [arguments[0], "-o", out] + arguments.dropFirst().map { $0.replacingOccurrences(of: "@", with: folder) }
        let o = try Fault.run(args, timeout: timeout)
        Fault.expectRefused(o, messages, outputs: [out, out + ".partial", scratch.path("out-flow.h5"), scratch.path("out-descent.h5")],
                            arguments.joined(separator: " "))
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).filter { $0.hasPrefix(".out") || $0.hasPrefix("out") }
        #expect(left.isEmpty, "\(arguments): left \(left)")
    }

    // MARK: 1. A non-finite R(W(0)): refused before any output exists, naming the scale or the file

    @Test("a scale or weights whose R(W(0)) overflows are refused before any file, naming --init-scale or --init-weights", arguments: [
        (["run", "--init-scale", "1e23"], ["--init-scale 1e+23: gives a non-finite initial loss R(W(0)) = inf", "L = 10 layers", "use a smaller --init-scale"]),
        (["run", "--init", "residual", "--init-scale", "1e300"], ["--init-scale 1e+300: gives a non-finite initial loss R(W(0))"]),
        (["run", "--depth", "1", "--init-scale", "1e200"], ["--init-scale 1e+200: gives a non-finite initial loss", "L = 1 layers"]),
        (["run", "--depth", "400", "--widths", "1", "--init-scale", "10"], ["--init-scale 10.0: gives a non-finite initial loss", "L = 400 layers"]),
        (["run", "--outputs", "2", "--init-scale", "1e200"], ["--init-scale 1e+200: gives a non-finite initial loss"]),
        (["run", "--init-scale", "1.7e308"], ["--init-scale 1.7e+308: gives a non-finite initial loss"]),
        (["descent", "--lr", "0.01", "--init-scale", "1e30"], ["--init-scale 1e+30: gives a non-finite initial loss"]),
        (["compare", "--lr", "0.01", "--init-scale", "1e30"], ["--init-scale 1e+30: gives a non-finite initial loss"]),
        (["critical-lr", "--depths", "3", "--init-scale", "1e200"], ["--init-scale 1e+200: gives a non-finite initial loss"]),
        (["run", "--init-weights", "@/w-big.h5"], ["--init-weights ", "w-big.h5: its weights give a non-finite initial loss", "scale them down"]),
        (["descent", "--lr", "0.01", "--init-weights", "@/w-big.h5"], ["w-big.h5: its weights give a non-finite initial loss"]),
    ])
    func overflowingInitialLoss(arguments: [String], messages: [String]) throws {
        let scratch = try Scratch()
        let root = try HDF5File.create(scratch.path("w-big.h5"), overwrite: true)
        try root.writeDataset("W1", Array(repeating: 1e200, count: 15), shape: [3, 5])  // finite, but W2·W1 = 3e400
        try root.writeDataset("W2", [1e200, 1e200, 1e200], shape: [1, 3])
        try root.flush()
        try refused(arguments, messages, folder: scratch.url.path, in: scratch)
    }

    @Test("an existing output is untouched by a refused R(W(0)), even with --force")
    func overflowKeepsTheOldFile() throws {
        let scratch = try Scratch()
        let kept = try scratch.write("kept.h5", "earlier result")
        let o = try Fault.run(["run", "--init-scale", "1e23", "--force", "-o", kept])
        Fault.expectRefused(o, ["--init-scale 1e+23"], "--force over an earlier result")
        #expect(try String(contentsOfFile: kept, encoding: .utf8) == "earlier result")
        #expect(!FileManager.default.fileExists(atPath: kept + ".partial"))
    }

    // MARK: 2. Output schedules that underflow, are denormal or collapse

    @Test("a horizon or first time whose schedule underflows or collapses is refused in validation, naming the option", arguments: [
        (["run", "--t-final", "1e-320"], ["--t-final 1e-320: the output time t_1 = ", "is below 1.4916681462400413e-154 (the square root of the smallest normal number)", "give a larger --t-final"]),
        (["run", "--t-final", "1e-155"], ["--t-final 1e-155: the output time t_1 = ", "is below 1.49"]),
        (["run", "--t-final", "1e-200", "--output-times", "1", "--method", "bdf-krylov"], ["--t-final 1e-200: the output time t_1 = 1e-200 is below"]),
        (["run", "--t-final", "5e-324"], ["--t-final 5e-324: the output time t_1"]),
        (["run", "--t-final", "1e-310", "--spacing", "uniform"], ["--t-final 1e-310: the output time t_1", "is below 1.49"]),
        (["run", "--t-final", "3e-308", "--spacing", "uniform", "--output-times", "2"], ["--t-final 3e-308: the output time t_1 = 1.5", "e-308 is below"]),
        (["run", "--t-first", "1e-320"], ["--t-first 1e-320: the output time t_1 = 1e-320 is below", "give a larger --t-first"]),
        (["run", "--t-first", "1e6"], ["--t-first 1000000.0: the output times collapse: t_2 = 1000000.0 is not after t_1", "give a smaller --t-first"]),
        (["run", "--t-final", "1", "--t-first", "0.9999999999999999", "--output-times", "50"], ["--t-first 0.9999999999999999: the output times collapse"]),
        (["run", "--t-final", "1", "--t-first", "1e-160"], ["--t-first 1e-160: the output time t_1 = 1e-160 is below"]),
        (["compare", "--lr", "1e-310", "--steps", "10"], ["--lr 1e-310: the flow is recorded at the descent's times kη", "give a larger --lr"]),
        (["sweep", "--depths", "2", "--flow-args", "--t-final 1e-320"], ["--flow-args --t-final 1e-320: the output time t_1", "at point 0"]),
    ])
    func schedules(arguments: [String], messages: [String]) throws {
        let scratch = try Scratch()
        try refused(arguments + ["-q"], messages, in: scratch)
    }

    @Test("the smallest horizons the integrators take and huge horizons still give strictly increasing times, and run")
    func usableSchedules() throws {
        for schedule in [OutputSchedule(tFinal: 1e-150), OutputSchedule(tFinal: 1e308, spacing: .uniform), OutputSchedule(tFinal: 1e308),
                         OutputSchedule(tFinal: 1e-150, count: 5, spacing: .uniform)] {
            try schedule.validateTimes()
            let times = schedule.times()
            #expect(times.last == schedule.tFinal, "\(schedule)")
            let increasing = zip(times, times.dropFirst()).allSatisfy { (a: Double, b: Double) -> Bool in a < b }
            let finite = times.allSatisfy { (t: Double) -> Bool in t.isFinite }
            #expect(increasing && finite, "\(schedule)")
        }
        // The usual schedules are the same bits as before (multiply, then divide).
        let uniform = OutputSchedule(tFinal: 10, count: 3, spacing: .uniform).times()
        let expected: [Double] = [0, 10.0 / 3, 20.0 / 3, 10]
        #expect(uniform == expected)
        let scratch = try Scratch()
        for method in ["auto", "bdf-krylov", "adams"] {  // the smallest horizons validation accepts run with every integrator
            let short = try Fault.run(["run", "--t-final", "1e-150", "--method", method] + Fault.small + ["-o", scratch.path("ok.h5"), "--force"])
            #expect(short.status == 0, "\(method): \(short.stderr)")
        }
    }

    // MARK: 4. inspect and plot on files with edited base columns

    @Test("inspect and plot refuse a finished file whose base columns are missing, text, not 1-D or resized", arguments: [
        ("no-time", "/trajectory/time: missing: every trajectory holds time, loss, excess_risk, grad_norm_sq"),
        ("no-grad", "/trajectory/grad_norm_sq: missing"),
        ("short-loss", "/trajectory/loss: has 2 rows, but /trajectory/time has"),
        ("long-excess", "/trajectory/excess_risk: has 500 rows, but /trajectory/time has"),
        ("text-loss", "/trajectory/loss: holds text or another non-numeric type, not numbers"),
        ("group-loss", "/trajectory/loss: is a group, not a column of numbers"),
        ("scalar-loss", "/trajectory/loss: has shape [], expected one value per row ([rows])"),
        ("matrix-time", "/trajectory/time: has shape [2, 3], expected one value per row"),
    ])
    func editedColumns(name: String, message: String) throws {
        guard let python = ProcessResult.python else { return }
        let scratch = try Scratch()
        let base = scratch.path("base.h5")
        #expect(try Fault.run(["run"] + Fault.small + ["-o", base]).status == 0)
        let path = try Self.edited(name, base: base, python: python)
        Fault.expectRefused(try Fault.run(["inspect", path]), [path + ": " + message], "inspect \(name)")
        let prefix = scratch.path("figure")
        Fault.expectRefused(try Fault.run(["plot", path, "-o", prefix], timeout: 60), [path + ": " + message], outputs: [prefix + ".png", prefix + ".svg"],
                            "plot \(name)")
    }

    /// A copy of `base` with its `/trajectory` edited by h5py (`name`; `status` set when given).
    static func edited(_ name: String, base: String, python: String, status: String? = nil, suffix: String = ".h5") throws -> String {
        let script = """
            import h5py, shutil, sys, numpy as np
            base, name, status, suffix = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
            def replace(name, value):
                def edit(h):
                    del h[name]; h[name] = value
                return edit
            def resize(name, rows):
                def edit(h): h[name].resize(rows, axis=0)
                return edit
            def group(name):
                def edit(h):
                    del h[name]; h.create_group(name)
                return edit
            def delete(name):
                def edit(h): del h[name]
                return edit
            def bad_checksums(h):
                s = h['resume/state'][...]; s[:, 3] += 1; h['resume/state'][...] = s
            def bad_attributes(h):
                del h['resume/state']; h['resume'].attrs['row'] = 99999
            def newer(h): h.attrs['format_version'] = np.int64(99)
            edits = {
                'no-time': delete('trajectory/time'), 'no-grad': delete('trajectory/grad_norm_sq'),
                'short-loss': resize('trajectory/loss', 2), 'long-excess': resize('trajectory/excess_risk', 500),
                'text-loss': replace('trajectory/loss', np.array([b'a', b'b'])), 'group-loss': group('trajectory/loss'),
                'scalar-loss': replace('trajectory/loss', 3.0), 'matrix-time': replace('trajectory/time', np.zeros((2, 3))),
                'bad-checksums': bad_checksums, 'bad-attributes': bad_attributes, 'newer': newer,
                'state-shape': replace('resume/state', np.zeros(3)), 'state-text': replace('resume/state', np.array([b'a', b'b'])),
                'state-rows': replace('resume/state', np.zeros((3, 40))), 'no-state-group': delete('resume'),
            }
            path = base[:-3] + '-' + name + suffix
            shutil.copy(base, path)
            with h5py.File(path, 'r+') as h:
                edits[name](h)
                if status: h.attrs['status'] = status
            print(path)
            """
        let r = try ProcessResult.run(python, ["python3", "-c", script, base, name, status ?? "", suffix])
        #expect(r.status == 0, "\(name): \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: 5. Options

    @Test("option values that were accepted or misreported: one line naming the option and the value", arguments: [
        (["run", "--widths", "-1"], ["--widths ", "width m_1 = -1 must be at least 1"]),
        (["run", "--depth", "2", "--widths=-3"], ["--widths 5,-3,1: width m_1 = -3 must be at least 1"]),
        (["run", "--widths", ""], ["--widths \"\": is empty: give one width, the L−1 hidden widths, or all L+1 widths"]),
        (["run", "--widths", " "], ["--widths \" \": is empty"]),
        (["run", "--depth", "2", "--widths", "5,,1"], ["--widths 5,,1: \"\" is not an integer"]),
        (["run", "--depth", "2", "--widths", "3,"], ["--widths 3,: \"\" is not an integer"]),
        (["descent", "--lr", "0.01", "--widths", "-2"], ["width m_1 = -2 must be at least 1"]),
        (["run", "--max-order", "0"], ["--max-order 0: must be in 1…5 for auto (the order of its BDF part)"]),
        (["run", "--max-order", "-4", "--method", "auto"], ["--max-order -4: must be in 1…5 for auto"]),
        (["run", "--max-order", "6"], ["--max-order 6: must be in 1…5 for auto"]),
        (["run", "--max-order", "0", "--method", "erk"], ["--max-order 0: must be at least 1 (erk, Dormand–Prince 5(4) throughout, does not use it)"]),
        (["compare", "--lr", "0.01", "--max-order", "-1", "--method", "erk"], ["--max-order -1: must be at least 1"]),
        (["run", "--max-order", "0", "--method", "bdf-krylov"], ["--max-order 0: must be in 1…5 for bdf-krylov"]),
        (["run", "--zero-layer", "1", "--init", "residual"], ["--zero-layer 1: has no meaning with --init residual"]),
        (["descent", "--lr", "0.01", "--zero-layer", "2", "--init", "residual"], ["--zero-layer 2: has no meaning with --init residual"]),
        (["compare", "--lr", "0.01", "--zero-layer", "1", "--init", "residual"], ["--zero-layer 1: has no meaning"]),
        (["critical-lr", "--depths", "3", "--zero-layer", "1"], ["--zero-layer 1: has no meaning with --init residual"]),
        (["sweep", "--depths", "2", "--inits", "residual", "--run-args", "--zero-layer 1"], ["--zero-layer 1: has no meaning", "at point 0"]),
        (["run", "--bogus"], ["Unknown option '--bogus'"]),
        (["descent"], ["Missing expected argument '--lr <lr>'"]),
        (["run", "--depth"], ["Missing value for '--depth <depth>'"]),
        (["run", "--depth", "x"], ["--depth"]),
        (["plot"], ["Missing expected argument '<file>'"]),
    ])
    func options(arguments: [String], messages: [String]) throws {
        let scratch = try Scratch()
        try refused(arguments, messages, in: scratch)
    }

    @Test("--zero-layer with a Gaussian initialisation and --max-order within range still run")
    func acceptedOptions() throws {
        let scratch = try Scratch()
        for extra in [["--zero-layer", "1"], ["--max-order", "3"], ["--max-order", "2", "--method", "erk"], ["--widths", "-0"]] {
            let o = try Fault.run(["run"] + Fault.small + extra + ["-o", scratch.path("ok.h5"), "--force"])
            if extra.first == "--widths" {
                Fault.expectRefused(o, ["width m_1 = 0 must be at least 1"], "\(extra)")
            } else {
                #expect(o.status == 0, "\(extra): \(o.stderr)")
            }
        }
    }

    // MARK: Standard output that cannot be written

    /// `gradflow … > /dev/full`: the summary is lost, so the command says so (one line, exit 1) instead of exiting
    /// 0; the run's file is complete and in place. `inspect`, which only prints, fails the same way, and so do
    /// `--help` and `--version`; a closed pipe likewise, once the command's files are written.
    @Test("standard output on a full device or a closed pipe: one line and exit 1, the files kept")
    func fullStandardOutput() throws {
        let scratch = try Scratch(), output = scratch.path("r.h5")
        func run(_ arguments: [String], into sink: String = "/dev/full") throws -> (status: Int32, stderr: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Fault.gradflow)
            process.arguments = arguments
            process.standardOutput = FileHandle(forWritingAtPath: sink)
            let err = Pipe()
            process.standardError = err
            try process.run()
            let data = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationReason == .exit)
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        for arguments in [["run", "--depth", "2", "--samples", "10", "--input-dim", "2", "-o", output], ["inspect", output]] {
            let (status, stderr) = try run(arguments)
            #expect(status == 1, "\(arguments[0]): exit \(status): \(stderr)")
            #expect(stderr.split(separator: "\n").filter { $0.hasPrefix("gradflow: error: ") }
                .map { $0.contains("cannot write to standard output (No space left on device)") } == [true], "\(stderr)")
            #expect(try TrajectoryFile(path: output).status == .completed)
        }
        // --help and --version too.
        for arguments in [["--version"], ["run", "--help"]] {
            let (status, stderr) = try run(arguments)
            #expect(status == 1 && stderr.contains("cannot write to standard output"), "\(arguments): exit \(status): \(stderr)")
        }
        // A sink that takes the output: exit 0.
        #expect(try run(["inspect", output], into: "/dev/null").status == 0)
        // A pipe whose reader is gone (`| true`): EPIPE is reported the same way, after the command's work is done,
        // instead of SIGPIPE ending it half-way (a sweep died with its summary claimed and nothing run).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Fault.gradflow)
        let folder = scratch.path("sweep")
        process.arguments = ["sweep", "--depths", "3", "--init-scales", "0.1,0.2", "-o", folder]
        let out = Pipe(), err = Pipe()
        try out.fileHandleForReading.close()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(process.terminationStatus): \(stderr)")
        #expect(stderr.contains("cannot write to standard output (Broken pipe)"), "\(stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(names == ["run-00000.h5", "run-00000.log", "run-00001.h5", "run-00001.log", "summary.csv", "summary.h5"], "\(names)")
    }
}
