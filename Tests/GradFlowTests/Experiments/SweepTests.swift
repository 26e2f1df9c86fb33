import Foundation
import GradFlow
import Testing

@Suite("Sweep grid and table")
struct SweepGridTests {
    @Test("the grid expands in order, descent points carry learning rates, shards partition it")
    func expansion() throws {
        let spec = SweepSpec(methods: ["flow", "descent"], initScales: [0.1, 0.2], learningRates: [0.01, 0.02], depths: [3], seeds: [1, 2])
        let points = try spec.points()
        #expect(points.count == 2 * 2 + 2 * 2 * 2)  // flow: scales × seeds; descent: scales × lrs × seeds
        #expect(points.map(\.index) == Array(0..<points.count))
        #expect(points.filter { $0.method == "flow" }.allSatisfy { $0.learningRate == nil })
        #expect(Set(points.filter { $0.method == "descent" }.compactMap(\.learningRate)) == [0.01, 0.02])
        let shards = try (0..<3).map { try SweepPoint.shard(points, $0, of: 3) }
        #expect(shards.flatMap { $0 }.map(\.index).sorted() == points.map(\.index))
        #expect(throws: GradFlowError.self) { try SweepPoint.shard(points, 3, of: 3) }
        #expect(throws: GradFlowError.self) { try SweepSpec(methods: ["descent"]).points() }  // no learning rate
    }

    @Test("a table survives CSV, and merging shards gives back the whole")
    func tableRoundTrip() throws {
        let points = try SweepSpec(methods: ["flow", "descent"], learningRates: [0.05], depths: [2, 3]).points()
        let rows = points.map { SweepRow(point: $0, outcome: "converged", finalTime: 1, finalLoss: 0.2, finalExcessRisk: 1e-10,
                                         finalSharpness: 3, sharpnessLowerBound: 2, sharpnessUpperBound: 4, corollary2Bound: .nan,
                                         wallTime: 0.1, file: $0.fileName, finalTestLoss: 0.3) }
        let parsed = try SweepTable.parse(SweepTable.csv(rows), source: "t")
        #expect(parsed.map(\.point) == rows.map(\.point))
        #expect(parsed.map(\.finalSharpness) == rows.map(\.finalSharpness))
        #expect(parsed.map(\.finalTestLoss) == rows.map(\.finalTestLoss))
        let merged = SweepTable.merge([Array(parsed.suffix(2)), Array(parsed.prefix(2))])
        #expect(merged.map(\.point) == rows.map(\.point))
        // A table written before the final_test_loss column still reads, without test losses (the columns
        // final_test_loss and scale_exponent, the two last, dropped).
        let legacy = SweepTable.csv(rows).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).dropLast(2).joined(separator: ",") }
        let old = try SweepTable.parse(legacy.joined(separator: "\n") + "\n", source: "old")
        #expect(old.map(\.point) == rows.map(\.point) && old.allSatisfy { $0.finalTestLoss.isNaN })
    }
}

@Suite("Sweep from the command line", .enabled(if: ProcessResult.gradflow != nil, "the gradflow executable was not built"))
struct SweepCommandTests {
    let gradflow = ProcessResult.gradflow ?? ""
    let grid = ["--methods", "flow,descent", "--init-scales", "0.2,0.3", "--lrs", "0.05", "--depths", "2,3", "--seeds", "1",
                "--flow-args", "--monitors pl,sharpness --t-final 500", "--descent-args", "--monitors pl,sharpness --steps 5000",
                "--jobs", "2", "-q"]

    /// The table without its wall times, which differ from run to run.
    func table(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            var fields = line.split(separator: ",", omittingEmptySubsequences: false)
            fields.remove(at: 16)
            return fields.joined(separator: ",")
        }
    }

    @Test("one row per grid point with its parameters; a restart skips finished runs; 3 shards merged equal the whole")
    func sweepRestartShards() throws {
        let scratch = try Scratch()
        let whole = scratch.path("whole")
        let first = try ProcessResult.run(gradflow, ["sweep"] + grid + ["-o", whole])
        #expect(first.status == 0, "\(first.stderr)")
        let rows = try SweepTable.parse(String(contentsOfFile: whole + "/summary.csv", encoding: .utf8), source: "summary")
        #expect(rows.count == 8)
        #expect(rows.allSatisfy { $0.outcome == "converged" })
        #expect(rows.filter { $0.point.method == "descent" }.allSatisfy { $0.point.learningRate == 0.05 })
        #expect(Set(rows.map(\.point.depth)) == [2, 3] && Set(rows.map(\.point.initScale)) == [0.2, 0.3])
        #expect(rows.allSatisfy { $0.finalSharpness >= $0.sharpnessLowerBound * (1 - 1e-9) })
        #expect(rows.allSatisfy { $0.finalTestLoss > 0 })  // the held-out error of the synthetic data
        // A restart runs nothing: every file already holds a final outcome.
        let modified = try FileManager.default.attributesOfItem(atPath: whole + "/run-00000.h5")[.modificationDate] as? Date
        let again = try ProcessResult.run(gradflow, ["sweep"] + grid + ["-o", whole])
        #expect(again.status == 0)
        #expect(again.stdout.contains("(8 already done)"))
        #expect(try FileManager.default.attributesOfItem(atPath: whole + "/run-00000.h5")[.modificationDate] as? Date == modified)
        // Shards in their own folder, merged.
        let sharded = scratch.path("sharded")
        for i in 1...3 {
            #expect(try ProcessResult.run(gradflow, ["sweep"] + grid + ["-o", sharded, "--shard", "\(i)/3"]).status == 0)
        }
        let merge = try ProcessResult.run(gradflow, ["merge"] + (1...3).map { sharded + "/summary-shard-\($0)-of-3.csv" }
                                          + ["-o", sharded + "/merged.csv"])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(try table(sharded + "/merged.csv") == table(whole + "/summary.csv"))
        #expect(FileManager.default.fileExists(atPath: sharded + "/merged.h5"))
    }
}
