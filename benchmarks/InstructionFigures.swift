import Foundation
import GradFlow

/// Instruction counts (case letter I): `gradflow --version`, a case-A run and three 20-point sweeps (flow without and with
/// the default monitors, descent like the S case's Figure 1(b) grid), each counted by
/// `valgrind --tool=callgrind` (the `Collected` total of the whole process). Unlike times, they do not move with the
/// machine's load or speed (this machine's wall times drift by up to 30% within minutes), so a change's effect on
/// start-up and per-point overhead can be read from one run of each build. valgrind 3.19 (Debian bookworm) cannot read
/// Swift's DWARF 5, so each binary is counted through a `strip --strip-debug` copy (same code, no debug sections).
/// Reported as n/a when valgrind or strip is missing (`apt-get install valgrind`).
enum InstructionFigures {
    /// The instructions of one whole process, or nil when it failed.
    static func count(_ binary: String, _ arguments: [String], workdir: String) -> Double? {
        let log = "\(workdir)/callgrind.txt"
        let r = spawnMeasured("valgrind", ["--tool=callgrind", "--callgrind-out-file=/dev/null", "--log-file=\(log)", binary] + arguments,
                              stdoutPath: "\(workdir)/callgrind-stdout.txt")
        guard r.status == 0, let text = try? String(contentsOfFile: log, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.contains("Collected :") }),
              let value = Double(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) else { return nil }
        return value
    }

    /// Whether `name` is an executable on PATH.
    static func available(_ name: String) -> Bool {
        spawnMeasured("/bin/sh", ["-c", "command -v \(name)"], stdoutPath: "/dev/null").status == 0
    }

    static func measure(gradflow: String, baseline: String?, workdir: String, say: (String) -> Void) throws -> [String: Any] {
        say("Instructions: whole processes under valgrind --tool=callgrind (deterministic; the binaries through strip --strip-debug copies). "
            + "Command: gradflow-bench --cases I --no-peers" + (baseline.map { " --startup-baseline \($0)" } ?? ""))
        guard available("valgrind"), available("strip") else {
            say("  n/a: valgrind or strip is not installed (apt-get install valgrind)\n")
            return ["status": "n/a"]
        }
        let problem = "\(workdir)/instructions-case-A.h5"
        let caseA = BenchmarkCase.all.first { $0.letter == "A" }!
        _ = try caseA.writeProblem(to: problem)
        let seeds = (1...20).map(String.init).joined(separator: ",")
        let sweepFolder = "\(workdir)/instructions-sweep"
        let commands: [(key: String, title: String, arguments: [String])] = [
            ("version", "gradflow --version", ["--version"]),
            ("case_a_run", "case-A run (--monitors none)",
             ["run", "--data", problem, "--init-weights", problem, "--monitors", "none", "--force", "-q"] + caseA.stopArguments
                + ["-o", "\(workdir)/instructions-case-A-run.h5"]),
            ("sweep_20", "20-point flow sweep, --jobs 1 (case A's size, --monitors none)",
             ["sweep", "--depths", "10", "--seeds", seeds, "--run-args", "--monitors none", "--isolate", "threads", "--jobs", "1", "-q",
              "-o", sweepFolder]),
            ("sweep_20_monitors", "the same 20 points with the default monitors",
             ["sweep", "--depths", "10", "--seeds", seeds, "--isolate", "threads", "--jobs", "1", "-q", "-o", sweepFolder]),
            ("descent_20", "20-point descent sweep like Figure 1(b), --jobs 1 (S's grid: 5 scales × 4 rates)",
             ["sweep", "--methods", "descent", "--init-scales", "0.05,0.1,0.15,0.2,0.25", "--lrs", "0.01,0.02,0.03,0.05", "--depths", "5",
              "--seeds", "1", "--descent-args", "--steps 400000 --monitors sharpness", "--isolate", "threads", "--jobs", "1", "-q",
              "-o", sweepFolder]),
        ]
        var figures: [String: Any] = [:]
        for (label, binary) in [("this build", gradflow)] + (baseline.map { [("baseline", $0)] } ?? []) {
            let copy = "\(workdir)/instructions-\(label == "this build" ? "build" : "baseline")"
            guard spawnMeasured("strip", ["--strip-debug", "-o", copy, binary], stdoutPath: "/dev/null").status == 0 else {
                say("  n/a: strip failed on \(binary)")
                continue
            }
            var counts: [String: Double] = [:]
            for command in commands {
                try? FileManager.default.removeItem(atPath: sweepFolder)
                counts[command.key] = count(copy, command.arguments, workdir: workdir)  // nil (absent from the JSON) if it failed
            }
            try? FileManager.default.removeItem(atPath: sweepFolder)
            try? FileManager.default.removeItem(atPath: copy)
            say("  \(label) (\(binary)):")
            for command in commands {
                say("    \(command.title.padding(toLength: 64, withPad: " ", startingAt: 0)) "
                    + (counts[command.key].map { "\(g($0 / 1e6, 4)) M" } ?? "n/a (the process failed under valgrind)"))
            }
            figures[label == "this build" ? "build" : "baseline"] = ["binary": binary, "instructions": counts]
        }
        say("")
        return figures
    }
}
