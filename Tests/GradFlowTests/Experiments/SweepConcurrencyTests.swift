import Foundation
import GradFlow
import Testing

/// Two `gradflow sweep` commands on one folder: the summary is claimed for the whole sweep, so the second is refused
/// before it runs or overwrites anything (shards have summaries of their own and run side by side).
@Suite("Two sweeps on one folder")
struct SweepConcurrencyTests {
    @Test("a second sweep of the same grid in the same folder, while the first runs, is refused before it runs anything; the first ends whole",
          .enabled(if: ProcessResult.gradflow != nil))
    func secondSweepRefused() throws {
        let gradflow = try #require(ProcessResult.gradflow)
        let scratch = try Scratch()
        let folder = scratch.path("sweep")
        let arguments = ["sweep", "--depths", "10", "--seeds", (1...80).map(String.init).joined(separator: ","), "--run-args", "--monitors none",
                         "--jobs", "1", "-q", "-o", folder]
        let first = try ProcessResult.launch(gradflow, arguments)
        // Until the first sweep holds its summary (its locked temporary appears) and has started its runs.
        let deadline = Date().addingTimeInterval(20)
        func claimed() -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains { $0.hasPrefix(".summary.csv.tmp-") }
        }
        while !claimed() && first.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        let second = try ProcessResult.run(gradflow, arguments)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(second.status == 2, "\(second.stdout) \(second.stderr)")
        #expect(second.stderr.contains("summary.csv: another gradflow process is writing this output"), "\(second.stderr)")
        let table = try SweepTable.parse(String(contentsOfFile: folder + "/summary.csv", encoding: .utf8), source: "summary")
        #expect(table.count == 80 && table.allSatisfy { $0.outcome == "converged" })
    }

    /// Starts a `--isolate processes` sweep of `points` runs, one process each, minutes long (Adams after convergence
    /// is held to steps of about 1/S) and flushed often, and returns once every run has published its partial.
    static func launchLongProcessesSweep(points: Int, in scratch: Scratch) throws -> (Process, String) {
        let gradflow = try #require(ProcessResult.gradflow)
        let folder = scratch.path("sweep")
        let long = ["sweep", "--depths", "2", "--seeds", (1...points).map(String.init).joined(separator: ","), "--isolate", "processes",
                    "--jobs", "\(points)", "-q", "-o", folder,
                    "--run-args", "--method adams --no-loss-stop --t-final 1e7 --monitors none --flush-interval 0.05"]
        let sweep = try ProcessResult.launch(gradflow, long)
        let partials = (0..<points).map { folder + String(format: "/run-%05d.h5.partial", $0) }
        let deadline = Date().addingTimeInterval(20)
        while !partials.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) && sweep.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.005)
        }
        #expect(partials.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        return (sweep, folder)
    }

    @Test("kill -9 of a sweep with --isolate processes: its point processes end too, each closing its file as interrupted (resumable)",
          .enabled(if: ProcessResult.gradflow != nil))
    func pointProcessesEndWithTheirSweep() throws {
        let scratch = try Scratch()
        let (sweep, folder) = try Self.launchLongProcessesSweep(points: 2, in: scratch)
        let files = ["run-00000.h5", "run-00001.h5"].map { folder + "/" + $0 }
        var deadline = Date().addingTimeInterval(20)
        kill(sweep.processIdentifier, SIGKILL)
        sweep.waitUntilExit()
        // The kernel sends each point's process SIGTERM: it closes its file as interrupted, as on Ctrl-C, at its name.
        deadline = Date().addingTimeInterval(20)
        func statuses() -> [RunStatus?] { files.map { (try? TrajectoryFile(path: $0))?.status } }
        // Each process prints its summary (into its log) after it has put its file in place: wait for both.
        func logs() -> [String] { files.map { (try? String(contentsOfFile: $0.replacing(".h5", with: ".log"), encoding: .utf8)) ?? "" } }
        while (statuses() != [.interrupted, .interrupted] || !logs().allSatisfy { $0.contains("interrupted") }) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(statuses() == [.interrupted, .interrupted])
        #expect(files.allSatisfy { !FileManager.default.fileExists(atPath: $0 + ".partial") })
        #expect(logs().allSatisfy { $0.contains("interrupted") }, "\(logs())")
    }

    /// A point's process killed by a signal (the OOM killer, a `kill -9`) wrote nothing about it: its log says so, its
    /// exit code is 128 + N (a bare 9 or 2 would read as an exit code, 2 as bad input), and the sweep counts it as failed.
    @Test("a point process killed by a signal in a processes sweep: its log names the signal, exit 128 + N, counted as failed",
          .enabled(if: ProcessResult.gradflow != nil))
    func killedPointProcess() throws {
        let scratch = try Scratch()
        let (sweep, folder) = try Self.launchLongProcessesSweep(points: 1, in: scratch)
        let partial = folder + "/run-00000.h5.partial"
        // The point's process: the sweep's child (/proc/PID/task/PID/children).
        let children = (try? String(contentsOfFile: "/proc/\(sweep.processIdentifier)/task/\(sweep.processIdentifier)/children", encoding: .utf8)) ?? ""
        let child = try #require(children.split(separator: " ").first.flatMap { pid_t($0) }, "no point process: \(children)")
        kill(child, SIGKILL)
        sweep.waitUntilExit()
        let log = try String(contentsOfFile: folder + "/run-00000.log", encoding: .utf8)
        #expect(log.contains("gradflow: error: the run's process was ended by signal 9 (Killed)"), "\(log)")
        #expect(sweep.terminationStatus == 1, "a killed point is a failure, not bad input (exit 2)")
        let table = try SweepTable.parse(String(contentsOfFile: folder + "/summary.csv", encoding: .utf8), source: "summary")
        #expect(table.map(\.outcome) == ["interrupted"], "\(table.map(\.outcome))")  // its partial is kept,
        #expect(FileManager.default.fileExists(atPath: partial))  // and resumed by the same command
    }
}
