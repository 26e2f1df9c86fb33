import Foundation
import GradFlow
import Testing

@Suite("Figures", .enabled(if: ProcessResult.gradflow != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/gnuplot"),
                          "the gradflow executable or gnuplot is missing"))
struct PlotTests {
    let gradflow = ProcessResult.gradflow ?? ""

    func plots(_ file: String, _ scratch: Scratch, _ name: String) throws {
        let prefix = scratch.path(name)
        let result = try ProcessResult.run(gradflow, ["plot", file, "-o", prefix])
        #expect(result.status == 0, "\(result.stderr)")
        for ext in ["png", "svg"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: prefix + "." + ext)[.size] as? Int) ?? 0
            #expect(size > 1000, "\(name).\(ext) has \(size) bytes")
        }
        let png = try Data(contentsOf: URL(fileURLWithPath: prefix + ".png")).prefix(4)
        #expect(Array(png) == [0x89, 0x50, 0x4E, 0x47])
        #expect(try String(contentsOfFile: prefix + ".svg", encoding: .utf8).contains("<svg"))
    }

    @Test("a PNG and an SVG for each kind of file; a clear error for anything else")
    func everyKind() throws {
        let scratch = try Scratch()
        let run = scratch.path("run.h5"), cmp = scratch.path("cmp.h5"), crit = scratch.path("crit.h5"), sweep = scratch.path("sw")
        #expect(try ProcessResult.run(gradflow, ["run", "--depth", "3", "-o", run, "-q"]).status == 0)
        #expect(try ProcessResult.run(gradflow, ["compare", "--lr", "0.05", "--steps", "200", "--depth", "3", "-o", cmp, "-q"]).status == 0)
        #expect(try ProcessResult.run(gradflow, ["critical-lr", "--depths", "2,3", "--bisection-steps", "3", "--steps", "3000", "-o", crit]).status == 0)
        #expect(try ProcessResult.run(gradflow, ["sweep", "--init-scales", "0.2,0.3", "--depths", "3", "--flow-args", "--monitors sharpness",
                                                 "-o", sweep, "-q"]).status == 0)
        try plots(run, scratch, "run")
        try plots(cmp, scratch, "cmp")
        try plots(crit, scratch, "crit")
        try plots(sweep + "/summary.csv", scratch, "sweep")
        let other = try scratch.write("other.csv", "1,2\n3,4\n")
        let refused = try ProcessResult.run(gradflow, ["plot", other])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("not a GradFlow trajectory, comparison, sweep or critical-lr file"))
    }
}
