import Foundation
import GradFlow

/// A whole process started with `posix_spawn`: its wall time, its CPU time (user + system, of it and of the
/// children it waited for, from `wait4`) and its exit status. Standard output goes to `stdoutPath`, standard
/// error is discarded. The environment is this process's, with `environment` set on top.
func spawnMeasured(_ executable: String, _ args: [String], stdoutPath: String,
                   environment extra: [String: String] = [:]) -> (seconds: Double, cpu: Double, status: Int32) {
    let r = spawnTogether([(executable, args, stdoutPath)], environment: extra)
    return (r.seconds, r.cpu, r.statuses[0])
}

/// Starts every command at once (`posix_spawn`) and waits for all of them: the wall time from the first start to the
/// last exit, their CPU times summed, and each exit status, in order.
func spawnTogether(_ commands: [(executable: String, args: [String], stdoutPath: String)],
                   environment extra: [String: String] = [:]) -> (seconds: Double, cpu: Double, statuses: [Int32]) {
    let environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { envp.forEach { free($0) } }
    let start = DispatchTime.now().uptimeNanoseconds
    var pids: [pid_t] = []
    for command in commands {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, command.stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([command.executable] + command.args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, command.executable, &actions, nil, argv, envp) == 0 else { fatalError("cannot start \(command.executable)") }
        pids.append(pid)
    }
    var cpu = 0.0, statuses: [Int32] = []
    for pid in pids {
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        cpu += Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
        statuses.append((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
    }
    return (Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9, cpu, statuses)
}

/// The start-up figures of issue 17: `gradflow --version` and a case-A run as whole processes (median of 10),
/// started as a user starts them (no OPENBLAS_NUM_THREADS set by the driver). With a `baseline` build, its runs
/// alternate with this build's (one of each in turn), so that both see the same machine.
enum StartupFigures {
    static func measure(gradflow: String, baseline: String? = nil, workdir: String, say: (String) -> Void) throws -> [String: Any] {
        let problem = "\(workdir)/startup-case-A.h5", output = "\(workdir)/startup-case-A-run.h5", stdout = "\(workdir)/startup.txt"
        let caseA = BenchmarkCase.all.first { $0.letter == "A" }!
        _ = try caseA.writeProblem(to: problem)
        let runArguments = ["run", "--data", problem, "--init-weights", problem, "--monitors", "none", "--force", "-q"] + caseA.stopArguments
            + ["-o", output]
        let binaries = [gradflow] + (baseline.map { [$0] } ?? [])
        /// The median of 10 runs of each binary, the binaries taking turns.
        func medians(_ arguments: [String]) -> [(median: Double, runs: [Double])] {
            for binary in binaries { _ = spawnMeasured(binary, arguments, stdoutPath: stdout) }  // warm the page cache
            var runs = binaries.map { _ in [Double]() }
            for _ in 0..<10 {
                for (i, binary) in binaries.enumerated() {
                    let r = spawnMeasured(binary, arguments, stdoutPath: stdout)
                    guard r.status == 0 else { fatalError("\(binary) \(arguments.joined(separator: " ")) exited with \(r.status)") }
                    runs[i].append(r.seconds)
                }
            }
            return runs.map { ($0.sorted()[4...5].reduce(0, +) / 2, $0) }
        }
        let version = medians(["--version"]), run = medians(runArguments)
        let integration = (try? TrajectoryFile(path: output).value("wall_time", in: "solver").doubleValue) ?? nil
        say("Start-up: whole processes, median of 10 (posix_spawn to exit), load \(SweepFigures.loadAverage()); command: gradflow-bench --cases T --no-peers"
            + (baseline == nil ? "" : " --startup-baseline \(baseline!)"))
        say("  gradflow --version        \(g(version[0].median * 1e3)) ms   (target ≤ 10 ms)")
        say("  case A run                \(g(run[0].median * 1e3)) ms   (target ≤ 15 ms; its integration: \(integration.map { g($0 * 1e3) } ?? "?") ms)"
            + "   gradflow \(runArguments.map { $0.hasPrefix(workdir) ? ($0 as NSString).lastPathComponent : $0 }.joined(separator: " "))")
        if let baseline {
            say("  baseline --version        \(g(version[1].median * 1e3)) ms,  case A run \(g(run[1].median * 1e3)) ms   (\(baseline), runs taking turns with this build's)")
        }
        say("")
        var figures: [String: Any] = ["version_seconds": version[0].median, "version_runs": version[0].runs, "case_a_run_seconds": run[0].median,
                                      "case_a_runs": run[0].runs, "case_a_integration_seconds": integration ?? .nan,
                                      "case_a_command": ["gradflow"] + runArguments, "loadavg": SweepFigures.loadAverage()]
        if let baseline {
            figures["baseline"] = ["binary": baseline, "version_seconds": version[1].median, "version_runs": version[1].runs,
                                   "case_a_run_seconds": run[1].median, "case_a_runs": run[1].runs]
        }
        return figures
    }
}

/// The sweep figures of issue 17: a 1,000-point flow sweep of case-A-sized problems and a descent sweep shaped
/// like the paper's Figure 1(b), each as one whole `gradflow sweep` process with one worker per core, in both
/// isolation modes, beside the ideal: the sum of the runs' integration times (`/solver` `wall_time`, measured
/// in a sweep with one worker, so that no run waits for another) divided by the cores.
enum SweepFigures {
    struct Sweep {
        var name: String
        var title: String
        var arguments: [String]
    }

    static func sweeps(flowPoints: Int, descentSeeds: Int) -> [Sweep] {
        let seeds = (1...flowPoints).map(String.init).joined(separator: ",")
        return [
         Sweep(name: "flow", title: "flow, \(flowPoints) points of case A's size (n = 50, d = 5, L = 10, widths 5, s = 0.1, --monitors none), seeds 1…\(flowPoints)",
               arguments: ["--depths", "10", "--seeds", seeds, "--run-args", "--monitors none"]),
         Sweep(name: "flow-monitors", title: "flow, the same \(flowPoints) points with the default monitors (all of them)",
               arguments: ["--depths", "10", "--seeds", seeds]),
         Sweep(name: "descent", title: "descent like Figure 1(b): 10 scales × 5 learning rates × \(descentSeeds) seeds = \(50 * descentSeeds) points (L = 5, --steps 400000 with the loss stop, --monitors sharpness)",
               arguments: ["--methods", "descent", "--init-scales", "0.05,0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.45,0.5", "--lrs", "0.01,0.02,0.03,0.05,0.1",
                           "--depths", "5", "--seeds", (1...descentSeeds).map(String.init).joined(separator: ","),
                           "--descent-args", "--steps 400000 --monitors sharpness"])]
    }

    /// The grid's arguments as a shell would show them, with a long seed list shortened.
    static func shown(_ arguments: [String]) -> String {
        arguments.map { argument in
            let items = argument.split(separator: ",")
            if items.count > 6 { return items.prefix(2).joined(separator: ",") + ",…," + items.last! }
            return argument.contains(" ") ? "\"\(argument)\"" : argument
        }.joined(separator: " ")
    }

    /// The machine's load averages (1, 5 and 15 minutes), as /proc/loadavg gives them.
    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// With `baseline` (another build's gradflow), each sweep also runs in threads mode on both builds in turn
    /// (this, baseline, baseline, this), so that the two see the same machine.
    static func measure(gradflow: String, baseline: String? = nil, workdir: String, cores: Int, flowPoints: Int, descentSeeds: Int,
                        say: (String) -> Void) throws -> [[String: Any]] {
        say("Sweeps: one `gradflow sweep` process, --jobs \(cores) (one worker per core), timed from posix_spawn to exit; ideal = Σ of the runs' "
            + "integration times (their /solver wall_time, in a --jobs 1 sweep) / \(cores) cores. Command: gradflow-bench --cases S --no-peers")
        var figures: [[String: Any]] = []
        for sweep in sweeps(flowPoints: flowPoints, descentSeeds: descentSeeds) {
            say("  \(sweep.title)")
            func timed(_ isolate: String, jobs: Int, binary: String = gradflow) throws
                -> (seconds: Double, cpu: Double, integration: Double, points: Int, outcomes: [String: Int]) {
                let folder = "\(workdir)/sweep-\(sweep.name)-\(isolate)-\(jobs)"
                try? FileManager.default.removeItem(atPath: folder)
                let r = spawnMeasured(binary, ["sweep"] + sweep.arguments + ["--isolate", isolate, "--jobs", "\(jobs)", "-q", "-o", folder],
                                      stdoutPath: "\(workdir)/sweep.txt")
                guard r.status == 0 else { fatalError("sweep \(sweep.name) --isolate \(isolate) exited with \(r.status)") }
                let rows = try SweepTable.parse(String(contentsOfFile: folder + "/summary.csv", encoding: .utf8), source: folder)
                var outcomes: [String: Int] = [:]
                for row in rows { outcomes[row.outcome, default: 0] += 1 }
                try? FileManager.default.removeItem(atPath: folder)
                return (r.seconds, r.cpu, rows.map(\.wallTime).reduce(0, +), rows.count, outcomes)
            }
            let loadBefore = loadAverage()
            let reference = try timed("threads", jobs: 1)
            let ideal = reference.integration / Double(cores)
            say("    command    gradflow sweep \(shown(sweep.arguments)) --isolate threads|processes --jobs \(cores) -q -o DIR")
            say("    ideal      Σ integration \(g(reference.integration)) s / \(cores) = \(g(ideal)) s   (the --jobs 1 sweep itself: \(g(reference.seconds)) s, CPU "
                + "\(g(reference.cpu)) s: \(g((reference.seconds - reference.integration) / Double(reference.points) * 1e3)) ms per point outside the integration)")
            var entry: [String: Any] = ["name": sweep.name, "title": sweep.title, "arguments": sweep.arguments, "points": reference.points,
                                        "jobs": cores, "integration_seconds_sum": reference.integration, "ideal_seconds": ideal,
                                        "jobs1_seconds": reference.seconds, "jobs1_cpu_seconds": reference.cpu, "outcomes": reference.outcomes]
            // The two modes with one worker per core; then threads with two per core, whose extra workers compute
            // while others wait for the disk (each run's file is fsynced, with its folder, when it is put in place).
            for (isolate, jobs, key) in [("threads", cores, "threads"), ("processes", cores, "processes"), ("threads", 2 * cores, "threads_2x_jobs")] {
                let r = try timed(isolate, jobs: jobs)
                let ratio = r.seconds / ideal
                let label = jobs == cores ? isolate : "\(isolate), --jobs \(jobs)"
                say("    \(label.padding(toLength: max(10, label.count), withPad: " ", startingAt: 0)) \(g(r.seconds)) s (CPU \(g(r.cpu)) s) = \(g(ratio, 3))× ideal"
                    + (key == "threads" ? "   (target ≤ 1.5×: \(ratio <= 1.5 ? "met" : "missed"))" : "")
                    + "; \(g(r.seconds / Double(r.points) * 1e3)) ms per point; its runs' own Σ integration \(g(r.integration)) s")
                entry[key] = ["seconds": r.seconds, "cpu_seconds": r.cpu, "ratio_to_ideal": ratio, "integration_seconds_sum": r.integration,
                              "jobs": jobs, "outcomes": r.outcomes]
            }
            // What an in-process sweep's shared HDF5 lock costs (Debian's libhdf5 is serial, so the workers' HDF5 calls
            // take turns): the same grid as one single-worker sweep per core, side by side (`--shard i/N --jobs 1`).
            if cores >= 2 {
                let folder = "\(workdir)/sweep-\(sweep.name)-shards"
                try? FileManager.default.removeItem(atPath: folder)
                let r = spawnTogether((1...cores).map { i in
                    (gradflow, ["sweep"] + sweep.arguments + ["--isolate", "threads", "--jobs", "1", "--shard", "\(i)/\(cores)", "-q", "-o", folder],
                     "\(workdir)/sweep-shard-\(i).txt")
                })
                guard r.statuses.allSatisfy({ $0 == 0 }) else { fatalError("sweep \(sweep.name) shards exited with \(r.statuses)") }
                var rows: [SweepRow] = []
                for i in 1...cores {
                    let table = "\(folder)/summary-shard-\(i)-of-\(cores).csv"
                    rows += try SweepTable.parse(String(contentsOfFile: table, encoding: .utf8), source: table)
                }
                try? FileManager.default.removeItem(atPath: folder)
                let integration = rows.map(\.wallTime).reduce(0, +), ratio = r.seconds / ideal
                say("    shards     \(g(r.seconds)) s (CPU \(g(r.cpu)) s) = \(g(ratio, 3))× ideal: \(cores) processes side by side, each --shard i/\(cores) "
                    + "--jobs 1 (no HDF5 lock shared between workers); \(rows.count) points, their runs' own Σ integration \(g(integration)) s")
                entry["shard_processes"] = ["seconds": r.seconds, "cpu_seconds": r.cpu, "ratio_to_ideal": ratio, "integration_seconds_sum": integration,
                                            "processes": cores, "points": rows.count]
            }
            if let baseline {
                var this: [(seconds: Double, cpu: Double)] = [], other: [(seconds: Double, cpu: Double)] = []
                for binary in [gradflow, baseline, baseline, gradflow] {
                    let r = try timed("threads", jobs: cores, binary: binary)
                    if binary == gradflow { this.append((r.seconds, r.cpu)) } else { other.append((r.seconds, r.cpu)) }
                }
                func mean(_ runs: [(seconds: Double, cpu: Double)]) -> (seconds: Double, cpu: Double) {
                    (runs.map(\.seconds).reduce(0, +) / Double(runs.count), runs.map(\.cpu).reduce(0, +) / Double(runs.count))
                }
                let a = mean(this), b = mean(other)
                say("    turns      threads, --jobs \(cores), this build and the baseline in turns (this, baseline, baseline, this): "
                    + "this \(this.map { g($0.seconds) }.joined(separator: ", ")) s (CPU \(this.map { g($0.cpu) }.joined(separator: ", ")) s), "
                    + "baseline \(other.map { g($0.seconds) }.joined(separator: ", ")) s (CPU \(other.map { g($0.cpu) }.joined(separator: ", ")) s): "
                    + "\(g(b.seconds / a.seconds, 3))× in wall time, \(g(b.cpu / a.cpu, 3))× in CPU (baseline / this; \(baseline))")
                entry["baseline_turns"] = ["binary": baseline, "this_seconds": this.map(\.seconds), "this_cpu_seconds": this.map(\.cpu),
                                           "baseline_seconds": other.map(\.seconds), "baseline_cpu_seconds": other.map(\.cpu)]
            }
            let loadAfter = loadAverage()
            say("    load       \(loadBefore) before, \(loadAfter) after (/proc/loadavg: 1, 5, 15 min; other work on the cores inflates every time above)")
            entry["loadavg_before"] = loadBefore
            entry["loadavg_after"] = loadAfter
            figures.append(entry)
        }
        say("")
        return figures
    }
}
