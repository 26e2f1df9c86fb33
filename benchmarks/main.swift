// GradFlow's benchmark suite (issue 7): cases A–E of benchmarks/README.md, each integrated by the
// `gradflow` executable as a whole process (start-up and file output included) and by the peers of
// benchmarks/peers/peers.py on the identical problem file; plus the kernel figures against the
// memory-traffic bound. Prints the tables and writes JSON.
//
// Usage: gradflow-bench [--cases ABCDEST] [--repeats 3] [--budget 60] [--no-peers] [--json FILE] [--workdir DIR]
//                       [--monitors-baseline GRADFLOW]   (the monitor-cost figure of another build beside this one's)
//                       [--startup-baseline GRADFLOW]    (T, S and I: another build's start-up, sweeps and instruction counts,
//                                                         measured in turns with this one's)
//                       [--no-diffrax]                   (skip the diffrax peer of case A)
//                       [--sweep-points 1000] [--sweep-seeds 20]
//                       [--kernels-only]                 (only the kernel figures of the selected cases, no runs)
//                       [--threads N]                    (cases A–E: `gradflow run --threads N`, the peers with OPENBLAS_NUM_THREADS=N)
// (S: the sweep figures, T: the start-up figures; SweepFigures.swift; not in the default set: I, instruction counts
//  under valgrind, InstructionFigures.swift; K, the Jacobi/Lanczos crossover of the Lemma 2 triplets, TripletFigures.swift)
import Foundation
import CVectorKernels
import GradFlow

/// Prints a line unbuffered, also into a file: a long suite shows its progress, and a crash loses nothing.
func say(_ line: String = "") { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

var selected = "ABCDEST", repeats = 3, budget = 60.0, peers = true
var sweepPoints = 1000, sweepSeeds = 20
var jsonPath = ".build/bench/bench.json", workdir = ".build/bench"
var monitorsBaseline: String?
var startupBaseline: String?
var diffrax = true
var kernelsOnly = false
var threads = 1
var arguments = Array(CommandLine.arguments.dropFirst())
while let option = arguments.first {
    arguments.removeFirst()
    func value() -> String {
        guard let v = arguments.first else { fatalError("\(option) needs a value") }
        arguments.removeFirst()
        return v
    }
    switch option {
    case "--cases": selected = value().uppercased()
    case "--repeats": repeats = Int(value()) ?? 3
    case "--budget": budget = Double(value()) ?? 60
    case "--no-peers": peers = false
    case "--no-diffrax": diffrax = false
    case "--kernels-only": kernelsOnly = true
    case "--threads": threads = max(1, Int(value()) ?? 1)
    case "--json": jsonPath = value()
    case "--workdir": workdir = value()
    case "--monitors-baseline": monitorsBaseline = value()
    case "--startup-baseline": startupBaseline = value()
    case "--sweep-points": sweepPoints = max(1, Int(value()) ?? 1000)
    case "--sweep-seeds": sweepSeeds = max(1, Int(value()) ?? 20)
    default:
        say("usage: gradflow-bench [--cases ABCDEST] [--repeats 3] [--budget 60] [--no-peers] [--json FILE] [--workdir DIR] [--monitors-baseline GRADFLOW] [--startup-baseline GRADFLOW] [--no-diffrax] [--sweep-points 1000] [--sweep-seeds 20] [--kernels-only] [--threads 1]")
        exit(option == "--help" || option == "-h" ? 0 : 2)
    }
}

let executableFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
let gradflow = executableFolder.appendingPathComponent("gradflow").path
let peersScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("peers/peers.py").path
let diffraxScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("peers/diffrax_peer.py").path
try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true)

/// Runs a process with `posix_spawn` (Foundation's `Process` adds ≈ 50 ms per launch on Linux, more than
/// a whole GradFlow run on case A) and returns its wall time, exit status and standard output. The child
/// gets OPENBLAS_NUM_THREADS=1: `gradflow run` uses one BLAS thread here, and OpenBLAS then starts no
/// idle worker that would spin beside it.
@MainActor func run(_ executable: String, _ args: [String], blasThreads: Int = 1) throws -> (seconds: Double, status: Int32, stdout: String) {
    let outputPath = "\(workdir)/stdout.txt"
    let measured = spawnMeasured(executable, args, stdoutPath: outputPath, environment: ["OPENBLAS_NUM_THREADS": "\(blasThreads)"])
    return (measured.seconds, measured.status, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
}

func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    var num = 0.0, den = 0.0
    for i in 0..<a.count { num += (a[i] - b[i]) * (a[i] - b[i]); den += b[i] * b[i] }
    return (num / den).squareRoot()
}

func g(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)g", x) }

BLASThreads.set(1)
let bandwidth = KernelTimer.bandwidth()
let host = ProcessInfo.processInfo
say("GradFlow \(GradFlowVersion.string) benchmark, \(Date()) — \(host.activeProcessorCount) cores, "
      + "\(g(Double(host.physicalMemory) / 1073741824, 3)) GiB, one core's memory bandwidth \(g(bandwidth / 1e9)) GB/s (copy/daxpy on 256 MiB)")
say("GradFlow: `gradflow run` as a whole process, median of \(repeats); peers: benchmarks/peers/peers.py, budget \(Int(budget)) s per run\n")

// The N_Vector kernels on one and two threads (`--threads 2`), at the vector lengths of cases C and E.
var vectorKernelFigures: [[String: Any]] = []
for length in [760_200, 10_001_000] {
    let one = KernelTimer.vectorKernels(length: length, threads: 1), two = KernelTimer.vectorKernels(length: length, threads: 2)
    let bytes = Double(length) * 8
    say("vector kernels on \(length) doubles: 7-vector linear combination \(g(one.combination * 1e3)) ms on one thread, "
          + "\(g(two.combination * 1e3)) ms on two (\(g(8 * bytes / one.combination / 1e9)) → \(g(8 * bytes / two.combination / 1e9)) GB/s); "
          + "linear sum \(g(one.linearSum * 1e3)) → \(g(two.linearSum * 1e3)) ms (\(g(3 * bytes / one.linearSum / 1e9)) → \(g(3 * bytes / two.linearSum / 1e9)) GB/s)")
    vectorKernelFigures.append(["length": length, "combination7_seconds_1_thread": one.combination, "combination7_seconds_2_threads": two.combination,
                                "linear_sum_seconds_1_thread": one.linearSum, "linear_sum_seconds_2_threads": two.linearSum])
}
say("")

let launch = try (0..<5).map { _ in try run("/bin/true", []).seconds }.sorted()[2]
say("(launching a process from this driver costs \(g(launch * 1e3)) ms: /bin/true, median of 5; it is included in GradFlow's times)\n")

var report: [[String: Any]] = []
var figures: [String: Any] = [:]  // the start-up and sweep figures (SweepFigures.swift)
@MainActor func writeJSON() throws {
    let json: [String: Any] = ["version": GradFlowVersion.string, "date": ISO8601DateFormatter().string(from: Date()),
                               "cores": host.activeProcessorCount, "memory_bytes": host.physicalMemory,
                               "bandwidth_bytes_per_second": bandwidth, "repeats": repeats, "budget_seconds": budget, "cases": report,
                               "vector_kernels": vectorKernelFigures]
        .merging(figures) { $1 }
    let url = URL(fileURLWithPath: jsonPath)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]).write(to: url)
}
if selected.contains("T") {
    figures["startup"] = try StartupFigures.measure(gradflow: gradflow, baseline: startupBaseline, workdir: workdir, say: say)
    try writeJSON()
}
for c in BenchmarkCase.all where selected.contains(c.letter) {
    let problemPath = "\(workdir)/case-\(c.letter).h5", outPath = "\(workdir)/case-\(c.letter)-run.h5"
    let setup = try c.writeProblem(to: problemPath)
    let p = setup.network.shape.parameterCount
    if kernelsOnly {  // the gradient and HVP on one and two threads, nothing else (a quick look at a kernel change)
        let one = KernelTimer.kernels(setup), two = KernelTimer.kernels(setup, threads: 2)
        let bound = 16 * Double(p) / bandwidth
        say("\(c.letter): gradient \(g(one.gradient * 1e6)) µs on one thread (\(Int((100 * bound / one.gradient).rounded()))% of one core's bound), "
              + "\(g(two.gradient * 1e6)) µs on two (\(Int((100 * bound / 2 / two.gradient).rounded()))% of the two-core bound); "
              + "HVP \(g(one.hvp * 1e6)) → \(g(two.hvp * 1e6)) µs; load \(SweepFigures.loadAverage())")
        report.append(["case": c.letter, "P": p, "gradient_seconds": one.gradient, "gradient_seconds_2_threads": two.gradient,
                       "hvp_seconds": one.hvp, "hvp_seconds_2_threads": two.hvp,
                       "gradient_bound_fraction_2_threads": bound / 2 / two.gradient])
        try writeJSON()
        continue
    }
    let common = ["run", "--data", problemPath, "--init-weights", problemPath, "--monitors", "none", "--force", "-q"] + c.stopArguments
        + (threads > 1 ? ["--threads", "\(threads)"] : [])

    // GradFlow, whole process, median of `repeats`.
    var times: [Double] = []
    var peak = 0.0
    for _ in 0..<repeats {
        let r = try run(gradflow, common + ["-o", outPath])
        guard r.status == 0 else { fatalError("case \(c.letter): gradflow exited with \(r.status)") }
        times.append(r.seconds)
        if let m = r.stdout.range(of: #"peak memory ([0-9.e+]+) MiB"#, options: .regularExpression) {
            peak = Double(r.stdout[m].split(separator: " ")[2]) ?? 0
        }
    }
    let wall = times.sorted()[times.count / 2]
    let file = try TrajectoryFile(path: outPath)
    let finalWeights = try file.dataset("final/weights")
    let tFinal = try file.value("final_time", in: "solver").doubleValue ?? 0
    func counter(_ name: String) -> Int { if case .integer(let v) = try? file.value(name, in: "solver") { return v }; return 0 }
    let switchTime = try? file.value("stiffness_switch_time", in: "solver").doubleValue

    // Reference: a tight-tolerance run to the same time.
    let referencePath = "\(workdir)/case-\(c.letter)-reference.h5"
    let reference = try run(gradflow, ["run", "--data", problemPath, "--init-weights", problemPath, "--monitors", "none", "--force", "-q",
                                       "--rtol", "1e-11", "--atol", "1e-15", "--no-loss-stop", "--t-final", "\(tFinal)",
                                       "--output-times", "10", "-o", referencePath] + (threads > 1 ? ["--threads", "\(threads)"] : []))
    guard reference.status == 0 else { fatalError("case \(c.letter): the reference run failed") }
    let referenceWeights = try TrajectoryFile(path: referencePath).dataset("final/weights")
    let error = relativeError(finalWeights, referenceWeights)
    let drift = Imbalances(initialWeights: setup.initialWeights, shape: setup.network.shape).drift(at: finalWeights)
    let kernels = KernelTimer.kernels(setup)
    let gradientBytes = 16 * Double(p), hvpBytes = 24 * Double(p)

    var entry: [String: Any] = [
        "case": c.letter, "title": c.title, "P": p, "n": c.samples, "d": c.dimension, "width": c.width, "depth": c.depth,
        "init_scale": c.initScale, "t_final": tFinal, "gradflow_seconds": wall, "gradflow_runs": times, "threads": threads,
        "steps": counter("steps"), "rhs_evals": counter("rhs_evals"), "jv_evals": counter("jv_evals"),
        "final_weight_error": error, "conservation_drift_relative": drift.relative.max() ?? 0, "peak_memory_mib": peak,
        "gradient_seconds": kernels.gradient, "hvp_seconds": kernels.hvp,
        "gradient_bound_fraction": gradientBytes / bandwidth / kernels.gradient, "hvp_bound_fraction": hvpBytes / bandwidth / kernels.hvp,
    ]
    if let switchTime { entry["stiffness_switch_time"] = switchTime }
    // Both cores (issue 17, item 4): the same kernels on two threads where they are split (P ≥ 2^18), against
    // the two-core bound, twice one core's bandwidth (an upper estimate of what two cores reach).
    var twoThreads: (gradient: Double, hvp: Double)?
    if p >= Int(GF_PARALLEL_MIN) {
        let two = KernelTimer.kernels(setup, threads: 2)
        twoThreads = two
        entry["gradient_seconds_2_threads"] = two.gradient
        entry["hvp_seconds_2_threads"] = two.hvp
        entry["gradient_bound_fraction_2_threads"] = gradientBytes / (2 * bandwidth) / two.gradient
    }

    say("\(c.letter) \(c.title): n = \(c.samples), d = \(c.dimension), L = \(c.depth), widths \(c.width), s = \(g(c.initScale)), P = \(p)")
    say("  GradFlow   \(threads > 1 ? "(--threads \(threads), peers with OPENBLAS_NUM_THREADS=\(threads)) " : "")\(g(wall)) s to t = \(g(tFinal, 6))\(c.horizon == nil ? " (R − R_min = 1e-10)" : ""): \(counter("steps")) steps, "
          + "\(counter("rhs_evals")) RHS, \(counter("jv_evals")) J·v\(switchTime.map { ", explicit → BDF at t = \(g($0))" } ?? ""); "
          + "error \(g(error, 2)), Lemma 1 drift \(g(drift.relative.max() ?? 0, 2)), peak \(g(peak)) MiB")
    say("  kernels    gradient \(g(kernels.gradient * 1e6)) µs (bound \(g(gradientBytes / bandwidth * 1e6)) µs, \(Int((100 * gradientBytes / bandwidth / kernels.gradient).rounded()))%), "
          + "HVP \(g(kernels.hvp * 1e6)) µs (bound \(g(hvpBytes / bandwidth * 1e6)) µs, \(Int((100 * hvpBytes / bandwidth / kernels.hvp).rounded()))%)")
    if let two = twoThreads {
        say("  2 threads  gradient \(g(two.gradient * 1e6)) µs (two-core bound \(g(gradientBytes / (2 * bandwidth) * 1e6)) µs, "
              + "\(Int((100 * gradientBytes / (2 * bandwidth) / two.gradient).rounded()))%), HVP \(g(two.hvp * 1e6)) µs "
              + "(\(Int((100 * hvpBytes / (2 * bandwidth) / two.hvp).rounded()))%)")
    }
    // Monitor cost (issue 17, item 3): the same run with the default monitors (`--monitors all`), median of `repeats`
    // by wall time. Its `time` line gives the seconds spent in monitors and, when the rows were recorded on a second
    // thread, how long the run waited for them; the share of the wall time the monitors add is
    // 1 − (the `--monitors none` run's wall time above) / (this wall time). Cases with P ≤ 100,000 only (on C and E the
    // sharpness checkpoints alone take minutes).
    @MainActor func monitorCost(_ binary: String) throws -> (wall: Double, monitors: Double, waited: Double?, checkpoints: Int)? {
        var samples: [(wall: Double, monitors: Double, waited: Double?, checkpoints: Int)] = []
        for _ in 0..<repeats {
            let r = try run(binary, ["run", "--data", problemPath, "--init-weights", problemPath, "--force", "-q"] + c.stopArguments
                                    + ["-o", "\(workdir)/case-\(c.letter)-monitors.h5"])
            guard r.status == 0, let m = r.stdout.range(of: #"time +[0-9.e+-]+ s \(monitors [0-9.e+-]+ s[^)]* [0-9]+ sharpness"#, options: .regularExpression)
            else { return nil }
            // "time W s (monitors M s, K sharpness" or "time W s (monitors M s; rows recorded on a second thread, X s waited for; K sharpness"
            let fields = r.stdout[m].split(whereSeparator: { $0 == " " || $0 == "(" || $0 == "," || $0 == ";" }).map(String.init)
            let waited = fields.firstIndex(of: "waited").map { Double(fields[$0 - 2]) ?? .nan }
            samples.append((Double(fields[1]) ?? .nan, Double(fields[4]) ?? .nan, waited, Int(fields[fields.count - 2]) ?? 0))
        }
        return samples.sorted { $0.wall < $1.wall }[samples.count / 2]
    }
    if p <= 100_000 {
        for (label, binary, key) in [("monitors", gradflow, "monitors")] + (monitorsBaseline.map { [("baseline", $0, "monitors_baseline")] } ?? []) {
            guard let cost = try monitorCost(binary) else { say("  \(label)   n/a (the run failed or printed no time line)"); continue }
            let added = max(0, 1 - wall / cost.wall)
            entry["\(key)_wall_seconds"] = cost.wall
            entry["\(key)_seconds"] = cost.monitors
            entry["\(key)_fraction"] = cost.monitors / cost.wall
            entry["\(key)_added_fraction"] = added
            entry["\(key)_waited_seconds"] = cost.waited ?? NSNull()
            entry["\(key)_checkpoints"] = cost.checkpoints
            say("  \(label.padding(toLength: 10, withPad: " ", startingAt: 0)) default monitors: \(g(cost.wall)) s in all, \(g(cost.monitors)) s in monitors"
                  + (cost.waited.map { "; rows recorded on a second thread, which the run waited \(g($0)) s for" } ?? "")
                  + ", \(cost.checkpoints) sharpness checkpoints; they add \(Int((100 * added).rounded()))% of the wall time "
                  + "(1 − \(g(wall)) s without monitors / \(g(cost.wall)) s; target ≤ 25%)\(key == "monitors" ? "" : " — \(binary)")")
        }
    }

    if peers {
        try {  // closed before Python opens it (HDF5 locks files open for writing)
            let problem = try HDF5File.open(problemPath, writable: true)
            try problem.writeDataset("reference", referenceWeights, shape: [p])
            try problem.setAttribute("t_final", .double(tFinal))
            try problem.setAttribute("target_error", .double(max(error, 1e-14)))
            try problem.flush()
        }()
        let result = try run("python3", [peersScript, problemPath, "--budget", "\(budget)", "--repeats", "\(repeats)"], blasThreads: threads)
        if result.status == 0, let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
           let peerResults = object["peers"] as? [String: [String: Any]] {
            entry["peers"] = peerResults
            for name in ["RK45", "DOP853", "LSODA", "BDF", "GD"] {
                guard let r = peerResults[name] else { continue }
                let status = r["status"] as? String ?? "?"
                guard let seconds = r["seconds"] as? Double else { say("  \(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(status)"); continue }
                let bound = status == "budget" ? "≥ " : (r["extrapolated"] as? Bool == true ? "~ " : "")
                let detail = name == "GD" ? "η = \(g(r["eta"] as? Double ?? 0, 2)), \(r["steps"] ?? 0) steps" : "rtol \(g(r["rtol"] as? Double ?? 0, 1)), \(r["nfev"] ?? 0) RHS"
                say("  \(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(bound)\(g(seconds)) s  (\(detail), error \(g(r["error"] as? Double ?? .nan, 2)))"
                      + "  → GradFlow \(bound)\(g(seconds / wall, 3))× faster\(status == "ok" ? "" : " [\(status)]")")
            }
        } else {
            say("  peers      failed (exit \(result.status)); is python3 with numpy, scipy and h5py installed?")
        }
        // diffrax (JAX on CPU, float64), case A only (issue 17, item 5): the whole process for one solve
        // (Python, the imports, JIT compilation and the solve), the time per solve after JIT, and a vmapped
        // 1,000-point sweep's time per run after compilation (`diffrax_vmap_sweep_seconds_per_run`).
        if diffrax, c.letter == "A" {
            var record: [String: Any] = [:]
            if try run("python3", ["-c", "import jax, diffrax"]).status != 0 {
                record["status"] = "n/a: jax and diffrax are not installed (python3 -m pip install jax diffrax)"
                say("  diffrax    n/a (jax and diffrax are not installed: python3 -m pip install jax diffrax)")
            } else {
                let whole = try run("python3", [diffraxScript, problemPath, "--repeats", "0", "--sweep", "0"])
                let timed = try run("python3", [diffraxScript, problemPath, "--repeats", "\(max(repeats, 3))", "--sweep", "1000"])
                if whole.status == 0, timed.status == 0,
                   let object = try? JSONSerialization.jsonObject(with: Data(timed.stdout.utf8)) as? [String: Any] {
                    record = object
                    record["status"] = "ok"
                    record["whole_process_seconds"] = whole.seconds
                    let sweep = object["sweep"] as? [String: Any]
                    let afterJIT = object["seconds_after_jit"] as? Double ?? .nan
                    let perRun = sweep?["seconds_per_run_after_jit"] as? Double ?? .nan
                    entry["diffrax_whole_process_seconds"] = whole.seconds
                    entry["diffrax_seconds_after_jit"] = afterJIT
                    entry["diffrax_vmap_sweep_seconds_per_run"] = perRun
                    let stops = sweep?["stopped_at_loss_tol"] as? Int ?? 0
                    say("  diffrax    \(g(whole.seconds)) s whole process (Python, imports, JIT, one solve; GradFlow's process is \(g(whole.seconds / wall, 3))× faster), "
                          + "\(g(afterJIT * 1e3)) ms per solve after JIT (\(object["steps"] ?? 0) steps, stopped at t = \(g(object["t_stop"] as? Double ?? .nan, 6)))")
                    say("  diffrax    vmapped sweep of \(sweep?["points"] ?? 0) initialisations: \(g(perRun * 1e3)) ms per run after compilation "
                          + "(first call \(g(sweep?["first_call_seconds"] as? Double ?? .nan)) s; \(stops) stopped at R − R_min ≤ 1e-10) [diffrax_vmap_sweep_seconds_per_run]")
                } else {
                    record["status"] = "failed (exit \(whole.status), \(timed.status))"
                    say("  diffrax    failed (exit \(whole.status), \(timed.status))")
                }
            }
            entry["diffrax"] = record
        }
    }
    say("")
    report.append(entry)
    // Written after every case, so that an interrupted suite keeps what it measured.
    try writeJSON()
}
if selected.contains("S") {
    figures["sweeps"] = try SweepFigures.measure(gradflow: gradflow, baseline: startupBaseline, workdir: workdir, cores: host.activeProcessorCount,
                                                 flowPoints: sweepPoints, descentSeeds: sweepSeeds, say: say)
    try writeJSON()
}
if selected.contains("K") {
    figures["top_singular_triplet"] = try TripletFigures.measure(say: say)
    try writeJSON()
}
if selected.contains("I") {
    figures["instructions"] = try InstructionFigures.measure(gradflow: gradflow, baseline: startupBaseline, workdir: workdir, say: say)
    try writeJSON()
}
say("JSON: \(jsonPath)")
