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
}
