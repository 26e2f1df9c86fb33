import Foundation
import GradFlow
import Testing

/// `RecordingThread`: rows recorded on a second thread while the dynamics goes on give the file that recording on
/// the run's own thread gives, bit for bit (`.always` takes the second thread on any machine, one core included).
@Suite("Recording on a second thread: the same bits, the same failures")
struct RecordingThreadTests {
    /// Every dataset of `/trajectory` (the per-layer ones included), of `/checkpoints`, `/final` and `/resume` of two
    /// files, compared bit for bit; the names of those that differ (or exist in one file only).
    static func differences(_ a: String, _ b: String) throws -> [String] {
        let x = try TrajectoryFile(path: a), y = try TrajectoryFile(path: b)
        var differing: [String] = []
        for group in ["trajectory", "checkpoints", "final", "resume"] {
            let names = x.datasetNames(in: group)
            if names != y.datasetNames(in: group) { differing.append("the datasets of /\(group)") }
            for name in names {
                let one = x.datasetWithShape(group + "/" + name), two = y.datasetWithShape(group + "/" + name)
                if one.shape != two.shape || one.values.map(\.bitPattern) != two.values.map(\.bitPattern) { differing.append(group + "/" + name) }
            }
        }
        return differing
    }

    static func config(_ path: String, descent: Bool) -> RunConfiguration {
        var config = RunConfiguration(depth: 4, widths: [6, 6, 6], solver: SolverSettings(relativeTolerance: 1e-9, absoluteTolerance: 1e-12),
                                      outputPath: path, flushInterval: 0)
        config.schedule = OutputSchedule(tFinal: 1e6, count: 120)
        config.lossTolerance = nil
        config.sharpness.checkpointEvery = 7
        if descent {
            config.descent = DescentSettings(learningRate: 0.02, steps: 6000)
            config.schedule = OutputSchedule(tFinal: 6000 * 0.02, count: 120)
        }
        return config
    }

    @Test("gradient flow and descent (with its η² drift rows) write the same bits on one thread and on two", arguments: [false, true])
    func sameBits(descent: Bool) throws {
        let scratch = try Scratch()
        let one = scratch.path("one.h5"), two = scratch.path("two.h5")
        let waits: [Double?]
        if descent {
            waits = [try GradientDescentRun.execute(Self.config(one, descent: true), commandLine: "test", recordingThread: .never).report.monitorWait,
                     try GradientDescentRun.execute(Self.config(two, descent: true), commandLine: "test", recordingThread: .always).report.monitorWait]
        } else {
            waits = [try GradientFlowRun.execute(Self.config(one, descent: false), commandLine: "test", recordingThread: .never).report.monitorWait,
                     try GradientFlowRun.execute(Self.config(two, descent: false), commandLine: "test", recordingThread: .always).report.monitorWait]
        }
        #expect(waits[0] == nil && waits[1] != nil, "\(waits)")
        #expect(try TrajectoryFile(path: two).datasetLength("trajectory/time") ?? 0 > 60)
        let differing = try Self.differences(one, two)
        #expect(differing.isEmpty, "\(differing)")
    }

    @Test("a run that follows its rows (onRow) records them on its own thread, and sees every one")
    func onRowKeepsOneThread() throws {
        let scratch = try Scratch()
        let rows = Counter()
        let summary = try GradientFlowRun.execute(Self.config(scratch.path("rows.h5"), descent: false), commandLine: "test",
                                                  onRow: { row in #expect(!row.monitors.isEmpty); rows.value += 1 },
                                                  recordingThread: .always)
        #expect(summary.report.monitorWait == nil)
        #expect(rows.value == summary.report.rows)
    }

    @Test("interrupted on two threads, the run resumes to the weights of the run on one, bit for bit")
    func interruptedResumesBitForBit() throws {
        let scratch = try Scratch()
        let reference = scratch.path("reference.h5"), cut = scratch.path("cut.h5")
        let full = try GradientDescentRun.execute(Self.config(reference, descent: true), commandLine: "test", recordingThread: .never)
        let rows = Counter()
        #expect(throws: GradFlowError.self) {
            try GradientDescentRun.execute(Self.config(cut, descent: true), commandLine: "test", progress: { _ in rows.value += 1 },
                                           shouldStop: { rows.value >= 50 }, recordingThread: .always)
        }
        #expect(try TrajectoryFile(path: cut).status == .interrupted)
        let resumed = try GradientDescentRun.resume(cut, commandLine: "test resume", recordingThread: .always)
        #expect(resumed.report.rows == full.report.rows)
        #expect(try TrajectoryFile(path: cut).dataset("final/weights").map(\.bitPattern)
                == TrajectoryFile(path: reference).dataset("final/weights").map(\.bitPattern))
        let columns = try TrajectoryFile(path: cut).trajectoryColumns(), expected = try TrajectoryFile(path: reference).trajectoryColumns()
        let differing = zip(columns, expected).filter { $0.values.map(\.bitPattern) != $1.values.map(\.bitPattern) }.map(\.0.name)
        #expect(differing.isEmpty, "\(differing)")
    }
}

/// Which runs of the executable record on a second thread: the time line says so.
@Suite("Recording on a second thread from the command line", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct RecordingThreadCommandTests {
    let gradflow = ProcessResult.gradflow ?? ""
    let run = ["run", "--depth", "4", "--widths", "20", "--output-times", "60"]

    @Test("a run uses the second core when it has one; not with one CPU, --no-monitor-thread, --threads 2, or in a processes sweep's points")
    func whoUsesIt() throws {
        let scratch = try Scratch()
        let marker = "rows recorded on a second thread"
        if ProcessInfo.processInfo.activeProcessorCount >= 2 {
            let two = try ProcessResult.run(gradflow, run + ["-o", scratch.path("two.h5"), "-q"])
            #expect(two.status == 0 && two.stdout.contains(marker), "\(two.stdout)")
        }
        let one = try ProcessResult.run("/usr/bin/taskset", ["-c", "0", gradflow] + run + ["-o", scratch.path("one.h5"), "-q"])
        #expect(one.status == 0 && one.stdout.contains("time") && !one.stdout.contains(marker), "\(one.stdout)\(one.stderr)")
        for extra in [["--no-monitor-thread"], ["--threads", "2"]] {
            let result = try ProcessResult.run(gradflow, run + extra + ["-o", scratch.path("x.h5"), "--force", "-q"])
            #expect(result.status == 0 && !result.stdout.contains(marker), "\(extra): \(result.stdout)")
        }
        let sweep = try ProcessResult.run(gradflow, ["sweep", "--depths", "4", "--seeds", "1,2", "--isolate", "processes", "--jobs", "2",
                                                     "--run-args", "--widths 20 --output-times 60", "-q", "-o", scratch.path("sweep")])
        #expect(sweep.status == 0, "\(sweep.stderr)")
        let logs = try FileManager.default.contentsOfDirectory(atPath: scratch.path("sweep")).filter { $0.hasSuffix(".log") }
        #expect(logs.count == 2)
        for log in logs {
            let text = try String(contentsOfFile: scratch.path("sweep/" + log), encoding: .utf8)
            #expect(text.contains("time") && !text.contains(marker), "\(log): \(text)")
        }
    }
}
