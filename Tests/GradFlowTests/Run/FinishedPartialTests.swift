import Foundation
import GradFlow
import Testing

/// A run killed after its closing flush and before its rename leaves `RUN.h5.partial` holding the whole run. It must
/// not stay stuck under that name: `gradflow run --resume` and a restarted sweep put it in place, and nothing else
/// changes (a file already at the final path is kept, a running or interrupted partial is not "finished").
@Suite("A partial file that holds a whole run (killed between the closing flush and the rename)")
struct FinishedPartialTests {
    private func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// A finished run's file moved back to its partial name, as a kill in that window leaves it.
    private func finishedPartial(in scratch: Scratch, name: String = "r.h5", extra: [String] = []) throws -> String {
        let gradflow = try #require(ProcessResult.gradflow)
        let final = scratch.path(name)
        let result = try ProcessResult.run(gradflow, ["run", "--depth", "3", "--monitors", "none", "-q", "-o", final] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        try FileManager.default.moveItem(atPath: final, toPath: final + ".partial")
        return final + ".partial"
    }

    @Test("finalize puts it in place, byte for byte; a file at the final path or a running partial is left alone",
          .enabled(if: ProcessResult.gradflow != nil))
    func finalize() throws {
        let scratch = try Scratch()
        let partial = try finishedPartial(in: scratch)
        let content = bytes(partial)
        #expect(FinishedPartial.isFinished(partial))
        #expect(!FinishedPartial.isFinished(scratch.path("r.h5")))  // not a partial name
        #expect(!FinishedPartial.isFinished(scratch.path("none.h5.partial")))
        // A file already at the final path: refused, both kept.
        let other = try scratch.write("r.h5", "another result")
        #expect(throws: GradFlowError.self) { _ = try FinishedPartial.finalize(partial) }
        #expect(bytes(other) == Data("another result".utf8) && bytes(partial) == content)
        try FileManager.default.removeItem(atPath: other)
        #expect(try FinishedPartial.finalize(partial) == scratch.path("r.h5"))
        #expect(bytes(scratch.path("r.h5")) == content && !FileManager.default.fileExists(atPath: partial))
        // A partial whose run had not ended (status running or interrupted) is not finished: --resume continues it.
        let running = try finishedPartial(in: scratch, name: "s.h5")
        do {
            let root = try HDF5File.open(running, writable: true)
            try root.setAttribute("status", .string("interrupted"))
            try root.flush()
        }
        #expect(!FinishedPartial.isFinished(running))
    }

    @Test("gradflow run --resume of such a partial: exit 0, the file in place, one line; a sweep restarted over one counts its point as done",
          .enabled(if: ProcessResult.gradflow != nil))
    func resumeAndSweep() throws {
        let gradflow = try #require(ProcessResult.gradflow)
        let scratch = try Scratch()
        let partial = try finishedPartial(in: scratch)
        let content = bytes(partial)
        let resumed = try ProcessResult.run(gradflow, ["run", "--resume", partial])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("holds a whole run (status completed)") && resumed.stdout.contains("now \(scratch.path("r.h5"))"),
                "\(resumed.stdout)")
        #expect(bytes(scratch.path("r.h5")) == content && !FileManager.default.fileExists(atPath: partial))

        let folder = scratch.path("sweep")
        let arguments = ["sweep", "--depths", "2,3", "--seeds", "1", "--run-args", "--monitors none", "-q", "-o", folder]
        #expect(try ProcessResult.run(gradflow, arguments).status == 0)
        let first = try SweepTable.parse(String(contentsOfFile: folder + "/summary.csv", encoding: .utf8), source: "first")
        let runFile = folder + "/" + first[1].file
        let runContent = bytes(runFile)
        try FileManager.default.moveItem(atPath: runFile, toPath: runFile + ".partial")
        let again = try ProcessResult.run(gradflow, arguments + ["--isolate", "threads"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("(2 already done)"), "\(again.stdout)")
        #expect(bytes(runFile) == runContent && !FileManager.default.fileExists(atPath: runFile + ".partial"))
        let second = try SweepTable.parse(String(contentsOfFile: folder + "/summary.csv", encoding: .utf8), source: "second")
        #expect(second.map(\.outcome) == ["converged", "converged"])
        #expect(second.map(\.finalLoss) == first.map(\.finalLoss))
    }
}
